//! Compose files → the planned deployment's networks and services. The YAML is read by
//! moat-lint's compose parser (interpolation from `.env`, merge keys, `extends`); this
//! module only maps the networking keys of the parsed tree: top-level `networks`, and
//! each service's `networks` (aliases, fixed addresses), `network_mode`, `ports`,
//! `expose`, `links`, `labels`, `volumes` (the Docker socket).

use crate::NetsegError;
use crate::ports;
use moat_lint::compose::{self, Node, Value};
use moat_model::network::{Endpoint, NetMode, NetworkInfo, NodeInfo};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bounds on what a compose file may ask for.
#[derive(Debug, Clone, Copy)]
pub struct ComposeLimits {
    /// Bytes of one compose file (and of `.env`, and of each `extends` file).
    pub max_file_bytes: u64,
    /// Services in all files.
    pub max_services: usize,
    /// Networks in all files.
    pub max_networks: usize,
}

impl Default for ComposeLimits {
    fn default() -> Self {
        ComposeLimits {
            max_file_bytes: moat_lint::read::DEFAULT_MAX_FILE_BYTES,
            max_services: 1000,
            max_networks: 1000,
        }
    }
}

/// One compose file as a project: its networks and services.
#[derive(Debug, Clone, Default)]
pub struct ComposeModel {
    pub networks: Vec<NetworkInfo>,
    pub nodes: Vec<NodeInfo>,
    pub warnings: Vec<String>,
}

/// The files an `extends: {file: …}` names, relative to the compose file's directory,
/// within the byte budget (moat-lint's reader: regular files only).
struct DirFiles {
    dir: PathBuf,
    max: u64,
}

impl compose::Files for DirFiles {
    fn locate(&self, name: &str) -> compose::Located {
        let (real, outside) = moat_lint::read::is_outside(&self.dir, name);
        compose::Located {
            key: real.display().to_string(),
            shown: name.to_string(),
            outside,
        }
    }
    fn read(&self, at: &compose::Located) -> Result<String, moat_lint::read::ReadError> {
        moat_lint::read::read_text(Path::new(&at.key), self.max)
    }
}

/// The project name compose derives: the top-level `name:`, else the directory's
/// name, lower-cased, keeping `[a-z0-9_-]`.
fn project_name(root: &Node, path: &Path) -> String {
    if let Some(n) = root.get("name").and_then(Node::as_str)
        && !n.trim().is_empty()
    {
        return n.trim().to_string();
    }
    let dir = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "default".to_string());
    let s: String = dir
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if s.is_empty() {
        "default".to_string()
    } else {
        s
    }
}

fn strs(n: Option<&Node>) -> Vec<String> {
    n.map(|n| n.seq().iter().filter_map(Node::as_str).collect())
        .unwrap_or_default()
}

/// Reads and maps one compose file. `project` overrides the derived project name.
pub fn load(
    path: &Path,
    project: Option<&str>,
    limits: &ComposeLimits,
) -> Result<(String, ComposeModel), NetsegError> {
    let shown = path.display().to_string();
    let err = |m: String| NetsegError::Compose {
        path: shown.clone(),
        message: m,
    };
    let text =
        moat_lint::read::read_text(path, limits.max_file_bytes).map_err(|e| err(e.to_string()))?;
    let mut warnings = Vec::new();
    let (dir, vars) = project_dir_and_env(path, limits, &mut warnings);
    let files = DirFiles {
        dir,
        max: limits.max_file_bytes,
    };
    let c = compose::parse_with_files(&text, &vars, &files, compose::Limits::default())
        .map_err(|e| err(e.to_string()))?;
    if !matches!(c.root.value, Value::Map(_)) {
        return Err(err(
            "not a compose file: the top level is not a mapping".into()
        ));
    }
    if c.services.is_empty() {
        return Err(err("no services".into()));
    }
    if c.services.len() > limits.max_services {
        return Err(err(format!(
            "{} services, more than the limit of {}",
            c.services.len(),
            limits.max_services
        )));
    }
    for w in &c.warnings {
        warnings.push(format!("{shown}:{}: {}", w.line, w.message));
    }
    let project = project
        .map(str::to_string)
        .unwrap_or_else(|| project_name(&c.root, path));
    let mut m = map(&c, &project, &shown, None, limits)?;
    m.warnings.splice(0..0, warnings);
    Ok((project, m))
}

