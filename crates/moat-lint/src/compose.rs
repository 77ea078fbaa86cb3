//! Compose files (the Compose Specification, and old v1 files without `services:`).
//!
//! The YAML is read with serde-saphyr (merge keys `<<: *anchor` resolved) into a
//! generic tree that keeps each node's line and column. Then, as `docker compose`
//! does: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR:+alt}`
//! and `$$` are interpolated in every string (variables come from the `.env` file next
//! to the compose file, passed in by the caller; an unset variable becomes empty), and
//! `extends: {service: name}` within the same file is resolved.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// A YAML node with its position (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub column: u32,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    /// Follow a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }
    /// The scalar as text (numbers and booleans too).
    pub fn as_str(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    pub fn is_true(&self) -> bool {
        match &self.value {
            Value::Bool(b) => *b,
            Value::Str(s) => s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes"),
            _ => false,
        }
    }
    pub fn seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }
    pub fn map(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }
    /// List-or-map entries (`environment`, `labels`): `KEY=VALUE` items or `KEY: VALUE` pairs.
    pub fn key_values(&self) -> Vec<(String, Option<String>, u32)> {
        match &self.value {
            Value::Seq(s) => s
                .iter()
                .filter_map(|n| {
                    let t = n.as_str()?;
                    Some(match t.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string()), n.line),
                        None => (t, None, n.line),
                    })
                })
                .collect(),
            Value::Map(m) => m
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v.as_str(), k.line)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Str(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(n) = a.next_element::<Node>()? {
            v.push(n);
        }
        Ok(Value::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut v: Vec<(Node, Node)> = Vec::new();
        while let Some((k, val)) = a.next_entry::<Node, Node>()? {
            // A later key wins (merge keys put the merged entries first).
            if let Some(slot) = v.iter_mut().find(|(ek, _)| ek.value == k.value) {
                slot.1 = val;
            } else {
                v.push((k, val));
            }
        }
        Ok(Value::Map(v))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<Value>::deserialize(d)?;
        Ok(Node {
            line: u32::try_from(s.referenced.line()).unwrap_or(0),
            column: u32::try_from(s.referenced.column()).unwrap_or(0),
            value: s.value,
        })
    }
}

/// A parsed compose file.
#[derive(Debug, Clone)]
pub struct Compose {
    pub root: Node,
    /// Services in file order, `extends` resolved.
    pub services: Vec<Service>,
    /// Line of the `services:` key (1 for v1 files).
    pub services_line: u32,
    /// References not followed or pointing outside the project (`extends.file`,
    /// `env_file`), and budgets reached; DC018 reports them.
    pub warnings: Vec<Warning>,
    /// Parallel to `services`: each as a [`moat_model::ContainerSpec`], built on first
    /// use by `Compose::specs` (in the `container` module, which maps a service).
    pub specs: std::cell::OnceCell<Vec<moat_model::ContainerSpec>>,
}

/// A problem with a file the compose file refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: u32,
    pub message: String,
}

/// Bounds on following `extends: {file: …}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files deep (a file extending a file extending…).
    pub max_depth: usize,
    /// Distinct files read (each is parsed once, however often it is referenced).
    pub max_files: usize,
    /// `extends` resolutions in all (services × levels).
    pub max_refs: usize,
    /// YAML nodes copied by `extends` merges in all.
    pub max_merge_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 4,
            max_files: 64,
            max_refs: 4096,
            max_merge_nodes: 1 << 21,
        }
    }
}

/// Where the files a compose file names (`extends.file`, `env_file`) are found.
pub trait Files {
    /// Where `name` leads: a key that is the same for every spelling of one file (the
    /// canonical path), the path to show, and whether it is outside the project.
    fn locate(&self, name: &str) -> Located;
    /// Read a located file (regular files only, within the byte budget).
    fn read(&self, at: &Located) -> Result<String, crate::read::ReadError>;
}

/// A file named by a compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub key: String,
    pub shown: String,
    pub outside: bool,
}

/// [`Files`] over a [`Loader`] closure: names are keys; outside means absolute or
/// climbing out with `..`.
pub(crate) struct LoaderFiles<'a>(pub(crate) &'a Loader<'a>);

impl Files for LoaderFiles<'_> {
    fn locate(&self, name: &str) -> Located {
        Located {
            key: name.to_string(),
            shown: name.to_string(),
            outside: crate::read::escapes_lexically(name),
        }
    }
    fn read(&self, at: &Located) -> Result<String, crate::read::ReadError> {
        (self.0)(&at.key).ok_or_else(|| {
            crate::read::ReadError::Io(std::io::Error::from(std::io::ErrorKind::NotFound))
        })
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub line: u32,
    pub column: u32,
    /// The service mapping, after interpolation and `extends`.
    pub node: Node,
}

