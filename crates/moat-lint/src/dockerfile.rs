//! A Dockerfile parser with positions, following BuildKit's syntax.
//!
//! Supported: parser directives (`syntax`, `escape`, `check`) at the top of the file,
//! line continuations with the escape character (comment and empty lines inside a
//! continuation are dropped, as BuildKit does), heredocs (`<<EOF`, `<<-EOF`, quoted
//! markers, several per instruction), JSON (exec) and shell forms, `--flag=value`
//! options (`RUN --mount`, `COPY --chmod/--chown/--link/--from`, `FROM --platform`),
//! multi-stage builds with names, and `ARG`/`ENV` substitution (`$V`, `${V}`,
//! `${V:-default}`, `${V:+alt}`).
//!
//! The parser never fails on content: an unknown instruction is kept as-is (rules may
//! report it), an unterminated heredoc ends at end of file and is marked.

use std::collections::BTreeMap;

/// A parsed Dockerfile.
#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    /// The escape character in force (`\` or `` ` ``).
    pub escape: char,
    /// Parser directives, lower-cased names (`syntax`, `escape`, `check`).
    pub directives: BTreeMap<String, String>,
    pub instructions: Vec<Instruction>,
    /// Comment lines (`#` first), with their 1-based line number and text after `#`.
    pub comments: Vec<(u32, String)>,
    pub stages: Vec<Stage>,
    /// `ARG`s declared before the first `FROM`, with their defaults.
    pub global_args: BTreeMap<String, Option<String>>,
    /// Problems found while parsing (unterminated heredoc, instruction before FROM...).
    pub errors: Vec<ParseIssue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIssue {
    pub line: u32,
    pub message: String,
}

/// One `--name=value` (or bare `--name`) option of an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// A heredoc attached to an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub marker: String,
    /// `<<-`: leading tabs are stripped from the body.
    pub strip_tabs: bool,
    /// The marker was quoted: no expansion inside the body.
    pub quoted: bool,
    pub body: String,
    /// Line of the first body line.
    pub body_line: u32,
    pub terminated: bool,
}

/// One instruction (`RUN`, `COPY`...).
#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper-cased keyword.
    pub keyword: String,
    /// 1-based line of the keyword.
    pub line: u32,
    /// Last line of the instruction (continuations and heredoc bodies included).
    pub end_line: u32,
    /// 1-based column of the keyword.
    pub column: u32,
    pub flags: Vec<Flag>,
    /// The arguments after the flags, continuations joined (escape + newline removed).
    pub args: String,
    /// The arguments as a JSON string array when written in exec form.
    pub json: Option<Vec<String>>,
    pub heredocs: Vec<Heredoc>,
    /// Index into [`Dockerfile::stages`]; `None` before the first `FROM`.
    pub stage: Option<usize>,
    /// The arguments with the stage's `ARG` defaults and `ENV` values substituted
    /// (not for `RUN`, whose variables the shell expands); `None` when a variable has
    /// no known value.
    pub expanded: Option<String>,
    /// `ONBUILD X`: the instruction X, at the same position (its keyword, flags and
    /// arguments parsed as for a top-level instruction; no variable substitution).
    pub onbuild: Option<Box<Instruction>>,
}

impl Instruction {
    pub fn is(&self, kw: &str) -> bool {
        self.keyword == kw
    }
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
    pub fn flag_value(&self, name: &str) -> Option<&str> {
        self.flag(name).and_then(|f| f.value.as_deref())
    }
    /// The arguments as words: the JSON array, or the shell form split on whitespace
    /// with quotes removed.
    pub fn words(&self) -> Vec<String> {
        match &self.json {
            Some(v) => v.clone(),
            None => split_words(&self.args),
        }
    }
    /// Shell text of a `RUN`: the command line, plus heredoc bodies when the heredoc
    /// is the script itself (`RUN <<EOF` or `RUN bash <<EOF`).
    pub fn shell_script(&self) -> String {
        if let Some(v) = &self.json {
            return v.join(" ");
        }
        let mut s = strip_heredoc_markers(&self.args);
        let head = s.trim();
        let first = head.split_whitespace().next().unwrap_or("");
        let is_script = head.is_empty()
            || matches!(
                first.rsplit('/').next().unwrap_or(first),
                "sh" | "bash" | "ash" | "dash" | "zsh"
            ) && head.split_whitespace().count() <= 2;
        if is_script {
            for h in &self.heredocs {
                s.push('\n');
                s.push_str(&h.body);
            }
        }
        s
    }
}