/// The parsed file's networking, for project `project`.
fn map(
    c: &compose::Compose,
    project: &str,
    shown: &str,
    origins: Option<&[String]>,
    limits: &ComposeLimits,
) -> Result<ComposeModel, NetsegError> {
    let mut out = ComposeModel::default();
    // Top-level networks, by key.
    let mut nets: BTreeMap<String, NetworkInfo> = BTreeMap::new();
    let top = c.root.get("networks");
    if let Some(t) = top {
        if t.map().len() > limits.max_networks {
            return Err(NetsegError::Compose {
                path: shown.to_string(),
                message: format!(
                    "{} networks, more than the limit of {}",
                    t.map().len(),
                    limits.max_networks
                ),
            });
        }
        for (k, v) in t.map() {
            let Some(key) = k.as_str() else { continue };
            nets.insert(key.clone(), network(project, &key, v));
        }
    }
    let mut uses_default = false;
    for (si, s) in c.services.iter().enumerate() {
        let shown = origins
            .and_then(|o| o.get(si))
            .map_or(shown, String::as_str);
        let mut node = NodeInfo {
            name: s.name.clone(),
            service: Some(s.name.clone()),
            project: Some(project.to_string()),
            image: s.get("image").and_then(Node::as_str),
            labels: s
                .get("labels")
                .map(|l| {
                    l.key_values()
                        .into_iter()
                        .map(|(k, v, _)| (k, v.unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default(),
            mode: NetMode::Bridge,
            endpoints: Vec::new(),
            links: strs(s.get("links")),
            published: Vec::new(),
            exposed: Vec::new(),
            listening: None,
            docker_socket: false,
            pid: None,
            running: false,
            defined_at: Some(format!("{shown}:{}", s.line)),
            zone: None,
        };
        let mode = s.get("network_mode").and_then(Node::as_str);
        match mode.as_deref().map(str::trim) {
            Some("host") => node.mode = NetMode::Host,
            Some("none") => node.mode = NetMode::None,
            Some("bridge") => node.endpoints.push(Endpoint {
                network: "bridge".into(),
                ipv4: None,
                ipv6: None,
                aliases: Vec::new(),
            }),
            Some(m) if m.starts_with("service:") || m.starts_with("container:") => {
                let (_, t) = m.split_once(':').unwrap_or(("", ""));
                node.mode = NetMode::Container(t.to_string());
            }
            Some(m) if !m.is_empty() => {
                // A network by name (`network_mode: my-net`).
                node.endpoints.push(Endpoint {
                    network: m.to_string(),
                    ipv4: None,
                    ipv6: None,
                    aliases: Vec::new(),
                });
            }
            _ => {
                let eps = endpoints(s.get("networks"));
                if eps.is_empty() {
                    uses_default = true;
                    node.endpoints.push(Endpoint {
                        network: format!("{project}_default"),
                        ipv4: None,
                        ipv6: None,
                        aliases: vec![s.name.clone()],
                    });
                } else {
                    for mut e in eps {
                        let info = nets.entry(e.network.clone()).or_insert_with(|| {
                            out.warnings.push(format!(
                                "{shown}:{}: service {} uses network {}, which is not declared",
                                s.line, s.name, e.network
                            ));
                            network(
                                project,
                                &e.network,
                                &Node {
                                    line: 0,
                                    column: 0,
                                    value: Value::Null,
                                },
                            )
                        });
                        e.network = info.name.clone();
                        e.aliases.insert(0, s.name.clone());
                        node.endpoints.push(e);
                    }
                }
            }
        }
        if let Some(p) = s.get("ports") {
            for n in p.seq() {
                match ports::compose_port(n) {
                    Ok(v) => node.published.extend(v),
                    Err(e) => out.warnings.push(format!(
                        "{shown}:{}: service {}: port not understood: {e}",
                        n.line, s.name
                    )),
                }
            }
        }
        if let Some(p) = s.get("expose") {
            for n in p.seq() {
                match n.as_str().map(|t| ports::expose(&t)) {
                    Some(Ok(v)) => node.exposed.extend(v),
                    Some(Err(e)) => out.warnings.push(format!(
                        "{shown}:{}: service {}: expose not understood: {e}",
                        n.line, s.name
                    )),
                    None => {}
                }
            }
        }
        node.docker_socket = s
            .get("volumes")
            .map(|v| v.seq().iter().any(mounts_docker_socket))
            .unwrap_or(false);
        out.nodes.push(node);
    }
    if uses_default {
        nets.entry("default".into()).or_insert_with(|| NetworkInfo {
            name: format!("{project}_default"),
            key: Some("default".into()),
            driver: "bridge".into(),
            ..Default::default()
        });
    }
    if out
        .nodes
        .iter()
        .any(|n| n.endpoints.iter().any(|e| e.network == "bridge"))
    {
        nets.entry("bridge".into()).or_insert_with(|| NetworkInfo {
            name: "bridge".into(),
            key: None,
            driver: "bridge".into(),
            default_bridge: true,
            external: true,
            ..Default::default()
        });
    }
    out.networks = nets.into_values().collect();
    Ok(out)
}

/// One top-level network declaration.
fn network(project: &str, key: &str, v: &Node) -> NetworkInfo {
    let external = v
        .get("external")
        .is_some_and(|e| e.is_true() || matches!(e.value, Value::Map(_)));
    let explicit = v
        .get("name")
        .and_then(Node::as_str)
        .or_else(|| v.path(&["external", "name"]).and_then(Node::as_str));
    let name = match explicit {
        Some(n) => n,
        None if external => key.to_string(),
        None => format!("{project}_{key}"),
    };
    let opts = v.get("driver_opts");
    let icc = opts
        .and_then(|o| o.get("com.docker.network.bridge.enable_icc"))
        .map(Node::is_true);
    let subnets = v
        .path(&["ipam", "config"])
        .map(|c| {
            c.seq()
                .iter()
                .filter_map(|i| i.get("subnet").and_then(Node::as_str))
                .collect()
        })
        .unwrap_or_default();
    let gateways = v
        .path(&["ipam", "config"])
        .map(|c| {
            c.seq()
                .iter()
                .filter_map(|i| i.get("gateway").and_then(Node::as_str))
                .collect()
        })
        .unwrap_or_default();
    NetworkInfo {
        default_bridge: name == "bridge",
        gateways,
        name,
        key: Some(key.to_string()),
        driver: v
            .get("driver")
            .and_then(Node::as_str)
            .unwrap_or_else(|| "bridge".to_string()),
        internal: v.get("internal").is_some_and(Node::is_true),
        subnets,
        icc,
        attachable: v.get("attachable").is_some_and(Node::is_true),
        external,
        bridge: opts
            .and_then(|o| o.get("com.docker.network.bridge.name"))
            .and_then(Node::as_str),
    }
}

/// A service's `networks`: a list of keys or a mapping key → {aliases, ipv4_address…}.
fn endpoints(n: Option<&Node>) -> Vec<Endpoint> {
    let Some(n) = n else { return Vec::new() };
    match &n.value {
        Value::Seq(v) => v
            .iter()
            .filter_map(Node::as_str)
            .map(|k| Endpoint {
                network: k,
                ipv4: None,
                ipv6: None,
                aliases: Vec::new(),
            })
            .collect(),
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| {
                Some(Endpoint {
                    network: k.as_str()?,
                    ipv4: v.get("ipv4_address").and_then(Node::as_str),
                    ipv6: v.get("ipv6_address").and_then(Node::as_str),
                    aliases: strs(v.get("aliases")),
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a `volumes` entry mounts the Docker socket.
fn mounts_docker_socket(v: &Node) -> bool {
    let (src, dst) = match v.as_str() {
        Some(s) => {
            let mut parts = s.splitn(3, ':');
            (
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").to_string(),
            )
        }
        None => (
            v.get("source").and_then(Node::as_str).unwrap_or_default(),
            v.get("target").and_then(Node::as_str).unwrap_or_default(),
        ),
    };
    is_docker_socket(&src) || (src.starts_with('/') && is_docker_socket(&dst))
}

/// A path that is (very likely) the Docker engine's socket.
pub fn is_docker_socket(p: &str) -> bool {
    let p = p.trim_end_matches('/');
    p.ends_with("/docker.sock") || p == "docker.sock"
}

/// `!reset` and `!override` (compose's merge tags) found in a file's text, by key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Reset,
    Override,
}

/// The `!reset` / `!override` tags of block-style YAML (`key: !reset …` on its own
/// line), by key path, and the text with the tags blanked (same length, so lines and
/// columns stay). Tags in flow style (`{ports: !reset []}`) or on sequence items are
/// not seen.
pub fn merge_tags(text: &str) -> (BTreeMap<Vec<String>, Tag>, String) {
    let mut tags = BTreeMap::new();
    let mut out = String::with_capacity(text.len());
    let mut stack: Vec<(usize, String)> = Vec::new();
    // Inside a block scalar (`key: |`) opened at this indentation: its lines are text.
    let mut block: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let indent = body.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            out.push_str(line);
            continue;
        }
        match block {
            Some(b) if indent > b => {
                out.push_str(line);
                continue;
            }
            _ => block = None,
        }
        let item = trimmed.starts_with("- ") || trimmed == "-";
        let key_part = if item { None } else { Some(trimmed) };
        let Some((key, rest)) = key_part.and_then(|t| {
            let (k, r) = t.split_once(':')?;
            // `key:` followed by a space, the end, or nothing else.
            (r.is_empty() || r.starts_with(' ')).then_some((k, r))
        }) else {
            while stack.last().is_some_and(|(i, _)| *i >= indent && item) {
                stack.pop();
            }
            out.push_str(line);
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let key = key.trim().trim_matches(['"', '\'']).to_string();
        stack.push((indent, key));
        let value = rest.trim_start();
        if value.starts_with('|') || value.starts_with('>') {
            block = Some(indent);
        }
        let tag = if value.starts_with("!reset") {
            Some((Tag::Reset, "!reset"))
        } else if value.starts_with("!override") {
            Some((Tag::Override, "!override"))
        } else {
            None
        };
        match tag {
            Some((t, word)) => {
                tags.insert(stack.iter().map(|(_, k)| k.clone()).collect(), t);
                let at = body.len() - value.len();
                out.push_str(&line[..at]);
                out.push_str(&" ".repeat(word.len()));
                out.push_str(&line[at + word.len()..]);
            }
            None => out.push_str(line),
        }
    }
    (tags, out)
}

fn null_node(line: u32) -> Node {
    Node {
        line,
        column: 0,
        value: Value::Null,
    }
}

fn str_node(s: &str, line: u32) -> Node {
    Node {
        line,
        column: 0,
        value: Value::Str(s.to_string()),
    }
}

/// A list-or-map attribute as a map (`[a, b]` → `{a: null, b: null}`; `K=V` items →
/// `K: V`).
fn as_map(n: &Node, split_eq: bool) -> Node {
    match &n.value {
        Value::Seq(items) => Node {
            line: n.line,
            column: n.column,
            value: Value::Map(
                items
                    .iter()
                    .filter_map(|i| {
                        let t = i.as_str()?;
                        Some(match t.split_once('=').filter(|_| split_eq) {
                            Some((k, v)) => (str_node(k, i.line), str_node(v, i.line)),
                            None => (str_node(&t, i.line), null_node(i.line)),
                        })
                    })
                    .collect(),
            ),
        },
        _ => n.clone(),
    }
}

/// The unique key of a `ports` entry: {ip, target, published, protocol}.
fn port_key(n: &Node) -> String {
    match ports::compose_port(n) {
        Ok(v) => v
            .iter()
            .map(|p| format!("{}|{}|{:?}", p.host_ip, p.container, p.host_port))
            .collect::<Vec<_>>()
            .join(","),
        Err(_) => format!("{:?}", n.value),
    }
}

/// The unique key of a `volumes` / `secrets` / `configs` entry: its target.
fn target_key(n: &Node) -> String {
    match n.as_str() {
        Some(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.as_slice() {
                [one] => one.to_string(),
                [_, t, ..] => t.to_string(),
                [] => s,
            }
        }
        None => n
            .get("target")
            .and_then(Node::as_str)
            .or_else(|| n.get("source").and_then(Node::as_str))
            .unwrap_or_else(|| format!("{:?}", n.value)),
    }
}

/// Appends `over`'s entries to `base`'s, an entry sharing a key replacing the earlier.
fn unique(base: &Node, over: &Node, key: fn(&Node) -> String) -> Node {
    let mut out: Vec<Node> = base.seq().to_vec();
    for o in over.seq() {
        let k = key(o);
        match out.iter_mut().find(|b| key(b) == k) {
            Some(slot) => *slot = o.clone(),
            None => out.push(o.clone()),
        }
    }
    Node {
        line: over.line,
        column: over.column,
        value: Value::Seq(out),
    }
}

/// Merges `over` onto `base` at `path` as `docker compose -f base -f over` does
/// (the compose specification's merge rules): mappings merge key by key; sequences
/// append; `command`, `entrypoint` and `healthcheck.test` are replaced; `ports`
/// (by ip, target, published, protocol), `volumes`, `secrets` and `configs` (by
/// target) and `expose` are unique; list-or-map attributes (`networks`, `labels`,
/// `environment`, `depends_on`, …) merge as maps; `!reset` removes, `!override`
/// replaces.
pub fn merge_at(
    path: &[String],
    base: &Node,
    over: &Node,
    tags: &BTreeMap<Vec<String>, Tag>,
) -> Node {
    if tags.get(path) == Some(&Tag::Override) {
        return over.clone();
    }
    let in_service = path.len() == 3 && path[0] == "services";
    if in_service {
        match path[2].as_str() {
            "command" | "entrypoint" => return over.clone(),
            "ports" => return unique(base, over, port_key),
            "volumes" | "secrets" | "configs" => return unique(base, over, target_key),
            "expose" | "dns" | "dns_search" | "cap_add" | "cap_drop" | "links"
            | "external_links" | "security_opt" => {
                return unique(base, over, |n| format!("{:?}", n.as_str()));
            }
            k @ ("networks" | "labels" | "environment" | "depends_on" | "extra_hosts"
            | "sysctls" | "annotations") => {
                let eq = !matches!(k, "networks" | "depends_on");
                return merge_map(path, &as_map(base, eq), &as_map(over, eq), tags);
            }
            _ => {}
        }
    }
    if path.len() == 4 && path[0] == "services" && path[2] == "healthcheck" && path[3] == "test" {
        return over.clone();
    }
    match (&base.value, &over.value) {
        (Value::Map(_), Value::Map(_)) => merge_map(path, base, over, tags),
        (Value::Seq(b), Value::Seq(o)) => {
            let mut out = b.clone();
            out.extend(o.iter().cloned());
            Node {
                line: over.line,
                column: over.column,
                value: Value::Seq(out),
            }
        }
        // `key:` with no value in the override (e.g. a network listed with no options)
        // keeps the base's mapping.
        (Value::Map(_), Value::Null) => base.clone(),
        _ => over.clone(),
    }
}

fn merge_map(path: &[String], base: &Node, over: &Node, tags: &BTreeMap<Vec<String>, Tag>) -> Node {
    let mut out: Vec<(Node, Node)> = base.map().to_vec();
    for (k, v) in over.map() {
        let Some(key) = k.as_str() else { continue };
        let mut p = path.to_vec();
        p.push(key.clone());
        if tags.get(&p) == Some(&Tag::Reset) {
            out.retain(|(bk, _)| bk.as_str().as_deref() != Some(key.as_str()));
            continue;
        }
        match out
            .iter_mut()
            .find(|(bk, _)| bk.as_str().as_deref() == Some(key.as_str()))
        {
            Some(slot) => slot.1 = merge_at(&p, &slot.1, v, tags),
            None => out.push((k.clone(), v.clone())),
        }
    }
    Node {
        line: base.line,
        column: base.column,
        value: Value::Map(out),
    }
}

/// Reads several compose files and merges them in order as `docker compose -f a -f b`
/// does (one project: the merged `name:`, else the first file's directory; `.env`
/// next to the first file), then maps the result.
pub fn load_merged(
    paths: &[PathBuf],
    limits: &ComposeLimits,
) -> Result<(String, ComposeModel), NetsegError> {
    let Some(first) = paths.first() else {
        return Err(NetsegError::Compose {
            path: String::new(),
            message: "no compose file".into(),
        });
    };
    if paths.len() == 1 {
        return load(first, None, limits);
    }
    let m = merge_files(paths, limits)?;
    let project = project_name(&m.compose.root, first);
    let mut model = map(
        &m.compose,
        &project,
        &first.display().to_string(),
        Some(&m.origins),
        limits,
    )?;
    model.warnings.splice(0..0, m.warnings);
    Ok((project, model))
}

/// Several compose files merged into one.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged top level (`services` holds the merged services too).
    pub compose: compose::Compose,
    /// Parallel to `compose.services`: the file that first defines each.
    pub origins: Vec<String>,
    pub warnings: Vec<String>,
}

/// The project directory of a compose file (its folder, `.` for a bare name) and the
/// variables of the `.env` there (none when it is missing; a warning when unreadable).
fn project_dir_and_env(
    path: &Path,
    limits: &ComposeLimits,
    warnings: &mut Vec<String>,
) -> (PathBuf, BTreeMap<String, String>) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let vars = match moat_lint::read::read_text(&dir.join(".env"), limits.max_file_bytes) {
        Ok(env) => compose::parse_dotenv(&env),
        Err(e) if e.is_not_found() => BTreeMap::new(),
        Err(e) => {
            warnings.push(format!("{}: .env not read: {e}", path.display()));
            BTreeMap::new()
        }
    };
    (dir, vars)
}

/// Reads `paths` and merges them in order (see [`merge_at`]).
pub fn merge_files(paths: &[PathBuf], limits: &ComposeLimits) -> Result<Merged, NetsegError> {
    let Some(first) = paths.first() else {
        return Err(NetsegError::Compose {
            path: String::new(),
            message: "no compose file".into(),
        });
    };
    let mut warnings = Vec::new();
    let (_, vars) = project_dir_and_env(first, limits, &mut warnings);
    let mut root: Option<Node> = None;
    // Service name → (merged node, first file, line there).
    let mut services: Vec<(String, Node, String, u32)> = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let err = |m: String| NetsegError::Compose {
            path: shown.clone(),
            message: m,
        };
        let text = moat_lint::read::read_text(path, limits.max_file_bytes)
            .map_err(|e| err(e.to_string()))?;
        let (tags, text) = merge_tags(&text);
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let files = DirFiles {
            dir,
            max: limits.max_file_bytes,
        };
        let c = compose::parse_with_files(&text, &vars, &files, compose::Limits::default())
            .map_err(|e| err(e.to_string()))?;
        if !matches!(c.root.value, Value::Map(_)) {
            return Err(err(
                "not a compose file: the top level is not a mapping".into()
            ));
        }
        for w in &c.warnings {
            warnings.push(format!("{shown}:{}: {}", w.line, w.message));
        }
        // Top level without services (merged separately, extends resolved).
        let mut top = c.root.clone();
        if let Value::Map(m) = &mut top.value {
            m.retain(|(k, _)| k.as_str().as_deref() != Some("services"));
        }
        root = Some(match root {
            None => top,
            Some(b) => merge_map(&[], &b, &top, &tags),
        });
        for s in &c.services {
            let p = vec!["services".to_string(), s.name.clone()];
            if tags.get(&p) == Some(&Tag::Reset) {
                services.retain(|(n, ..)| n != &s.name);
                continue;
            }
            match services.iter_mut().find(|(n, ..)| n == &s.name) {
                Some(slot) if tags.get(&p) != Some(&Tag::Override) => {
                    slot.1 = merge_map(&p, &slot.1, &s.node, &tags);
                }
                Some(slot) => slot.1 = s.node.clone(),
                None => services.push((s.name.clone(), s.node.clone(), shown.clone(), s.line)),
            }
        }
    }
    let root = root.unwrap_or_else(|| null_node(0));
    if services.is_empty() {
        return Err(NetsegError::Compose {
            path: paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            message: "no services".into(),
        });
    }
    if services.len() > limits.max_services {
        return Err(NetsegError::Compose {
            path: first.display().to_string(),
            message: format!(
                "{} services, more than the limit of {}",
                services.len(),
                limits.max_services
            ),
        });
    }
    let origins: Vec<String> = services.iter().map(|(_, _, f, _)| f.clone()).collect();
    let mut root = root;
    if let Value::Map(m) = &mut root.value {
        m.push((
            str_node("services", 0),
            Node {
                line: 0,
                column: 0,
                value: Value::Map(
                    services
                        .iter()
                        .map(|(n, node, _, line)| (str_node(n, *line), node.clone()))
                        .collect(),
                ),
            },
        ));
    }
    let compose = compose::Compose {
        root,
        services: services
            .into_iter()
            .map(|(name, node, _, line)| compose::Service {
                name,
                line,
                column: 0,
                node,
            })
            .collect(),
        services_line: 0,
        warnings: Vec::new(),
        specs: Default::default(),
    };
    Ok(Merged {
        compose,
        origins,
        warnings,
    })
}
