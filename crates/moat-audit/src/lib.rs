//! Live engine audit: CIS Docker Benchmark v1.6.0 checks of a running Docker Engine,
//! its host files, every container (running or not) and the images they use, the patch
//! level of dockerd/containerd/runc, and an isolation proof read from the kernel's side
//! for each running container.
//!
//! Two steps: [`collect`] talks to the engine (through [`moat_engine::Engine`]) and reads
//! the host (/proc, cgroupfs, files) into a [`Snapshot`]; [`check`] turns a snapshot into
//! sorted [`AuditFinding`]s without any I/O, so every rule is testable on data.

#![forbid(unsafe_code)]

pub mod benchmark;
pub mod buildinfo;
mod checks;
pub mod cis;
pub mod daemon;
pub mod finding;
pub mod patch;
pub mod proof;
pub mod rules;
pub mod spec;
pub mod sys;

pub use checks::LayerScanError;
pub use finding::{AuditFinding, AuditObject, ObjectKind};
pub use moat_engine;
pub use rules::{AUDIT_RULES, AuditRule, RULES, rules};

use moat_engine::models::{
    ContainerInspectResponse, ImageInspect, Network, SystemInfo, SystemVersion,
};
use moat_engine::{Engine, EngineError, HostAddr};
pub use moat_model::audit::{AuditReport, Component};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What can stop an audit (anything else becomes a note in the report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Knobs of an audit.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Where the host's /proc and / are.
    pub host: sys::HostPaths,
    /// Read the kernel's view of running containers.
    pub proof: bool,
    /// Walk image layers on the host for setuid/setgid files.
    pub image_files: bool,
    /// Images older than this are reported (IC104).
    pub max_image_age_days: i64,
    /// "Now", for image age (a parameter so tests are deterministic).
    pub now: time::OffsetDateTime,
    /// `DOCKER_CONTENT_TRUST` in the audited environment (CIS 4.5); the default reads
    /// moat's own environment, as docker-bench reads its own.
    pub content_trust: Option<String>,
    /// The `docker exec` history `moat monitor` stored (CIS 5.23, 5.24); None when no
    /// store was given: those items are then not evaluated.
    pub execs: Option<Vec<ExecRecord>>,
}

/// One `docker exec` as the monitor recorded it (the exec inspected at its creation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRecord {
    /// The engine's time of `exec_create`, unix nanoseconds.
    pub time_ns: i64,
    /// The container's full id.
    pub container: String,
    /// Its name, when the monitor knew it.
    pub name: String,
    /// The command.
    pub command: String,
    /// `--privileged`.
    pub privileged: bool,
    /// `--user` as given (empty: the image's user).
    pub user: String,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            host: sys::HostPaths::default(),
            proof: true,
            image_files: true,
            max_image_age_days: 365,
            now: time::OffsetDateTime::now_utc(),
            content_trust: std::env::var("DOCKER_CONTENT_TRUST").ok(),
            execs: None,
        }
    }
}

/// setuid/setgid files found in an image's layers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFiles {
    /// `path (mode)`, sorted, paths relative to the image root.
    pub setuid: Vec<String>,
    /// Layer directories walked.
    pub layers: Vec<String>,
}