impl Service {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.node.get(key)
    }
    /// Line of `key` if present, else the service's line.
    pub fn line_of(&self, key: &str) -> u32 {
        self.node
            .map()
            .iter()
            .find(|(k, _)| k.as_str().as_deref() == Some(key))
            .map(|(k, _)| k.line)
            .unwrap_or(self.line)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ComposeError(pub String);

/// Parse a `.env` file: `KEY=VALUE` lines, `#` comments, optional quotes, `export `.
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for l in text.lines() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.strip_prefix("export ").unwrap_or(l);
        if let Some((k, v)) = l.split_once('=') {
            let v = v.trim();
            let v = if (v.starts_with('"') && v.ends_with('"')
                || v.starts_with('\'') && v.ends_with('\''))
                && v.len() >= 2
            {
                v[1..v.len() - 1].to_string()
            } else {
                v.split(" #").next().unwrap_or(v).trim().to_string()
            };
            m.insert(k.trim().to_string(), v);
        }
    }
    m
}

/// Compose interpolation of one string.
pub fn interpolate(s: &str, vars: &BTreeMap<String, String>) -> String {
    interpolate_depth(s, vars, 0)
}

/// Nesting of `${A:-${B:-…}}` followed; deeper defaults are left empty (bounded
/// recursion, linear work).
const MAX_INTERPOLATION_DEPTH: usize = 8;

fn interpolate_depth(s: &str, vars: &BTreeMap<String, String>, depth: usize) -> String {
    if depth > MAX_INTERPOLATION_DEPTH {
        return String::new();
    }
    if !s.contains('$') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match it.peek().copied() {
            Some('$') => {
                it.next();
                out.push('$');
            }
            Some('{') => {
                it.next();
                let mut inner = String::new();
                let mut braces = 1;
                for c in it.by_ref() {
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
                let end = inner
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(inner.len());
                let (name, op) = inner.split_at(end);
                let val = vars.get(name);
                let nonempty = val.filter(|v| !v.is_empty());
                let r = if let Some(d) = op.strip_prefix(":-") {
                    nonempty
                        .cloned()
                        .unwrap_or_else(|| interpolate_depth(d, vars, depth + 1))
                } else if let Some(d) = op.strip_prefix('-') {
                    val.cloned()
                        .unwrap_or_else(|| interpolate_depth(d, vars, depth + 1))
                } else if let Some(a) = op.strip_prefix(":+") {
                    if nonempty.is_some() {
                        interpolate_depth(a, vars, depth + 1)
                    } else {
                        String::new()
                    }
                } else if let Some(a) = op.strip_prefix('+') {
                    if val.is_some() {
                        interpolate_depth(a, vars, depth + 1)
                    } else {
                        String::new()
                    }
                } else {
                    // `${VAR}`, `${VAR:?err}`, `${VAR?err}`: the value or empty.
                    val.cloned().unwrap_or_default()
                };
                out.push_str(&r);
            }
            Some(n) if n.is_ascii_alphabetic() || n == '_' => {
                let mut name = String::new();
                while let Some(&n) = it.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
            }
            _ => out.push('$'),
        }
    }
    out
}

fn interpolate_node(n: &mut Node, vars: &BTreeMap<String, String>) {
    match &mut n.value {
        Value::Str(s) => *s = interpolate(s, vars),
        Value::Seq(v) => v.iter_mut().for_each(|x| interpolate_node(x, vars)),
        Value::Map(m) => m.iter_mut().for_each(|(_, x)| interpolate_node(x, vars)),
        _ => {}
    }
}

/// Merge `over` onto `base` as `extends` does: mappings merge key by key, sequences
/// concatenate, scalars are replaced.
fn merge(base: &Node, over: &Node) -> Node {
    match (&base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                if let Some(slot) = out.iter_mut().find(|(bk, _)| bk.value == k.value) {
                    slot.1 = merge(&slot.1, v);
                } else {
                    out.push((k.clone(), v.clone()));
                }
            }
            Node {
                line: over.line,
                column: over.column,
                value: Value::Map(out),
            }
        }
        (Value::Seq(b), Value::Seq(o)) => {
            let mut out = b.clone();
            out.extend(o.iter().cloned());
            Node {
                line: over.line,
                column: over.column,
                value: Value::Seq(out),
            }
        }
        _ => over.clone(),
    }
}

/// Parse a compose file's text with the given variables (from `.env`).
pub fn parse(text: &str, vars: &BTreeMap<String, String>) -> Result<Compose, ComposeError> {
    parse_with_loader(text, vars, &|_| None)
}

/// Reads another compose file named by `extends: {file: …}` (relative to this file).
pub type Loader<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// Parse, following `extends: {file: …}` through `load` (default [`Limits`]).
pub fn parse_with_loader(
    text: &str,
    vars: &BTreeMap<String, String>,
    load: &Loader<'_>,
) -> Result<Compose, ComposeError> {
    parse_with_files(text, vars, &LoaderFiles(load), Limits::default())
}