/// A build stage.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Index of the `FROM` instruction in [`Dockerfile::instructions`].
    pub from_index: usize,
    pub line: u32,
    /// The image as written.
    pub image: String,
    /// The image with global `ARG` defaults substituted; `None` when a variable has
    /// no value.
    pub image_resolved: Option<String>,
    /// Lower-cased stage name (`AS name`).
    pub name: Option<String>,
    pub platform: Option<String>,
    /// The earlier stage this one builds on (`FROM <stage name>`): the last earlier
    /// stage of that name.
    pub parent: Option<usize>,
}

/// A base image reference split into parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> ImageRef {
        let (rest, digest) = match s.split_once('@') {
            Some((a, d)) => (a, Some(d.to_string())),
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/' (a registry port is not a tag).
        let slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (
                rest[..slash + i].to_string(),
                Some(rest[slash + i + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        ImageRef { name, tag, digest }
    }
}

/// Instructions that take `--flag` options before their arguments.
fn takes_flags(kw: &str) -> bool {
    matches!(kw, "FROM" | "RUN" | "COPY" | "ADD" | "HEALTHCHECK")
}

/// Instructions whose arguments may contain heredocs.
fn takes_heredocs(kw: &str) -> bool {
    matches!(kw, "RUN" | "COPY" | "ADD")
}

/// Parse a Dockerfile. Never fails: problems go to [`Dockerfile::errors`].
pub fn parse(src: &str) -> Dockerfile {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let lines: Vec<&str> = src
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut df = Dockerfile {
        escape: '\\',
        ..Default::default()
    };
    let mut i = 0;
    // Parser directives: `# name=value` lines at the very top.
    while i < lines.len() {
        let t = lines[i].trim();
        let Some(body) = t.strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = body.split_once('=') else {
            break;
        };
        let k = k.trim().to_ascii_lowercase();
        if k.is_empty() || k.contains(char::is_whitespace) || df.directives.contains_key(&k) {
            break;
        }
        let v = v.trim().to_string();
        if k == "escape" {
            match v.as_str() {
                "`" => df.escape = '`',
                "\\" => df.escape = '\\',
                _ => df.errors.push(ParseIssue {
                    line: i as u32 + 1,
                    message: format!("invalid escape directive {v:?}"),
                }),
            }
        }
        df.comments.push((i as u32 + 1, body.to_string()));
        df.directives.insert(k, v);
        i += 1;
    }
    let esc = df.escape;
    let mut stage: Option<usize> = None;
    // Variables set in each finished stage (ARG defaults, ENV values) with the stage it
    // inherits from, and those of the current stage (saved when the next `FROM`
    // starts). A stage's own variables are never copied into the stages built on it:
    // lookups walk the chain, so memory stays linear however long the chain is.
    let mut scopes: Vec<Scope> = Vec::new();
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut inherit: Option<usize> = None;
    // Global ARG defaults (fixed once the first FROM is seen), and the last stage of
    // each name: both looked up once per FROM, never by scanning every stage.
    let mut gvars: Option<BTreeMap<String, String>> = None;
    let mut stage_by_name: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    while i < lines.len() {
        let raw = lines[i];
        let t = raw.trim_start();
        if t.is_empty() {
            i += 1;
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            df.comments.push((i as u32 + 1, c.to_string()));
            i += 1;
            continue;
        }
        let start_line = i as u32 + 1;
        let column = (raw.len() - t.len()) as u32 + 1;
        // Join continuation lines.
        let mut logical = String::new();
        let mut cur = t.to_string();
        loop {
            let trimmed = cur.trim_end();
            if let Some(body) = trimmed.strip_suffix(esc) {
                logical.push_str(body);
                i += 1;
                // Skip comment and empty lines inside a continuation.
                while i < lines.len() {
                    let n = lines[i].trim_start();
                    if n.is_empty() || n.starts_with('#') {
                        if let Some(c) = n.strip_prefix('#') {
                            df.comments.push((i as u32 + 1, c.to_string()));
                        }
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                cur = lines[i].to_string();
            } else {
                logical.push_str(&cur);
                break;
            }
        }
        let mut end_line = (i.min(lines.len().saturating_sub(1))) as u32 + 1;
        i += 1;
        let (keyword, flags, rest) = split_instruction(&logical);
        let mut heredocs = Vec::new();
        if takes_heredocs(&keyword) && rest.contains("<<") {
            for (marker, strip_tabs, quoted) in heredoc_markers(&rest) {
                let body_line = i as u32 + 1;
                let mut body = String::new();
                let mut terminated = false;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    let cmp = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if cmp == marker {
                        terminated = true;
                        break;
                    }
                    body.push_str(cmp);
                    body.push('\n');
                }
                end_line = i as u32;
                if !terminated {
                    df.errors.push(ParseIssue {
                        line: start_line,
                        message: format!("unterminated heredoc <<{marker}"),
                    });
                }
                heredocs.push(Heredoc {
                    marker,
                    strip_tabs,
                    quoted,
                    body,
                    body_line,
                    terminated,
                });
            }
        }
        let json = parse_json_array(&rest);
        let idx = df.instructions.len();
        if keyword == "FROM" {
            let words = split_words(&rest);
            let image = words.first().cloned().unwrap_or_default();
            let name = match words.get(1) {
                Some(a) if a.eq_ignore_ascii_case("as") => {
                    words.get(2).map(|n| n.to_ascii_lowercase())
                }
                _ => None,
            };
            let gvars = gvars.get_or_insert_with(|| {
                df.global_args
                    .iter()
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                    .collect()
            });
            let image_resolved = substitute(&image, gvars);
            // A stage built on an earlier one inherits its ENV; ARGs must be redeclared.
            let parent = stage_by_name.get(&image.to_ascii_lowercase()).copied();
            if let Some(slot) = stage.and_then(|s| scopes.get_mut(s)) {
                slot.own = std::mem::take(&mut vars);
            }
            inherit = parent;
            scopes.push(Scope {
                parent,
                own: BTreeMap::new(),
            });
            if let Some(n) = &name {
                stage_by_name.insert(n.clone(), df.stages.len());
            }
            df.stages.push(Stage {
                from_index: idx,
                line: start_line,
                image,
                image_resolved,
                name,
                platform: flags
                    .iter()
                    .find(|f| f.name.eq_ignore_ascii_case("platform"))
                    .and_then(|f| f.value.clone()),
                parent,
            });
            stage = Some(df.stages.len() - 1);
        } else if keyword == "ARG" && stage.is_some() {
            for w in split_words(&rest) {
                match w.split_once('=') {
                    Some((k, v)) => {
                        let v = chain_value(v, &vars, inherit, &scopes);
                        set_var(&mut vars, k, v);
                    }
                    None => {
                        if let Some(Some(d)) = df.global_args.get(&w) {
                            set_var(&mut vars, &w, d.clone());
                        }
                    }
                }
            }
        } else if keyword == "ENV" && stage.is_some() {
            let words = split_words(&rest);
            if words.len() >= 2 && !words[0].contains('=') {
                let v = chain_value(&words[1..].join(" "), &vars, inherit, &scopes);
                set_var(&mut vars, &words[0], v);
            } else {
                for w in words {
                    if let Some((k, v)) = w.split_once('=') {
                        let v = chain_value(v, &vars, inherit, &scopes);
                        set_var(&mut vars, k, v);
                    }
                }
            }
        } else if keyword == "ARG" && stage.is_none() {
            for w in split_words(&rest) {
                match w.split_once('=') {
                    Some((k, v)) => df.global_args.insert(k.to_string(), Some(v.to_string())),
                    None => df.global_args.insert(w, None),
                };
            }
        }
        let expanded = if keyword == "RUN" {
            None
        } else {
            substitute_in(
                &rest,
                &Chain {
                    own: &vars,
                    parent: inherit,
                    scopes: &scopes,
                },
                0,
            )
        };
        let onbuild = (keyword == "ONBUILD").then(|| {
            Box::new(inner_instruction(
                &rest, start_line, end_line, column, stage,
            ))
        });
        df.instructions.push(Instruction {
            keyword,
            line: start_line,
            end_line,
            column,
            flags,
            args: rest,
            json,
            heredocs,
            stage,
            expanded,
            onbuild,
        });
    }
    df
}

/// The instruction inside `ONBUILD` (one level: an `ONBUILD ONBUILD x` keeps the inner
/// `ONBUILD` without parsing further).
fn inner_instruction(
    text: &str,
    line: u32,
    end_line: u32,
    column: u32,
    stage: Option<usize>,
) -> Instruction {
    let (keyword, flags, rest) = split_instruction(text);
    let json = parse_json_array(&rest);
    Instruction {
        keyword,
        line,
        end_line,
        column,
        flags,
        expanded: Some(rest.clone()),
        args: rest,
        json,
        heredocs: Vec::new(),
        stage,
        onbuild: None,
    }
}

fn set_var(vars: &mut BTreeMap<String, String>, k: &str, v: String) {
    vars.insert(k.to_string(), v);
}

/// The variables one stage sets, and the stage it builds on.
struct Scope {
    parent: Option<usize>,
    own: BTreeMap<String, String>,
}

/// Stages followed up a `FROM <stage>` chain when looking a variable up; an ancestor
/// further up is not consulted (its variables are unknown there).
pub const MAX_INHERIT_DEPTH: usize = 64;

/// Variables for substitution.
trait Lookup {
    fn var(&self, name: &str) -> Option<&String>;
}

impl Lookup for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<&String> {
        self.get(name)
    }
}

/// The current stage's variables, then those of the stages it builds on.
/// `value` with the variables of a stage (its own, then those inherited through `FROM
/// <stage>` chains) substituted; unknown when the substitution is too deep.
fn chain_value(
    value: &str,
    own: &BTreeMap<String, String>,
    parent: Option<usize>,
    scopes: &[Scope],
) -> String {
    substitute_in(
        value,
        &Chain {
            own,
            parent,
            scopes,
        },
        0,
    )
    .unwrap_or_default()
}

struct Chain<'a> {
    own: &'a BTreeMap<String, String>,
    parent: Option<usize>,
    scopes: &'a [Scope],
}

impl Lookup for Chain<'_> {
    fn var(&self, name: &str) -> Option<&String> {
        if let Some(v) = self.own.get(name) {
            return Some(v);
        }
        let mut at = self.parent;
        for _ in 0..MAX_INHERIT_DEPTH {
            let scope = self.scopes.get(at?)?;
            if let Some(v) = scope.own.get(name) {
                return Some(v);
            }
            at = scope.parent;
        }
        None
    }
}