/// Everything the rules look at, gathered in one pass.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// The engine address audited (`unix:///run/docker.sock`).
    pub host: String,
    pub info: SystemInfo,
    pub version: SystemVersion,
    pub networks: Vec<Network>,
    /// Every container, sorted by name.
    pub containers: Vec<ContainerInspectResponse>,
    /// Images in use, by id.
    pub images: BTreeMap<String, ImageInspect>,
    pub image_files: BTreeMap<String, ImageFiles>,
    pub daemon: daemon::DaemonConfig,
    pub socket: Option<sys::FileFacts>,
    pub daemon_json: Option<sys::FileFacts>,
    pub docker_group: Option<sys::Group>,
    /// Other Docker files the benchmark names (unit files, /etc/docker, TLS, containerd socket).
    #[serde(default)]
    pub docker_files: Vec<sys::DockerFile>,
    /// Isolation proofs by container id.
    pub proofs: BTreeMap<String, proof::Proof>,
    /// sshd processes found in running containers (container id → host pids).
    #[serde(default)]
    pub sshd: BTreeMap<String, Vec<i64>>,
    pub components: Vec<Component>,
    /// What could not be examined, and why.
    pub notes: Vec<String>,
    /// The data root (CIS 1.1.1): path and whether it is a mount point of its own.
    #[serde(default)]
    pub data_root: Option<DataRoot>,
    /// The audit rules in force (CIS 1.1.3–1.1.18).
    #[serde(default)]
    pub audit_rules: Option<sys::AuditRules>,
    /// The files CIS 1.1.3–1.1.18 ask to audit, as found on this host.
    #[serde(default)]
    pub audit_targets: Vec<AuditTarget>,
    /// `created_by` of each history step of the images in use, oldest first (CIS 4.7, 4.9).
    #[serde(default)]
    pub image_history: BTreeMap<String, Vec<String>>,
    /// The engine's own sockets (the audited Docker socket, containerd's): their identity,
    /// so that a mount of one under any name is found (CIS 5.32).
    #[serde(default)]
    pub engine_sockets: Vec<EngineSocket>,
    /// Identity of each bind-mount source of the containers, by host path.
    #[serde(default)]
    pub mount_sources: BTreeMap<String, sys::FileId>,
    /// Whether the swarm port 2377 listens on every interface (CIS 7.2).
    #[serde(default)]
    pub swarm_port_on_all_interfaces: Option<bool>,
}

/// The daemon's data root and whether it has a partition of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRoot {
    pub path: String,
    /// Whether it is a filesystem of its own (not a bind mount of its parent's);
    /// `None` when the mount table could not be read.
    pub mountpoint: Option<bool>,
    /// What the mount table shows.
    #[serde(default)]
    pub evidence: String,
}

/// A file CIS 1.1.x asks to audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTarget {
    /// `1.1.3`
    pub cis: String,
    pub path: String,
    pub exists: bool,
    /// Other names of the same file (symlinks resolved), for matching rules.
    pub real: Option<String>,
}

/// One of the engine's sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSocket {
    /// `Docker socket`, `containerd socket`
    pub what: String,
    pub path: String,
    pub id: sys::FileId,
}

/// Upstream version of a distribution version: `20.10.24+dfsg1` → `20.10.24`,
/// `1.6.20~ds1` → `1.6.20`, `v1.1.5` → `1.1.5`.
pub fn upstream_version(v: &str) -> String {
    let v = v.trim().trim_start_matches('v');
    let end = v.find(['+', '~']).unwrap_or(v.len());
    v[..end].to_string()
}

fn container_label(c: &ContainerInspectResponse) -> String {
    checks::container_object(c).label()
}

