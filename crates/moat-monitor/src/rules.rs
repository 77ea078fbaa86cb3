//! The rule language: YAML files of lists, macros and rules (in the spirit of Falco's),
//! whose conditions are CEL expressions (the Common Expression Language that Kubernetes
//! uses) over typed event fields. See docs/monitor.md.
//!
//! - `- list: NAME` / `items: [..]`: a name usable in conditions; it stands for the CEL
//!   list literal of its items (`proc.name in shell_binaries`).
//! - `- macro: NAME` / `condition: EXPR`: a name that stands for `(EXPR)`; macros may use
//!   lists and earlier macros.
//! - `- rule: NAME` / `condition`, `output`, `priority`, optional `desc`, `tags`,
//!   `enabled`: an alert when the condition is true for an event. `output` may name
//!   fields as `%proc.cmdline`. `action: isolate|pause|stop|kill|snapshot` names the
//!   response `moat monitor --respond` takes on the alert's container.
//!
//! A later file may redefine a list, macro or rule of an earlier one (same name).

use moat_model::Severity;
use moat_model::response::ActionKind;
use moat_model::runtime::{
    ContainerInfo, DockerEventInfo, FileInfo, NetInfo, ProcessInfo, ResourceInfo, RuntimeEvent,
};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default rule set, compiled into the binary.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.yaml");
/// The name the default rules are reported under.
pub const DEFAULT_RULES_NAME: &str = "<default rules>";

/// Largest rules file read.
pub const MAX_RULES_FILE_BYTES: u64 = 4 << 20;
/// Most items (lists, macros, rules) in one rule set.
pub const MAX_RULE_ITEMS: usize = 4096;
/// Longest condition after macro expansion.
pub const MAX_CONDITION_BYTES: usize = 64 << 10;

/// The variables a condition may use.
pub const VARIABLES: &[&str] = &["evt", "proc", "container", "fd", "file", "docker", "res"];

/// A rules problem, naming the file and line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is too large.
    #[error("{file}: {size} bytes; a rules file may have at most {max}")]
    TooLarge { file: PathBuf, size: u64, max: u64 },
    /// The YAML is malformed or has unknown keys.
    #[error("{file}: {message}")]
    Yaml { file: PathBuf, message: String },
    /// An item is wrong.
    #[error("{file}:{line}: {message}")]
    Item {
        file: PathBuf,
        line: u32,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    rule: Option<Spanned<String>>,
    #[serde(rename = "macro")]
    macro_: Option<Spanned<String>>,
    list: Option<Spanned<String>>,
    condition: Option<String>,
    items: Option<Vec<serde_json::Value>>,
    output: Option<String>,
    priority: Option<String>,
    desc: Option<String>,
    tags: Option<Vec<String>>,
    enabled: Option<bool>,
    action: Option<String>,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// Its description.
    pub desc: String,
    /// The condition as written.
    pub condition: String,
    /// The condition after macros and lists were expanded (what CEL compiled).
    pub expanded: String,
    /// The output template.
    pub output: String,
    /// Its severity.
    pub severity: Severity,
    /// Its tags.
    pub tags: Vec<String>,
    /// The response it names, if any.
    pub action: Option<ActionKind>,
    /// Where it was defined.
    pub origin: String,
    program: cel::Program,
}

/// A rule, as listed by `moat monitor rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSummary {
    pub name: String,
    pub severity: Severity,
    pub desc: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub origin: String,
}

/// A compiled rule set.
pub struct RuleSet {
    rules: Vec<Rule>,
    env: Arc<cel::Env>,
    /// Names of the lists and macros defined.
    pub lists: Vec<String>,
    pub macros: Vec<String>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

/// A rule that matched, before it becomes an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub rule: String,
    pub severity: Severity,
    pub output: String,
    pub tags: Vec<String>,
    pub action: Option<ActionKind>,
}

struct Source {
    name: PathBuf,
    text: String,
}

enum Def {
    List(Vec<serde_json::Value>),
    Macro(String),
}

/// What is wrong with an item (becomes [`RuleError::Item`] with its file and line).
#[derive(Debug)]
struct Problem(String);

