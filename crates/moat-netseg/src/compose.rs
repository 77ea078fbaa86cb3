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
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut warnings = Vec::new();
    let vars = match moat_lint::read::read_text(&dir.join(".env"), limits.max_file_bytes) {
        Ok(env) => compose::parse_dotenv(&env),
        Err(e) if e.is_not_found() => BTreeMap::new(),
        Err(e) => {
            warnings.push(format!("{shown}: .env not read: {e}"));
            BTreeMap::new()
        }
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
    let mut m = map(&c, &project, &shown, limits)?;
    m.warnings.splice(0..0, warnings);
    Ok((project, m))
}

/// The parsed file's networking, for project `project`.
fn map(
    c: &compose::Compose,
    project: &str,
    shown: &str,
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
    for s in &c.services {
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
    NetworkInfo {
        default_bridge: name == "bridge",
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