/// Gathers everything the rules need. Engine errors on `/info` and `/version` are
/// fatal; anything the host does not let us read becomes a note.
pub fn collect(engine: &dyn Engine, opts: &AuditOptions) -> Result<Snapshot, AuditError> {
    let info = engine.info()?;
    let version = engine.version()?;
    let mut notes = Vec::new();
    let networks = engine.networks().unwrap_or_else(|e| {
        notes.push(format!("networks not listed: {e}"));
        Vec::new()
    });
    let mut containers = Vec::new();
    for c in engine.containers()? {
        let Some(id) = c.id else { continue };
        match engine.inspect_container(&id) {
            Ok(i) => containers.push(i),
            // Removed between list and inspect.
            Err(e) => notes.push(format!("container {id} not inspected: {e}")),
        }
    }
    containers.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));

    let mut images = BTreeMap::new();
    for c in &containers {
        let Some(img) = c.image.as_deref() else {
            continue;
        };
        if images.contains_key(img) {
            continue;
        }
        match engine.inspect_image(img) {
            Ok(i) => {
                images.insert(img.to_string(), i);
            }
            Err(e) => notes.push(format!("image {img} not inspected: {e}")),
        }
    }

    let host = &opts.host;
    let addr = HostAddr::parse(engine.host()).ok();
    let socket_path: Option<PathBuf> = match &addr {
        Some(HostAddr::Unix(p)) => Some(p.clone()),
        _ => None,
    };
    let listen = match &addr {
        Some(HostAddr::Unix(p)) => sys::Listen::Unix(p),
        Some(HostAddr::Tcp(a) | HostAddr::Https(a)) => a
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .map_or(sys::Listen::Unknown, sys::Listen::Tcp),
        None => sys::Listen::Unknown,
    };
    let process = sys::find_dockerd(host, listen);
    if process.is_none() {
        notes.push(
            "dockerd process not found on this host: command-line checks skipped".to_string(),
        );
    }
    let mut daemon = daemon::DaemonConfig {
        process,
        ..Default::default()
    };
    let config_file = daemon
        .cmdline(&["--config-file"])
        .pop()
        .map(|s| s.value)
        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
    match std::fs::read_to_string(host.host(Path::new(&config_file))) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => daemon.config = Some(v),
            Err(e) => daemon.config_error = Some(format!("{config_file}: {e}")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => daemon.config_error = Some(format!("{config_file}: {e}")),
    }
    daemon.config_file = Some(config_file.clone());
    if let Some(err) = &daemon.config_error {
        notes.push(format!("daemon.json not read: {err}"));
    }

    // Host files: the socket audited (or the daemon's first unix host), daemon.json.
    let socket_path = socket_path.or_else(|| {
        daemon
            .setting(&["-H", "--host"], "hosts")
            .into_iter()
            .find_map(|s| s.value.strip_prefix("unix://").map(PathBuf::from))
    });
    let socket = match socket_path {
        Some(p) => sys::file_facts(host, &p)
            .map_err(|e| notes.push(format!("socket {} not examined: {e}", p.display())))
            .ok(),
        None => None,
    };
    let daemon_json = sys::file_facts(host, Path::new(&config_file)).ok();
    let group_name = daemon
        .setting(&["-G", "--group"], "group")
        .pop()
        .map(|s| s.value)
        .unwrap_or_else(|| "docker".to_string());
    let docker_group = sys::group(host, &group_name);
    let tls = |flag: &str, key: &str| daemon.setting(&[flag], key).pop().map(|s| s.value);
    let exec_root = daemon
        .setting(&["--exec-root"], "exec-root")
        .pop()
        .map(|s| s.value)
        .unwrap_or_else(|| "/var/run/docker".to_string());
    let docker_files = sys::docker_files(
        host,
        [
            tls("--tlscacert", "tlscacert"),
            tls("--tlscert", "tlscert"),
            tls("--tlskey", "tlskey"),
        ],
        &[
            "/run/containerd/containerd.sock".to_string(),
            format!("{exec_root}/containerd/containerd.sock"),
        ],
    );

    // The engine's sockets, by identity (CIS 5.32).
    let mut engine_sockets = Vec::new();
    let mut socket_candidates: Vec<(String, String)> = Vec::new();
    if let Some(s) = &socket {
        socket_candidates.push(("Docker socket".into(), s.path.clone()));
    }
    for s in daemon.setting(&["-H", "--host"], "hosts") {
        if let Some(p) = s.value.strip_prefix("unix://") {
            socket_candidates.push(("Docker socket".into(), p.to_string()));
        }
    }
    for p in [
        "/run/containerd/containerd.sock".to_string(),
        format!("{exec_root}/containerd/containerd.sock"),
    ] {
        socket_candidates.push(("containerd socket".into(), p));
    }
    for (what, p) in socket_candidates {
        if let Some(id) = sys::file_id(host, Path::new(&p))
            && !engine_sockets
                .iter()
                .any(|e: &EngineSocket| e.id.dev == id.dev && e.id.ino == id.ino)
        {
            engine_sockets.push(EngineSocket { what, path: p, id });
        }
    }
    let mut mount_sources = BTreeMap::new();
    for c in &containers {
        for m in c.mounts.as_deref().unwrap_or_default() {
            if m.typ.as_ref().is_some_and(|t| t != "bind") {
                continue;
            }
            if let Some(src) = m.source.as_deref().filter(|s| s.starts_with('/'))
                && !mount_sources.contains_key(src)
                && let Some(id) = sys::file_id(host, Path::new(src))
            {
                mount_sources.insert(src.to_string(), id);
            }
        }
    }

    // The data root (1.1.1): with userns-remap, DockerRootDir is <root>/<uid>.<gid>.
    let data_root = info.docker_root_dir.as_deref().map(|r| {
        let remapped = info
            .security_options
            .as_ref()
            .is_some_and(|o| o.iter().any(|x| x.contains("name=userns")));
        let path = if remapped {
            Path::new(r)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| r.to_string())
        } else {
            r.to_string()
        };
        let facts = sys::partition_of(host, Path::new(&path));
        DataRoot {
            mountpoint: facts.as_ref().map(|f| f.separate),
            evidence: facts.map(|f| f.evidence).unwrap_or_default(),
            path,
        }
    });
    let audit_rules = Some(sys::audit_rules(host));

    let mut image_history = BTreeMap::new();
    if let (Some(root), Some(drv)) = (info.docker_root_dir.as_deref(), info.driver.as_deref()) {
        for id in images.keys() {
            let hex = id.strip_prefix("sha256:").unwrap_or(id);
            let p = Path::new(root)
                .join("image")
                .join(drv)
                .join("imagedb/content/sha256")
                .join(hex);
            match std::fs::read(host.host(&p)) {
                Ok(raw) => match serde_json::from_slice::<serde_json::Value>(&raw) {
                    Ok(v) => {
                        let steps = v["history"]
                            .as_array()
                            .map(|h| {
                                h.iter()
                                    .map(|s| s["created_by"].as_str().unwrap_or("").to_string())
                                    .collect()
                            })
                            .unwrap_or_default();
                        image_history.insert(id.clone(), steps);
                    }
                    Err(e) => notes.push(format!("image {id} history not read: {e}")),
                },
                Err(e) => notes.push(format!(
                    "image {id} history not read ({}): {e}",
                    p.display()
                )),
            }
        }
    }
    let swarm_active = info
        .swarm
        .as_ref()
        .and_then(|s| s.local_node_state)
        .is_some_and(|s| s == moat_engine::models::LocalNodeState::ACTIVE);
    let swarm_port_on_all_interfaces = if swarm_active {
        sys::listens_on_all_interfaces(host, 2377)
    } else {
        None
    };

    let mut image_files = BTreeMap::new();
    if opts.image_files {
        for (id, img) in &images {
            match checks::scan_image_layers(host, img) {
                Ok(f) => {
                    image_files.insert(id.clone(), f);
                }
                Err(why) => notes.push(format!("image {id} files not examined: {why}")),
            }
        }
    }

    let mut proofs = BTreeMap::new();
    let mut host_refs = vec![1];
    host_refs.extend(daemon.process.as_ref().map(|p| p.pid));
    host_refs.push(i64::from(std::process::id()));
    if opts.proof {
        for c in &containers {
            let state = c.state.as_ref();
            let running = state.and_then(|s| s.running).unwrap_or(false);
            let pid = state.and_then(|s| s.pid).unwrap_or(0);
            if !running || pid <= 0 {
                continue;
            }
            let id = c.id.clone().unwrap_or_default();
            match proof::prove(host, pid, &id, &host_refs) {
                Ok(p) => {
                    proofs.insert(id, p);
                }
                Err(e) => notes.push(format!(
                    "{}: isolation proof not made: {e}",
                    container_label(c)
                )),
            }
        }
    }

    let running: Vec<String> = containers
        .iter()
        .filter(|c| c.state.as_ref().and_then(|s| s.running).unwrap_or(false))
        .filter_map(|c| c.id.clone())
        .collect();
    let sshd = if opts.proof {
        sys::processes_in_containers(host, "sshd", &running)
    } else {
        BTreeMap::new()
    };
    let components = checks::components(host, &info, &version, &daemon, &mut notes);
    let audit_targets = audit_targets(
        host,
        &daemon,
        &docker_files,
        &components,
        data_root.as_ref(),
        &engine_sockets,
        &config_file,
    );
    notes.sort();
    notes.dedup();
    Ok(Snapshot {
        host: engine.host().to_string(),
        info,
        version,
        networks,
        containers,
        images,
        image_files,
        daemon,
        socket,
        daemon_json,
        docker_group,
        docker_files,
        proofs,
        sshd,
        components,
        notes,
        data_root,
        audit_rules,
        audit_targets,
        image_history,
        engine_sockets,
        mount_sources,
        swarm_port_on_all_interfaces,
    })
}

