//! `moat network`: who can reach whom, against a segmentation policy, measured for real.
//!
//! 1. A model of the deployment: from compose files (`compose`, through moat-lint's
//!    compose parser; no daemon) or from a live engine (`live`: the Engine API, the
//!    containers' /proc/PID/net listeners, dockerd's settings and the host firewall).
//! 2. The reachability graph (`graph`): edges `source → destination:port/proto`, each
//!    with its reason.
//! 3. The built-in rules (`rules`) and a segmentation policy (`policy`).
//! 4. Optionally the probe (`probe`): TCP connects from inside each container's network
//!    namespace, compared with the model and the policy.
//!
//! The result is one [`NetworkReport`] (moat-model) that moat-report renders.

#![forbid(unsafe_code)]

pub mod compose;
pub mod firewall;
pub mod graph;
pub mod host;
pub mod live;
pub mod observed;
pub mod policy;
pub mod ports;
pub mod probe;
pub mod rules;

pub use moat_engine;
pub use moat_model::network::NetworkReport;
pub use policy::Policy;

use moat_model::network::{DaemonNet, ModelSource, PolicySummary};
use std::path::PathBuf;

/// What went wrong building the model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetsegError {
    /// A compose file that could not be read or understood.
    #[error("{path}: {message}")]
    Compose { path: String, message: String },
    /// The engine could not be queried.
    #[error(transparent)]
    Engine(#[from] moat_engine::EngineError),
    /// A policy that does not fit the deployment.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The monitor's store could not be read.
    #[error("store {path}: {message}")]
    Store { path: String, message: String },
    /// Too many objects on the engine.
    #[error("{what}: {count}, more than the limit of {limit}")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
}

/// How to build and judge the model.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub policy: Option<Policy>,
    /// Probe the graph (live engines only).
    pub probe: Option<probe::ProbeOptions>,
    pub compose: compose::ComposeLimits,
    pub host: host::HostOptions,
    /// `moat monitor`'s store: its observed connections are reported next to the model.
    pub store: Option<PathBuf>,
}

/// Adds what the monitor observed (`opts.store`).
fn observe(report: &mut NetworkReport, opts: &Options) -> Result<(), NetsegError> {
    if let Some(path) = &opts.store {
        let (conns, warnings) = observed::read_store(path)?;
        report.warnings.extend(warnings);
        observed::apply(report, &conns, opts.policy.as_ref());
    }
    Ok(())
}

/// The model of the deployment that compose files plan, judged (no daemon).
pub fn from_compose(files: &[PathBuf], opts: &Options) -> Result<NetworkReport, NetsegError> {
    // Several files are one project, merged in order like `docker compose -f a -f b`.
    let (_, m) = compose::load_merged(files, &opts.compose)?;
    let (networks, nodes, warnings) = (m.networks, m.nodes, m.warnings);
    if let Some(p) = &opts.policy
        && let Some((name, flow)) = p.unknown_names(&nodes).into_iter().next()
    {
        return Err(NetsegError::Policy(policy::PolicyError {
            path: p.file.clone(),
            message: format!(
                "flow {flow:?} names {name:?}, which is neither a zone nor a service of the compose files"
            ),
        }));
    }
    let daemon = DaemonNet {
        notes: vec![
            "compose only: the engine's defaults are assumed (iptables, icc, userland-proxy and ip-forward on)"
                .to_string(),
        ],
        ..Default::default()
    };
    let mut report = NetworkReport {
        source: ModelSource::Compose,
        inputs: files.iter().map(|f| f.display().to_string()).collect(),
        daemon,
        networks,
        nodes,
        edges: Vec::new(),
        findings: Vec::new(),
        policy: None,
        probes: None,
        blocked: Vec::new(),
        observed: None,
        warnings,
        summary: Default::default(),
    };
    if opts.probe.is_some() {
        report
            .warnings
            .push("--probe needs a live engine (--host): nothing probed".to_string());
    }
    judge(&mut report, opts);
    observe(&mut report, opts)?;
    Ok(report)
}

/// The model of a live engine's deployment, judged and, with `opts.probe`, probed.
pub fn from_engine(
    engine: &dyn moat_engine::Engine,
    opts: &Options,
) -> Result<NetworkReport, NetsegError> {
    let mut report = live::collect(engine, &opts.host)?;
    if let Some(p) = &opts.policy {
        for (name, flow) in p.unknown_names(&report.nodes) {
            report.warnings.push(format!(
                "policy {}: flow {flow:?} names {name:?}, which is neither a zone nor a container or service on the engine: it allows nothing",
                p.file
            ));
        }
    }
    judge(&mut report, opts);
    if let Some(p) = &opts.probe {
        probe::run(&mut report, opts.policy.as_ref(), p, &opts.host);
    }
    observe(&mut report, opts)?;
    report.finish();
    Ok(report)
}

/// Edges, built-in rules and the policy over a collected model.
fn judge(report: &mut NetworkReport, opts: &Options) {
    let zones = opts
        .policy
        .as_ref()
        .map(|p| policy::zones(p, &report.nodes));
    if let Some(z) = &zones {
        for (n, z) in report.nodes.iter_mut().zip(z) {
            n.zone = z.clone();
        }
    }
    let t = graph::Topology::new(&report.networks, &report.nodes, &report.daemon);
    let (edges, blocked) = graph::apply_docker_user(&t, graph::edges(&t));
    let mut findings = rules::check(&t, &edges, zones.as_deref());
    if let (Some(p), Some(z)) = (&opts.policy, &zones) {
        findings.extend(policy::check(p, &report.nodes, &edges, z));
        report.policy = Some(PolicySummary {
            file: p.file.clone(),
            zones: p.zones.iter().map(|(n, _)| n.clone()).collect(),
            allowed_flows: p.allow.len(),
            violations: 0,
            passed: true,
        });
    }
    report.edges = edges;
    report.blocked = blocked;
    report.findings = findings;
    report.finish();
}