/// Parse, following `extends: {file: …}` through `files` within `limits`: each file
/// is read and parsed once however many services refer to it.
pub fn parse_with_files(
    text: &str,
    vars: &BTreeMap<String, String>,
    files: &dyn Files,
    limits: Limits,
) -> Result<Compose, ComposeError> {
    let mut cx = Ctx {
        vars,
        files,
        limits,
        cache: std::collections::HashMap::new(),
        files_read: 0,
        refs: 0,
        nodes: 0,
        warned_budget: false,
        warnings: Vec::new(),
    };
    let mut c = parse_depth(text, &mut cx, 0)?;
    c.warnings = std::mem::take(&mut cx.warnings);
    Ok(c)
}

struct Ctx<'a> {
    vars: &'a BTreeMap<String, String>,
    files: &'a dyn Files,
    limits: Limits,
    /// Services of each file read, by key (`None`: not readable or not parsable).
    cache: std::collections::HashMap<String, Option<std::rc::Rc<Vec<Service>>>>,
    files_read: usize,
    refs: usize,
    nodes: usize,
    warned_budget: bool,
    warnings: Vec<Warning>,
}

impl Ctx<'_> {
    fn budget(&mut self, line: u32, what: &str) {
        if !self.warned_budget {
            self.warned_budget = true;
            self.warnings.push(Warning {
                line,
                message: format!("extends not followed further: {what}"),
            });
        }
    }

    /// The services of another file, read and parsed at most once.
    fn services_of(
        &mut self,
        file: &str,
        line: u32,
        depth: usize,
    ) -> Option<std::rc::Rc<Vec<Service>>> {
        let at = self.files.locate(file);
        if at.outside {
            self.warnings.push(Warning {
                line,
                message: format!("extends file {} is outside the project directory", at.shown),
            });
        }
        if let Some(c) = self.cache.get(&at.key) {
            return c.clone();
        }
        if depth >= self.limits.max_depth {
            self.budget(
                line,
                &format!("more than {} files deep (max_depth)", self.limits.max_depth),
            );
            return None;
        }
        if self.files_read >= self.limits.max_files {
            self.budget(
                line,
                &format!("more than {} files (max_files)", self.limits.max_files),
            );
            return None;
        }
        self.files_read += 1;
        // Mark it first: a file extending itself ends here.
        self.cache.insert(at.key.clone(), None);
        let parsed = match self.files.read(&at) {
            Ok(text) => match parse_depth(&text, self, depth + 1) {
                Ok(c) => Some(std::rc::Rc::new(c.services)),
                Err(e) => {
                    self.warnings.push(Warning {
                        line,
                        message: format!("extends file {} not followed: {e}", at.shown),
                    });
                    None
                }
            },
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                self.warnings.push(Warning {
                    line,
                    message: format!("extends file {} not read: {e}", at.shown),
                });
                None
            }
        };
        self.cache.insert(at.key, parsed.clone());
        parsed
    }
}

/// Number of nodes in a tree (the cost of copying it).
fn size(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(v) => v.iter().map(size).sum(),
        Value::Map(m) => m.iter().map(|(k, v)| size(k) + size(v)).sum(),
        _ => 0,
    }
}

/// The `env_file` names of a service (a string, a list of strings, or a list of
/// `{path, required}`), with their lines.
fn env_files(node: &Node) -> Vec<(String, u32)> {
    let Some(e) = node.get("env_file") else {
        return Vec::new();
    };
    match &e.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| {
                let n = i
                    .as_str()
                    .or_else(|| i.get("path").and_then(Node::as_str))?;
                Some((n, i.line))
            })
            .collect(),
        _ => e.as_str().map(|n| vec![(n, e.line)]).unwrap_or_default(),
    }
}