/// The files CIS 1.1.3–1.1.18 name, resolved on this host: the daemon's own binary,
/// data root, unit files and sockets where they are known, else the benchmark's paths.
fn audit_targets(
    host: &sys::HostPaths,
    daemon: &daemon::DaemonConfig,
    docker_files: &[sys::DockerFile],
    components: &[Component],
    data_root: Option<&DataRoot>,
    sockets: &[EngineSocket],
    config_file: &str,
) -> Vec<AuditTarget> {
    let unit = |name: &str| {
        docker_files
            .iter()
            .map(|f| f.facts.path.clone())
            .find(|p| p.ends_with(&format!("/{name}")))
            .unwrap_or_else(|| format!("/usr/lib/systemd/system/{name}"))
    };
    let binary = |name: &str, default: &str| {
        components
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.binary.clone())
            .unwrap_or_else(|| default.to_string())
    };
    let dockerd = daemon
        .process
        .as_ref()
        .and_then(|p| p.exe.clone())
        .unwrap_or_else(|| "/usr/bin/dockerd".to_string());
    let containerd_sock = sockets
        .iter()
        .find(|s| s.what == "containerd socket")
        .map(|s| s.path.clone())
        .unwrap_or_else(|| "/run/containerd/containerd.sock".to_string());
    // 1.1.4's /run/containerd is the directory of containerd's socket (a daemon that
    // runs its own containerd keeps it under its exec-root).
    let containerd_dir = Path::new(&containerd_sock)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.len() > 1)
        .unwrap_or_else(|| "/run/containerd".to_string());
    let wanted: Vec<(&str, String)> = vec![
        ("1.1.3", dockerd),
        ("1.1.4", containerd_dir),
        (
            "1.1.5",
            data_root
                .map(|d| d.path.clone())
                .unwrap_or_else(|| "/var/lib/docker".into()),
        ),
        ("1.1.6", "/etc/docker".into()),
        ("1.1.7", unit("docker.service")),
        ("1.1.8", containerd_sock),
        ("1.1.9", unit("docker.socket")),
        ("1.1.10", "/etc/default/docker".into()),
        ("1.1.11", config_file.to_string()),
        ("1.1.12", "/etc/containerd/config.toml".into()),
        ("1.1.13", "/etc/sysconfig/docker".into()),
        ("1.1.14", binary("containerd", "/usr/bin/containerd")),
        ("1.1.15", "/usr/bin/containerd-shim".into()),
        ("1.1.16", "/usr/bin/containerd-shim-runc-v1".into()),
        ("1.1.17", "/usr/bin/containerd-shim-runc-v2".into()),
        ("1.1.18", binary("runc", "/usr/bin/runc")),
    ];
    wanted
        .into_iter()
        .map(|(cis, path)| {
            let id = sys::file_id(host, Path::new(&path));
            AuditTarget {
                cis: cis.to_string(),
                exists: id.is_some(),
                real: id.map(|i| i.real).filter(|r| *r != path),
                path,
            }
        })
        .collect()
}