impl From<String> for Problem {
    fn from(s: String) -> Problem {
        Problem(s)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an item came from, for errors.
struct Origin {
    file: PathBuf,
    line: u32,
}

impl RuleSet {
    /// The default rules alone.
    pub fn default_rules() -> Result<RuleSet, RuleError> {
        RuleSet::load(&[], true)
    }

    /// The default rules (when `with_defaults`) followed by `files`, in order.
    pub fn load(files: &[PathBuf], with_defaults: bool) -> Result<RuleSet, RuleError> {
        let mut sources = Vec::new();
        if with_defaults {
            sources.push(Source {
                name: PathBuf::from(DEFAULT_RULES_NAME),
                text: DEFAULT_RULES.to_string(),
            });
        }
        for f in files {
            sources.push(read_source(f)?);
        }
        RuleSet::compile(&sources)
    }

    /// Compiles rules from text (`name` is used in errors).
    pub fn from_text(name: &Path, text: &str, with_defaults: bool) -> Result<RuleSet, RuleError> {
        let mut sources = Vec::new();
        if with_defaults {
            sources.push(Source {
                name: PathBuf::from(DEFAULT_RULES_NAME),
                text: DEFAULT_RULES.to_string(),
            });
        }
        sources.push(Source {
            name: name.to_path_buf(),
            text: text.to_string(),
        });
        RuleSet::compile(&sources)
    }

    fn compile(sources: &[Source]) -> Result<RuleSet, RuleError> {
        let env = Arc::new(cel::Env::stdlib());
        let mut defs: BTreeMap<String, Def> = BTreeMap::new();
        let mut lists = Vec::new();
        let mut macros = Vec::new();
        // Rules by name, in first-definition order.
        let mut order: Vec<String> = Vec::new();
        let mut raw_rules: BTreeMap<String, (RawItem, Origin)> = BTreeMap::new();
        let mut count = 0usize;
        for src in sources {
            let items: Vec<RawItem> = if src.text.trim().is_empty() {
                Vec::new()
            } else {
                serde_saphyr::from_str(&src.text).map_err(|e| RuleError::Yaml {
                    file: src.name.clone(),
                    message: one_line(&e.to_string()),
                })?
            };
            for item in items {
                count += 1;
                if count > MAX_RULE_ITEMS {
                    return Err(RuleError::Yaml {
                        file: src.name.clone(),
                        message: format!("more than {MAX_RULE_ITEMS} lists, macros and rules"),
                    });
                }
                let kinds = [&item.rule, &item.macro_, &item.list]
                    .iter()
                    .filter(|k| k.is_some())
                    .count();
                let line = [&item.rule, &item.macro_, &item.list]
                    .iter()
                    .find_map(|k| k.as_ref().map(|s| s.referenced.line()))
                    .unwrap_or(0);
                let err = |message: String| RuleError::Item {
                    file: src.name.clone(),
                    line: u32::try_from(line).unwrap_or(0),
                    message,
                };
                if kinds != 1 {
                    return Err(err(
                        "each item needs exactly one of `rule:`, `macro:` or `list:`".into(),
                    ));
                }
                if let Some(name) = &item.list {
                    check_name(&name.value).map_err(|p| err(p.0))?;
                    let items = item
                        .items
                        .clone()
                        .ok_or_else(|| err(format!("list {:?} has no `items:`", name.value)))?;
                    for v in &items {
                        if !(v.is_string() || v.is_i64() || v.is_u64()) {
                            return Err(err(format!(
                                "list {:?}: items must be strings or integers, found {v}",
                                name.value
                            )));
                        }
                    }
                    if !defs.contains_key(&name.value) {
                        lists.push(name.value.clone());
                    }
                    defs.insert(name.value.clone(), Def::List(items));
                } else if let Some(name) = &item.macro_ {
                    check_name(&name.value).map_err(|p| err(p.0))?;
                    let cond = item.condition.clone().ok_or_else(|| {
                        err(format!("macro {:?} has no `condition:`", name.value))
                    })?;
                    let expanded = expand(&cond, &defs).map_err(|p| err(p.0))?;
                    env.compile(&expanded).map_err(|e| {
                        err(format!(
                            "macro {:?}: condition: {}",
                            name.value,
                            one_line(&e.to_string())
                        ))
                    })?;
                    if !defs.contains_key(&name.value) {
                        macros.push(name.value.clone());
                    }
                    defs.insert(name.value.clone(), Def::Macro(expanded));
                } else if let Some(rname) = item.rule.as_ref().map(|n| n.value.clone()) {
                    if rname.trim().is_empty() {
                        return Err(err("a rule needs a name".into()));
                    }
                    if !raw_rules.contains_key(&rname) {
                        order.push(rname.clone());
                    }
                    let origin = Origin {
                        file: src.name.clone(),
                        line: u32::try_from(line).unwrap_or(0),
                    };
                    // Conditions are expanded against the definitions visible at the
                    // rule: done now, compiled below.
                    let mut it = item;
                    if let Some(c) = &it.condition {
                        it.condition = Some(expand(c, &defs).map_err(|p| err(p.0))?);
                    }
                    raw_rules.insert(rname, (it, origin));
                }
            }
        }
        let probe = Probe::new(&env);
        let mut rules = Vec::new();
        for name in order {
            let Some((item, origin)) = raw_rules.remove(&name) else {
                continue;
            };
            let err = |message: String| RuleError::Item {
                file: origin.file.clone(),
                line: origin.line,
                message: format!("rule {name:?}: {message}"),
            };
            if item.enabled == Some(false) {
                continue;
            }
            let expanded = item
                .condition
                .clone()
                .ok_or_else(|| err("no `condition:`".into()))?;
            let output = item
                .output
                .clone()
                .ok_or_else(|| err("no `output:`".into()))?;
            let severity = match &item.priority {
                Some(p) => parse_priority(p).ok_or_else(|| {
                    err(format!(
                        "unknown priority {p:?} (expected CRITICAL, HIGH, MEDIUM, LOW or INFO; \
                         Falco's EMERGENCY..DEBUG are read too)"
                    ))
                })?,
                None => return Err(err("no `priority:`".into())),
            };
            let program = env
                .compile(&expanded)
                .map_err(|e| err(format!("condition: {}", one_line(&e.to_string()))))?;
            // Names: field groups, or the variable of a comprehension (`m` in
            // `mounts.exists(m, ...)`). CEL's `&&`/`||` absorb errors (`unknown && false`
            // is false), so evaluation alone would not catch a misspelt name.
            let refs = program.references();
            let mut vars = refs.variables();
            vars.sort_unstable();
            for v in vars {
                if !VARIABLES.contains(&v) && !is_comprehension_var(&expanded, v) {
                    return Err(err(format!(
                        "condition: unknown name {v:?} (not a field group, list or macro; \
                         field groups: {})",
                        VARIABLES.join(", ")
                    )));
                }
            }
            // Every name and field it reads must exist and the result must be a bool:
            // evaluate it on events of every kind with all fields at their defaults (an
            // unknown name is CEL's "undeclared reference"; comprehension variables such
            // as `m` in `mounts.exists(m, ...)` are fine).
            probe
                .check(&program)
                .map_err(|m| err(format!("condition: {m}")))?;
            check_output(&output).map_err(|m| err(format!("output: {m}")))?;
            let action = match item.action.as_deref() {
                None => None,
                Some(a) => Some(parse_action(a).ok_or_else(|| {
                    let names: Vec<&str> = RULE_ACTIONS.iter().map(|a| a.as_str()).collect();
                    err(format!(
                        "action: unknown action {a:?} (expected {})",
                        names.join(", ")
                    ))
                })?),
            };
            rules.push(Rule {
                name: name.clone(),
                desc: item.desc.clone().unwrap_or_default(),
                condition: expanded.clone(),
                expanded,
                output,
                severity,
                tags: item.tags.clone().unwrap_or_default(),
                action,
                origin: format!("{}:{}", origin.file.display(), origin.line),
                program,
            });
        }
        Ok(RuleSet {
            rules,
            env,
            lists,
            macros,
        })
    }

    /// The rules in force.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules as listed by `moat monitor rules`.
    pub fn summaries(&self) -> Vec<RuleSummary> {
        self.rules
            .iter()
            .map(|r| RuleSummary {
                name: r.name.clone(),
                severity: r.severity,
                desc: r.desc.clone(),
                condition: r.condition.clone(),
                tags: r.tags.clone(),
                origin: r.origin.clone(),
            })
            .collect()
    }

    /// The rules that match `ev`. A condition that fails to evaluate on an event counts
    /// as false.
    pub fn evaluate(&self, ev: &RuntimeEvent) -> Vec<Match> {
        let ctx = context(&self.env, ev);
        let mut out = Vec::new();
        for r in &self.rules {
            if let Ok(cel::Value::Bool(true)) = r.program.execute(&ctx) {
                out.push(Match {
                    rule: r.name.clone(),
                    severity: r.severity,
                    output: render_output(&r.output, ev),
                    tags: r.tags.clone(),
                    action: r.action,
                });
            }
        }
        out
    }
}

/// The actions a rule may name: those that contain or preserve (undoing one is an
/// operator's decision, not a rule's).
pub const RULE_ACTIONS: [ActionKind; 5] = [
    ActionKind::Isolate,
    ActionKind::Pause,
    ActionKind::Stop,
    ActionKind::Kill,
    ActionKind::Snapshot,
];

/// A rule's `action:` value, when it is one of [`RULE_ACTIONS`].
fn parse_action(s: &str) -> Option<ActionKind> {
    RULE_ACTIONS
        .iter()
        .copied()
        .find(|a| a.as_str() == s.trim())
}

/// Whether `name` is bound by a comprehension macro in `cond` (`.exists(name,` …).
fn is_comprehension_var(cond: &str, name: &str) -> bool {
    ["exists", "all", "exists_one", "map", "filter"]
        .iter()
        .any(|m| {
            let pat = format!(".{m}(");
            cond.match_indices(&pat).any(|(i, _)| {
                let rest = cond[i + pat.len()..].trim_start();
                rest.strip_prefix(name)
                    .is_some_and(|r| r.trim_start().starts_with(','))
            })
        })
}

fn read_source(f: &Path) -> Result<Source, RuleError> {
    let meta = std::fs::metadata(f).map_err(|source| RuleError::Read {
        file: f.to_path_buf(),
        source,
    })?;
    if meta.len() > MAX_RULES_FILE_BYTES {
        return Err(RuleError::TooLarge {
            file: f.to_path_buf(),
            size: meta.len(),
            max: MAX_RULES_FILE_BYTES,
        });
    }
    let text = std::fs::read_to_string(f).map_err(|source| RuleError::Read {
        file: f.to_path_buf(),
        source,
    })?;
    Ok(Source {
        name: f.to_path_buf(),
        text,
    })
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn check_name(name: &str) -> Result<(), Problem> {
    let ok = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(format!(
            "name {name:?}: lists and macros are named like identifiers ([A-Za-z_][A-Za-z0-9_]*)"
        )
        .into());
    }
    if VARIABLES.contains(&name) {
        return Err(format!("name {name:?} is a field group").into());
    }
    Ok(())
}

/// Falco's priorities and moat's severities.
pub fn parse_priority(p: &str) -> Option<Severity> {
    match p.trim().to_ascii_uppercase().as_str() {
        "EMERGENCY" | "ALERT" | "CRITICAL" => Some(Severity::Critical),
        "ERROR" | "HIGH" => Some(Severity::High),
        "WARNING" | "MEDIUM" => Some(Severity::Medium),
        "NOTICE" | "LOW" => Some(Severity::Low),
        "INFORMATIONAL" | "INFO" | "DEBUG" | "UNKNOWN" => Some(Severity::Unknown),
        _ => None,
    }
}

/// Replaces list and macro names in `cond` (identifiers outside string literals, not
/// after a `.`) by their definitions.
fn expand(cond: &str, defs: &BTreeMap<String, Def>) -> Result<String, Problem> {
    let chars: Vec<char> = cond.chars().collect();
    let mut out = String::with_capacity(cond.len());
    let mut i = 0;
    let mut prev_sig: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            // A string literal: copied as is (escapes included).
            let q = c;
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                if chars[i] == q {
                    i += 1;
                    break;
                }
                i += 1;
            }
            prev_sig = Some(q);
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let after_dot = prev_sig == Some('.');
            match defs.get(&word) {
                Some(Def::Macro(m)) if !after_dot => {
                    out.push('(');
                    out.push_str(m);
                    out.push(')');
                }
                Some(Def::List(items)) if !after_dot => {
                    out.push('[');
                    let parts: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                    out.push_str(&parts.join(", "));
                    out.push(']');
                }
                _ => out.push_str(&word),
            }
            if out.len() > MAX_CONDITION_BYTES {
                return Err(format!(
                    "condition longer than {MAX_CONDITION_BYTES} bytes after expanding macros"
                )
                .into());
            }
            prev_sig = Some('a');
            continue;
        }
        if !c.is_whitespace() {
            prev_sig = Some(c);
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// Fields a condition or an output may read, with their CEL values for `ev`.
#[derive(Serialize)]
struct EvtView<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    source: &'a str,
    time: i64,
    dropped: u64,
    note: &'a str,
}

fn context<'a>(env: &Arc<cel::Env>, ev: &'a RuntimeEvent) -> cel::Context<'a, 'a> {
    let mut ctx = cel::Context::with_env(Arc::clone(env));
    let evt = EvtView {
        kind: &ev.kind,
        source: ev.source.as_str(),
        time: ev.time_ns,
        dropped: ev.dropped.unwrap_or(0),
        note: ev.note.as_deref().unwrap_or(""),
    };
    // Serialising plain structs into CEL values cannot fail (no maps with non-string
    // keys, no unsupported types); a failure leaves the variable out, which makes
    // conditions that read it evaluate to an error, i.e. false.
    let _ = ctx.add_variable("evt", evt);
    let dp = ProcessInfo::default();
    let _ = ctx.add_variable("proc", ev.process.as_ref().unwrap_or(&dp));
    let dc = ContainerInfo::default();
    let _ = ctx.add_variable("container", ev.container.as_ref().unwrap_or(&dc));
    let dn = NetInfo::default();
    let _ = ctx.add_variable("fd", ev.net.as_ref().unwrap_or(&dn));
    let df = FileInfo::default();
    let _ = ctx.add_variable("file", ev.file.as_ref().unwrap_or(&df));
    let dd = DockerEventInfo::default();
    let _ = ctx.add_variable("docker", ev.docker.as_ref().unwrap_or(&dd));
    let dr = ResourceInfo::default();
    let _ = ctx.add_variable("res", ev.resource.as_ref().unwrap_or(&dr));
    ctx
}