fn parse_depth(text: &str, cx: &mut Ctx<'_>, depth: usize) -> Result<Compose, ComposeError> {
    let mut root: Node = serde_saphyr::from_str(text).map_err(|e| {
        ComposeError(format!(
            "invalid YAML: {}",
            e.to_string().lines().next().unwrap_or("")
        ))
    })?;
    interpolate_node(&mut root, cx.vars);
    let (services_node, services_line) = match root
        .map()
        .iter()
        .find(|(k, _)| k.as_str().as_deref() == Some("services"))
    {
        Some((k, v)) => (v.clone(), k.line),
        None => {
            // Old (v1) format: every top-level mapping with image/build is a service.
            let looks_v1 = root
                .map()
                .iter()
                .any(|(_, v)| v.get("image").is_some() || v.get("build").is_some());
            if !looks_v1 {
                if matches!(root.value, Value::Map(_)) {
                    return Ok(Compose {
                        root,
                        services: Vec::new(),
                        services_line: 1,
                        warnings: Vec::new(),
                        specs: std::cell::OnceCell::new(),
                    });
                }
                return Err(ComposeError(
                    "not a compose file: the top level is not a mapping".into(),
                ));
            }
            (root.clone(), 1)
        }
    };
    let raw: Vec<(String, Node, u32, u32)> = services_node
        .map()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v.clone(), k.line, k.column)))
        .collect();
    let by_name: std::collections::HashMap<&str, &Node> =
        raw.iter().map(|r| (r.0.as_str(), &r.1)).collect();
    let mut services = Vec::new();
    for (name, node, line, column) in &raw {
        let mut node = node.clone();
        if depth == 0 {
            for (f, l) in env_files(&node) {
                let at = cx.files.locate(&f);
                if at.outside {
                    cx.warnings.push(Warning {
                        line: l,
                        message: format!("env_file {} is outside the project directory", at.shown),
                    });
                }
            }
        }
        // `extends` within this file, followed up to 16 levels.
        for _ in 0..16 {
            let Some(ext) = node.get("extends") else {
                break;
            };
            let ext_line = ext.line;
            if cx.refs >= cx.limits.max_refs {
                let m = cx.limits.max_refs;
                cx.budget(ext_line, &format!("more than {m} references (max_refs)"));
                break;
            }
            cx.refs += 1;
            let target = ext
                .as_str()
                .or_else(|| ext.get("service").and_then(Node::as_str));
            let base: Option<Node> = match ext.get("file").and_then(Node::as_str) {
                Some(file) => match target.as_deref() {
                    Some(t) => cx
                        .services_of(&file, ext_line, depth)
                        .and_then(|svcs| svcs.iter().find(|s| s.name == t).map(|s| s.node.clone())),
                    None => None,
                },
                None => target
                    .as_deref()
                    .and_then(|t| by_name.get(t))
                    .map(|n| (*n).clone()),
            };
            let Some(base) = base else {
                break;
            };
            let cost = size(&base) + size(&node);
            if cx.nodes.saturating_add(cost) > cx.limits.max_merge_nodes {
                let m = cx.limits.max_merge_nodes;
                cx.budget(
                    ext_line,
                    &format!("more than {m} nodes merged (max_merge_nodes)"),
                );
                break;
            }
            cx.nodes += cost;
            let mut over = node;
            if let Value::Map(m) = &mut over.value {
                m.retain(|(k, _)| k.as_str().as_deref() != Some("extends"));
            }
            node = merge(&base, &over);
        }
        services.push(Service {
            name: name.clone(),
            line: *line,
            column: *column,
            node,
        });
    }
    Ok(Compose {
        root,
        services,
        services_line,
        warnings: Vec::new(),
        specs: std::cell::OnceCell::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_merge_keys_interpolation_extends() {
        let text = "x-base: &base\n  restart: always\n  privileged: true\nservices:\n  web:\n    <<: *base\n    image: \"nginx:${TAG:-1.27}\"\n    environment:\n      - A=$$B\n  worker:\n    extends: web\n    user: \"1000\"\n";
        let c = parse(text, &BTreeMap::new()).unwrap();
        assert_eq!(c.services_line, 4);
        let web = &c.services[0];
        assert_eq!((web.name.as_str(), web.line), ("web", 5));
        assert_eq!(
            web.get("image").and_then(Node::as_str).as_deref(),
            Some("nginx:1.27")
        );
        assert!(web.get("privileged").is_some_and(Node::is_true));
        assert_eq!(web.line_of("image"), 7);
        assert_eq!(
            web.get("environment").unwrap().key_values()[0].1.as_deref(),
            Some("$B")
        );
        let worker = &c.services[1];
        assert!(worker.get("privileged").is_some_and(Node::is_true));
        assert_eq!(
            worker.get("user").and_then(Node::as_str).as_deref(),
            Some("1000")
        );
    }

    #[test]
    fn extends_another_file() {
        let base = "services:\n  common:\n    image: app:1\n    privileged: true\n";
        let text =
            "services:\n  web:\n    extends:\n      file: common.yml\n      service: common\n";
        let load = |f: &str| (f == "common.yml").then(|| base.to_string());
        let c = parse_with_loader(text, &BTreeMap::new(), &load).unwrap();
        assert!(c.services[0].get("privileged").is_some_and(Node::is_true));
        assert_eq!(c.services[0].line, 2);
    }

    #[test]
    fn v1_and_dotenv() {
        let vars = parse_dotenv("# c\nTAG=3\nexport X='y'\n");
        let c = parse("db:\n  image: postgres:${TAG}\n", &vars).unwrap();
        assert_eq!(
            c.services[0].get("image").and_then(Node::as_str).as_deref(),
            Some("postgres:3")
        );
        assert!(parse("a: [\n", &vars).is_err());
    }
}