/// Benchmark items the audit could not evaluate (and why), and context for a verdict
/// (`swarm mode not enabled`), by CIS number. The CIS-report view reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub skipped: BTreeMap<String, String>,
    pub context: BTreeMap<String, String>,
}

/// Applies every rule to a snapshot: sorted findings and the items not evaluated.
pub fn evaluate(snap: &Snapshot, opts: &AuditOptions) -> (Vec<AuditFinding>, Coverage) {
    let mut out = checks::Sink::default();
    checks::daemon(snap, &mut out);
    checks::host_files(snap, &mut out);
    checks::environment(opts, &mut out);
    checks::exec_history(opts, &mut out);
    for c in &snap.containers {
        checks::container(snap, c, &mut out);
    }
    checks::daemon_wide_proof(snap, &mut out);
    checks::daemon_wide_ulimits(snap, &mut out);
    for (id, img) in &snap.images {
        checks::image(snap, id, img, opts, &mut out);
    }
    checks::operations(snap, &mut out);
    checks::swarm(snap, &mut out);
    if snap.containers.is_empty() {
        for i in benchmark::ITEMS.iter().filter(|i| i.section() == "5") {
            if i.number != "5.1" {
                out.context(i.number, "no containers");
            }
        }
    }
    let mut findings = out.findings;
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    (
        findings,
        Coverage {
            skipped: out.skipped,
            context: out.context,
        },
    )
}