/// The heredoc markers of an instruction line: (marker, strip_tabs, quoted).
fn heredoc_markers(s: &str) -> Vec<(String, bool, bool)> {
    heredoc_marker_spans(s)
        .into_iter()
        .map(|(m, strip, quoted, _)| (m, strip, quoted))
        .collect()
}

/// The heredoc markers with the byte range each takes in the line.
fn heredoc_marker_spans(s: &str) -> Vec<(String, bool, bool, std::ops::Range<usize>)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_single = false;
    let mut in_double = false;
    while i + 1 < b.len() {
        let c = b[i];
        if c == b'\'' && !in_double {
            in_single = !in_single;
        } else if c == b'"' && !in_single {
            in_double = !in_double;
        }
        if !in_single && !in_double && c == b'<' && b[i + 1] == b'<' && (i == 0 || b[i - 1] != b'<')
        {
            let mut j = i + 2;
            if j < b.len() && b[j] == b'<' {
                // Here-string `<<<`.
                i = j + 1;
                continue;
            }
            let strip_tabs = j < b.len() && b[j] == b'-';
            if strip_tabs {
                j += 1;
            }
            let quote = if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let q = b[j];
                j += 1;
                Some(q)
            } else {
                None
            };
            let start = j;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'-' || b[j] == b'.')
            {
                j += 1;
            }
            let word = &s[start..j];
            let ok_start = word
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if ok_start {
                if let Some(q) = quote
                    && j < b.len()
                    && b[j] == q
                {
                    j += 1;
                }
                out.push((word.to_string(), strip_tabs, quote.is_some(), i..j));
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// Remove `<<EOF` markers from a command line (one pass: linear in the line however
/// many markers it has).
fn strip_heredoc_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (_, _, _, r) in heredoc_marker_spans(s) {
        if r.start < at || r.end > s.len() {
            continue;
        }
        out.push_str(&s[at..r.start]);
        out.push(' ');
        at = r.end;
    }
    out.push_str(&s[at..]);
    out
}

