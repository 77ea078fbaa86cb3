//! Live engine audit: CIS Docker Benchmark v1.6.0 checks of a running Docker Engine,
//! its host files, every container (running or not) and the images they use, the patch
//! level of dockerd/containerd/runc, and an isolation proof read from the kernel's side
//! for each running container.
//!
//! Two steps: [`collect`] talks to the engine (through [`moat_engine::Engine`]) and reads
//! the host (/proc, cgroupfs, files) into a [`Snapshot`]; [`check`] turns a snapshot into
//! sorted [`AuditFinding`]s without any I/O, so every rule is testable on data.

#![forbid(unsafe_code)]

pub mod buildinfo;
mod checks;
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
pub use rules::{RULES, rules};

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
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            host: sys::HostPaths::default(),
            proof: true,
            image_files: true,
            max_image_age_days: 365,
            now: time::OffsetDateTime::now_utc(),
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
    })
}

/// Applies every rule to a snapshot: sorted findings.
pub fn check(snap: &Snapshot, opts: &AuditOptions) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    checks::daemon(snap, &mut out);
    checks::host_files(snap, &mut out);
    for c in &snap.containers {
        checks::container(snap, c, &mut out);
    }
    for (id, img) in &snap.images {
        checks::image(snap, id, img, opts, &mut out);
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out.dedup();
    out
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
    let mut findings = check(snap, opts);
    let mut notes = snap.notes.clone();
    match advisories {
        Some(db) => findings.extend(patch::findings(&snap.components, db, &mut notes)),
        None => notes.push(
            "no advisory database: engine component versions not matched (moat db update)"
                .to_string(),
        ),
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
    AuditReport {
        host: snap.host.clone(),
        engine_version: snap.version.version.clone(),
        api_version: snap.version.api_version.clone(),
        containers: snap.containers.len(),
        images: snap.images.len(),
        components: snap.components.clone(),
        isolation,
        findings,
        notes,
    }
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