/// Events with every field group present (at defaults), to type-check conditions.
struct Probe {
    env: Arc<cel::Env>,
    events: Vec<RuntimeEvent>,
    /// The fields of each field group (`proc` → `name`, `cmdline`…).
    fields: BTreeMap<&'static str, Vec<String>>,
}

/// The keys `v` serialises to.
fn keys<T: Serialize>(v: &T) -> Vec<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Every `group.field` selection in `e` names a field of that group. Evaluation cannot
/// tell: CEL's `&&` and `||` absorb the error of a misspelt field (`proc.nmae == "sh"
/// && false` is false), so a rule would never fire and nobody would know.
fn check_selects(
    e: &cel::common::ast::IdedExpr,
    fields: &BTreeMap<&'static str, Vec<String>>,
) -> Result<(), Problem> {
    use cel::common::ast::{EntryExpr, Expr};
    let walk = |x: &cel::common::ast::IdedExpr| check_selects(x, fields);
    match &e.expr {
        Expr::Select(sel) => {
            if let Expr::Ident(group) = &sel.operand.expr
                && let Some(known) = fields.get(group.as_str())
                && !known.iter().any(|k| k == &sel.field)
            {
                return Err(format!(
                    "unknown field {group}.{} (fields of {group}: {})",
                    sel.field,
                    known.join(", ")
                )
                .into());
            }
            walk(&sel.operand)
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                walk(t)?;
            }
            call.args.iter().try_for_each(walk)
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                walk(x)?;
            }
            Ok(())
        }
        Expr::List(l) => l.elements.iter().try_for_each(walk),
        Expr::Map(m) => m.entries.iter().try_for_each(|en| match &en.expr {
            EntryExpr::MapEntry(me) => walk(&me.key).and_then(|()| walk(&me.value)),
            EntryExpr::StructField(sf) => walk(&sf.value),
        }),
        Expr::Struct(st) => st.entries.iter().try_for_each(|en| match &en.expr {
            EntryExpr::MapEntry(me) => walk(&me.key).and_then(|()| walk(&me.value)),
            EntryExpr::StructField(sf) => walk(&sf.value),
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

impl Probe {
    fn new(env: &Arc<cel::Env>) -> Probe {
        let full = RuntimeEvent {
            container: Some(ContainerInfo::default()),
            process: Some(ProcessInfo::default()),
            net: Some(NetInfo::default()),
            file: Some(FileInfo::default()),
            docker: Some(DockerEventInfo::default()),
            resource: Some(ResourceInfo::default()),
            dropped: Some(0),
            note: Some(String::new()),
            ..RuntimeEvent::default()
        };
        let mut fields = BTreeMap::new();
        fields.insert(
            "evt",
            keys(&EvtView {
                kind: "",
                source: "",
                time: 0,
                dropped: 0,
                note: "",
            }),
        );
        fields.insert("proc", keys(&ProcessInfo::default()));
        fields.insert("container", keys(&ContainerInfo::default()));
        fields.insert("fd", keys(&NetInfo::default()));
        fields.insert("file", keys(&FileInfo::default()));
        fields.insert("docker", keys(&DockerEventInfo::default()));
        fields.insert("res", keys(&ResourceInfo::default()));
        Probe {
            env: Arc::clone(env),
            events: vec![full, RuntimeEvent::default()],
            fields,
        }
    }

    fn check(&self, program: &cel::Program) -> Result<(), Problem> {
        check_selects(program.expression(), &self.fields)?;
        for ev in &self.events {
            let ctx = context(&self.env, ev);
            match program.execute(&ctx) {
                Ok(cel::Value::Bool(_)) => {}
                Ok(v) => return Err(format!("must be true or false, is {v:?}").into()),
                Err(e) => return Err(one_line(&e.to_string()).into()),
            }
        }
        Ok(())
    }
}

/// The value of a field path (`proc.cmdline`) of `ev` as text.
pub fn field_text(ev: &RuntimeEvent, path: &str) -> Option<String> {
    let (group, field) = path.split_once('.')?;
    let v = match group {
        "evt" => match field {
            "type" => serde_json::Value::from(ev.kind.clone()),
            "source" => serde_json::Value::from(ev.source.as_str()),
            "time" => serde_json::Value::from(moat_store::format_rfc3339_ns(ev.time_ns)),
            "dropped" => serde_json::Value::from(ev.dropped.unwrap_or(0)),
            "note" => serde_json::Value::from(ev.note.clone().unwrap_or_default()),
            _ => return None,
        },
        "proc" => get(&ev.process.clone().unwrap_or_default(), field)?,
        "container" => get(&ev.container.clone().unwrap_or_default(), field)?,
        "fd" => get(&ev.net.clone().unwrap_or_default(), field)?,
        "file" => get(&ev.file.clone().unwrap_or_default(), field)?,
        "docker" => get(&ev.docker.clone().unwrap_or_default(), field)?,
        "res" => get(&ev.resource.clone().unwrap_or_default(), field)?,
        _ => return None,
    };
    Some(match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| match x {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    })
}

fn get<T: Serialize>(v: &T, field: &str) -> Option<serde_json::Value> {
    let json = serde_json::to_value(v).ok()?;
    json.get(field).cloned()
}

fn check_output(out: &str) -> Result<(), Problem> {
    let full = Probe::new(&Arc::new(cel::Env::stdlib()));
    for name in output_fields(out) {
        if field_text(&full.events[0], &name).is_none() {
            return Err(format!("unknown field %{name}").into());
        }
    }
    Ok(())
}

fn output_fields(out: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut it = out.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        if c == '%' {
            let mut name = String::new();
            while let Some(&(_, n)) = it.peek() {
                if n.is_ascii_alphanumeric() || n == '_' || n == '.' {
                    name.push(n);
                    it.next();
                } else {
                    break;
                }
            }
            let name = name.trim_end_matches('.').to_string();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// Fills `%group.field` in `out` from `ev` (control characters escaped).
pub fn render_output(out: &str, ev: &RuntimeEvent) -> String {
    let mut s = String::with_capacity(out.len() + 64);
    let mut it = out.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            s.push(c);
            continue;
        }
        let mut name = String::new();
        while let Some(&n) = it.peek() {
            if n.is_ascii_alphanumeric() || n == '_' || n == '.' {
                name.push(n);
                it.next();
            } else {
                break;
            }
        }
        let trailing_dot = name.ends_with('.');
        let key = name.trim_end_matches('.');
        match field_text(ev, key) {
            Some(v) => s.push_str(&moat_model::escape_control(&v)),
            None => {
                s.push('%');
                s.push_str(key);
            }
        }
        if trailing_dot {
            s.push('.');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_lists_and_macros_outside_strings() {
        let mut defs = BTreeMap::new();
        defs.insert(
            "shells".to_string(),
            Def::List(vec!["sh".into(), "bash".into()]),
        );
        defs.insert(
            "spawned".to_string(),
            Def::Macro("evt.type == 'execve'".into()),
        );
        let e = expand(
            "spawned && proc.name in shells && proc.cmdline != 'shells'",
            &defs,
        )
        .unwrap_or_default();
        assert_eq!(
            e,
            "(evt.type == 'execve') && proc.name in [\"sh\", \"bash\"] && proc.cmdline != 'shells'"
        );
        // A field named like a list is not replaced.
        assert_eq!(expand("x.shells", &defs).unwrap_or_default(), "x.shells");
    }
}