/// Applies every rule to a snapshot: sorted findings.
pub fn check(snap: &Snapshot, opts: &AuditOptions) -> Vec<AuditFinding> {
    evaluate(snap, opts).0
}

/// Collects and checks: the whole audit. With `advisories`, the engine components'
/// versions are matched too (DV101).
pub fn audit(
    engine: &dyn Engine,
    opts: &AuditOptions,
    advisories: Option<&dyn patch::AdvisoryLookup>,
) -> Result<AuditReport, AuditError> {
    let snap = collect(engine, opts)?;
    Ok(report(&snap, opts, advisories))
}

/// The report of a snapshot.
pub fn report(
    snap: &Snapshot,
    opts: &AuditOptions,
    advisories: Option<&dyn patch::AdvisoryLookup>,
) -> AuditReport {
    report_with_coverage(snap, opts, advisories).0
}

/// The report of a snapshot and what the benchmark items' verdicts rest on.
pub fn report_with_coverage(
    snap: &Snapshot,
    opts: &AuditOptions,
    advisories: Option<&dyn patch::AdvisoryLookup>,
) -> (AuditReport, Coverage) {
    let (mut findings, mut coverage) = evaluate(snap, opts);
    let mut notes = snap.notes.clone();
    match advisories {
        Some(db) => findings.extend(patch::findings(&snap.components, db, &mut notes)),
        None => {
            notes.push(
                "no advisory database: engine component versions not matched (moat db update)"
                    .to_string(),
            );
            coverage.skipped.insert(
                "1.2.2".into(),
                "no advisory database (moat db update)".into(),
            );
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    notes.sort();
    notes.dedup();
    let isolation = snap
        .containers
        .iter()
        .filter_map(|c| {
            let p = snap.proofs.get(c.id.as_deref()?)?;
            Some((container_label(c), p.clone()))
        })
        .collect();
    let report = AuditReport {
        host: snap.host.clone(),
        engine_version: snap.version.version.clone(),
        api_version: snap.version.api_version.clone(),
        containers: snap.containers.len(),
        images: snap.images.len(),
        components: snap.components.clone(),
        isolation,
        findings,
        notes,
    };
    (report, coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream_version("20.10.24+dfsg1"), "20.10.24");
        assert_eq!(upstream_version("1.6.20~ds1"), "1.6.20");
        assert_eq!(upstream_version("v1.1.5"), "1.1.5");
    }
}