/// Parse the exec form `["a", "b"]`; `None` when it is not a JSON string array.
pub fn parse_json_array(s: &str) -> Option<Vec<String>> {
    let t = s.trim();
    if !t.starts_with('[') || !t.ends_with(']') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// Remove one level of surrounding quotes.
pub fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Split on unquoted whitespace, removing quotes (backslash escapes a character).
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut q: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match q {
            Some(qc) if c == qc => q = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                q = Some(c);
                has = true;
            }
            None if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            None if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            None => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Substitute `$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:+a}`, `${V+a}` from `vars`.
/// `None` when a variable without a default has no value.
pub fn substitute(s: &str, vars: &BTreeMap<String, String>) -> Option<String> {
    substitute_in(s, vars, 0)
}

/// Nesting of `${A:-${B:-…}}` defaults followed; deeper is unknown (`None`), which keeps
/// the recursion off the stack's limit and the work linear.
const MAX_SUBST_DEPTH: usize = 8;

fn substitute_in(s: &str, vars: &dyn Lookup, depth: usize) -> Option<String> {
    if depth > MAX_SUBST_DEPTH {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek().map(|&(_, c)| c) {
            Some('{') => {
                chars.next();
                let mut inner = String::new();
                let mut braces = 1;
                for (_, c) in chars.by_ref() {
                    if c == '{' {
                        braces += 1;
                    } else if c == '}' {
                        braces -= 1;
                        if braces == 0 {
                            break;
                        }
                    }
                    inner.push(c);
                }
                let name_end = inner
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(inner.len());
                let (name, op) = inner.split_at(name_end);
                let val = vars.var(name).filter(|v| !v.is_empty());
                let set = vars.var(name).is_some();
                let r = if let Some(d) = op.strip_prefix(":-") {
                    match val {
                        Some(v) => v.clone(),
                        None => substitute_in(d, vars, depth + 1)?,
                    }
                } else if let Some(d) = op.strip_prefix('-') {
                    match vars.var(name) {
                        Some(v) => v.clone(),
                        None => substitute_in(d, vars, depth + 1)?,
                    }
                } else if let Some(a) = op.strip_prefix(":+") {
                    if val.is_some() {
                        substitute_in(a, vars, depth + 1)?
                    } else {
                        String::new()
                    }
                } else if let Some(a) = op.strip_prefix('+') {
                    if set {
                        substitute_in(a, vars, depth + 1)?
                    } else {
                        String::new()
                    }
                } else {
                    vars.var(name)?.clone()
                };
                out.push_str(&r);
            }
            Some(n) if n.is_ascii_alphabetic() || n == '_' => {
                let mut name = String::new();
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push_str(vars.var(&name)?);
            }
            _ => out.push('$'),
        }
    }
    Some(out)
}

/// An instruction's keyword (upper-cased), its leading `--flag[=value]`s (for the
/// instructions that take flags), and the rest of its text.
fn split_instruction(text: &str) -> (String, Vec<Flag>, String) {
    let (kw, rest) = match text.find(char::is_whitespace) {
        Some(p) => (&text[..p], text[p..].trim_start()),
        None => (text, ""),
    };
    let keyword = kw.to_ascii_uppercase();
    let mut rest = rest.to_string();
    let mut flags = Vec::new();
    if takes_flags(&keyword) {
        loop {
            let r = rest.trim_start();
            if !r.starts_with("--") {
                break;
            }
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            let tok = &r[2..end];
            let (name, value) = match tok.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(unquote(v))),
                None => (tok.to_string(), None),
            };
            flags.push(Flag { name, value });
            rest = r[end..].trim_start().to_string();
        }
    }
    (keyword, flags, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_comments_and_json() {
        let df = parse(
            "FROM debian:12 AS base\nRUN apt-get update \\\n# comment\n\n    && apt-get install -y curl\nCMD [\"sh\", \"-c\", \"x\"]\n",
        );
        assert_eq!(df.instructions.len(), 3);
        let run = &df.instructions[1];
        assert_eq!((run.line, run.end_line), (2, 5));
        assert!(run.args.contains("apt-get update"));
        assert!(run.args.contains("&& apt-get install -y curl"));
        assert_eq!(df.instructions[2].json.as_deref().map(|v| v.len()), Some(3));
        assert_eq!(df.stages[0].name.as_deref(), Some("base"));
    }

    #[test]
    fn escape_directive_backtick() {
        let df = parse("# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\n");
        assert_eq!(df.escape, '`');
        assert_eq!(df.instructions.len(), 2);
        assert!(df.instructions[1].args.contains("c:\\"));
    }

    #[test]
    fn heredocs_and_flags() {
        let df = parse(
            "FROM alpine:3\nRUN --mount=type=cache,target=/var/cache/apk <<EOF\napk add curl\nEOF\nCOPY --chmod=755 <<-\"A\" /a\n\techo hi\n\tA\nUSER 1000\n",
        );
        let run = &df.instructions[1];
        assert_eq!(
            run.flag_value("mount"),
            Some("type=cache,target=/var/cache/apk")
        );
        assert_eq!(run.heredocs[0].body, "apk add curl\n");
        assert!(run.shell_script().contains("apk add curl"));
        let copy = &df.instructions[2];
        assert_eq!(copy.flag_value("chmod"), Some("755"));
        assert!(copy.heredocs[0].quoted && copy.heredocs[0].strip_tabs);
        assert_eq!(copy.heredocs[0].body, "echo hi\n");
        assert_eq!(df.instructions[3].keyword, "USER");
        assert_eq!(df.instructions[3].line, 8);
    }

    #[test]
    fn arg_substitution_in_from() {
        let df =
            parse("ARG V=3.12\nARG R\nFROM python:${V}-slim\nFROM $R/x:1\nFROM x:${T:-latest}\n");
        assert_eq!(
            df.stages[0].image_resolved.as_deref(),
            Some("python:3.12-slim")
        );
        assert_eq!(df.stages[1].image_resolved, None);
        assert_eq!(df.stages[2].image_resolved.as_deref(), Some("x:latest"));
    }

    #[test]
    fn stage_variables_expand() {
        let df = parse(
            "ARG U=root\nFROM alpine:3 AS a\nARG U\nENV HOME=/srv APP=$HOME/app\nUSER ${U}\nWORKDIR $APP\nFROM a\nWORKDIR $APP/x\nUSER $NOPE\n",
        );
        let exp: Vec<_> = df.instructions.iter().map(|i| i.expanded.clone()).collect();
        assert_eq!(exp[4].as_deref(), Some("root"));
        assert_eq!(exp[5].as_deref(), Some("/srv/app"));
        assert_eq!(exp[7].as_deref(), Some("/srv/app/x"));
        assert_eq!(exp[8], None);
    }

    #[test]
    fn image_ref_parts() {
        let r = ImageRef::parse("localhost:5000/a/b:1.2@sha256:ab");
        assert_eq!(r.name, "localhost:5000/a/b");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:ab"));
        assert_eq!(ImageRef::parse("localhost:5000/a").tag, None);
    }
}
