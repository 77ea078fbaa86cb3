//! The probe: the graph tested for real. For each running container, a fresh thread of
//! this process enters the container's network namespace (`setns` on
//! /proc/PID/ns/net, through rustix; nothing is executed in the container and no tool is
//! needed in its image) and TCP-connects to every peer container address on the ports
//! the peer listens on, plus one port that should be closed. Only the containers' own
//! addresses are probed; the count and each connect's time are bounded.
//!
//! Each result is compared with the model (is there an edge to that address and port?)
//! and the policy; a disagreement between measurement and model is a finding (NX001:
//! connected where the model has no path; NX002: no connection where it has one).

use crate::graph;
use crate::host::HostOptions;
use crate::policy::{self, Policy};
use crate::rules::{NX001, NX002, about};
use moat_model::network::{
    Edge, NetMode, NetworkReport, NodeInfo, PortProto, ProbeOutcome, ProbeResult, Proto, Reason,
};
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

/// Bounds of a probe run.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// One connect's time limit.
    pub timeout: Duration,
    /// Connects in all.
    pub max_probes: usize,
    /// Listening ports tried per peer address.
    pub max_ports_per_peer: usize,
    /// Threads connecting at once.
    pub parallel: usize,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_millis(1500),
            max_probes: 4096,
            max_ports_per_peer: 16,
            parallel: 16,
        }
    }
}

/// One planned connect.
#[derive(Debug, Clone)]
struct Target {
    to: usize,
    network: String,
    addr: IpAddr,
    port: u16,
    sample: bool,
}

/// The TCP ports a destination is tried on, and one that should be closed.
fn ports_of(n: &NodeInfo, edges: &[Edge], max: usize) -> (Vec<u16>, u16) {
    let listening: BTreeSet<u16> = match &n.listening {
        Some(l) => l
            .iter()
            .filter(|l| l.port.proto == Proto::Tcp && !l.loopback())
            .map(|l| l.port.port)
            .collect(),
        None => edges
            .iter()
            .filter(|e| e.to == n.name)
            .filter_map(|e| e.port)
            .filter(|p| p.proto == Proto::Tcp)
            .map(|p| p.port)
            .collect(),
    };
    let all: BTreeSet<u16> = n
        .listening
        .iter()
        .flatten()
        .filter(|l| l.port.proto == Proto::Tcp)
        .map(|l| l.port.port)
        .chain(listening.iter().copied())
        .collect();
    // The lowest port nothing listens on: it should refuse (path open) or time out
    // (path closed), never connect.
    let closed = (1..=u16::MAX).find(|p| !all.contains(p)).unwrap_or(1);
    (listening.into_iter().take(max).collect(), closed)
}

/// Connects once, classifying the result.
fn connect(addr: SocketAddr, timeout: Duration) -> (ProbeOutcome, String) {
    match TcpStream::connect_timeout(&addr, timeout) {
        Ok(_) => (ProbeOutcome::Open, String::new()),
        Err(e) => {
            use std::io::ErrorKind as K;
            let o = match e.kind() {
                K::ConnectionRefused => ProbeOutcome::Refused,
                K::TimedOut | K::WouldBlock | K::HostUnreachable | K::NetworkUnreachable => {
                    ProbeOutcome::Timeout
                }
                _ => ProbeOutcome::Error,
            };
            (o, e.to_string())
        }
    }
}

/// Enters the network namespace of `pid` on this (fresh) thread and connects to each target.
fn probe_from(
    proc: &std::path::Path,
    pid: u32,
    targets: &[Target],
    timeout: Duration,
) -> Vec<(ProbeOutcome, String)> {
    let ns = proc.join(pid.to_string()).join("ns").join("net");
    let entered = std::fs::File::open(&ns).and_then(|f| {
        rustix::thread::move_into_link_name_space(
            f.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .map_err(std::io::Error::from)
    });
    if let Err(e) = entered {
        let why = format!("cannot enter {}: {e}", ns.display());
        return targets
            .iter()
            .map(|_| (ProbeOutcome::Error, why.clone()))
            .collect();
    }
    targets
        .iter()
        .map(|t| connect(SocketAddr::new(t.addr, t.port), timeout))
        .collect()
}

/// Probes the report's running containers and adds the results and the disagreements.
pub fn run(
    report: &mut NetworkReport,
    policy: Option<&Policy>,
    opts: &ProbeOptions,
    host: &HostOptions,
) {
    let nodes = &report.nodes;
    let t = graph::Topology::new(&report.networks, nodes, &report.daemon);
    // Sources: one per network namespace that is not the host's.
    let sources: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            t.owner(i) == i && nodes[i].pid.is_some() && matches!(nodes[i].mode, NetMode::Bridge)
        })
        .collect();
    let mut jobs: Vec<(usize, Vec<Target>)> = Vec::new();
    let mut budget = opts.max_probes;
    let mut truncated = false;
    for &s in &sources {
        let mut targets = Vec::new();
        for &d in &sources {
            if d == s {
                continue;
            }
            let (open_ports, closed) = ports_of(&nodes[d], &report.edges, opts.max_ports_per_peer);
            for ep in &nodes[d].endpoints {
                let Some(addr) = ep.ipv4.as_deref().and_then(|a| a.parse::<IpAddr>().ok()) else {
                    continue;
                };
                for (port, sample) in open_ports
                    .iter()
                    .map(|p| (*p, false))
                    .chain([(closed, true)])
                {
                    if budget == 0 {
                        truncated = true;
                        break;
                    }
                    budget -= 1;
                    targets.push(Target {
                        to: d,
                        network: ep.network.clone(),
                        addr,
                        port,
                        sample,
                    });
                }
            }
        }
        if !targets.is_empty() {
            jobs.push((s, targets));
        }
    }
    if truncated {
        report.warnings.push(format!(
            "probe: more than {} connects planned; the rest were not tried",
            opts.max_probes
        ));
    }
    // Split each source's targets into chunks, run at most `parallel` threads at once.
    let per_chunk = 8;
    let mut chunks: Vec<(usize, &[Target])> = Vec::new();
    for (s, targets) in &jobs {
        for c in targets.chunks(per_chunk) {
            chunks.push((*s, c));
        }
    }
    let mut outcomes: Vec<Vec<(ProbeOutcome, String)>> = Vec::new();
    for wave in chunks.chunks(opts.parallel.max(1)) {
        let results: Vec<Vec<(ProbeOutcome, String)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = wave
                .iter()
                .map(|(s, c)| {
                    let pid = nodes[*s].pid.unwrap_or(0);
                    let proc = host.proc.as_path();
                    let timeout = opts.timeout;
                    scope.spawn(move || probe_from(proc, pid, c, timeout))
                })
                .collect();
            handles
                .into_iter()
                .zip(wave)
                .map(|(h, (_, c))| {
                    h.join().unwrap_or_else(|_| {
                        c.iter()
                            .map(|_| (ProbeOutcome::Error, "probe thread panicked".to_string()))
                            .collect()
                    })
                })
                .collect()
        });
        outcomes.extend(results);
    }
    let zones = policy.map(|p| policy::zones(p, nodes));
    let mut results = Vec::new();
    let mut findings = Vec::new();
    let mut confirmed: Vec<(String, String, u16, String)> = Vec::new();
    for ((s, chunk), outs) in chunks.iter().zip(outcomes) {
        let src = &nodes[*s];
        for (tg, (outcome, detail)) in chunk.iter().zip(outs) {
            let dst = &nodes[tg.to];
            let port = PortProto {
                port: tg.port,
                proto: Proto::Tcp,
            };
            let modelled =
                graph::covers(&report.edges, &src.name, &dst.name, Some(&tg.network), port);
            let allowed = match (policy, &zones) {
                (Some(p), Some(z)) => Some(policy::edge_allowed(
                    p,
                    &Edge {
                        from: src.name.clone(),
                        to: dst.name.clone(),
                        port: Some(port),
                        reason: Reason::SameNetwork {
                            network: tg.network.clone(),
                        },
                    },
                    nodes,
                    z,
                )),
                _ => None,
            };
            let open = outcome == ProbeOutcome::Open;
            let what = format!(
                "{} -> {} {}:{} (on {})",
                src.name, dst.name, tg.addr, tg.port, tg.network
            );
            if open && !modelled {
                findings.push(about(
                    &NX001,
                    dst,
                    format!("probe connected {what}, but the model has no path there"),
                    None,
                    vec![format!(
                        "probe from the network namespace of {} (pid {})",
                        src.name,
                        src.pid.unwrap_or(0)
                    )],
                ));
            } else if !open && modelled && !tg.sample && outcome != ProbeOutcome::Error {
                let edge = report
                    .edges
                    .iter()
                    .find(|e| {
                        e.from == src.name && e.to == dst.name && e.port.is_none_or(|p| p == port)
                    })
                    .cloned();
                findings.push(about(
                    &NX002,
                    dst,
                    format!(
                        "probe could not connect {what} ({}), but the model has a path there",
                        match outcome {
                            ProbeOutcome::Refused => "refused",
                            _ => "no answer",
                        }
                    ),
                    edge,
                    vec![detail.clone()],
                ));
            }
            if open && allowed == Some(false) {
                confirmed.push((
                    src.name.clone(),
                    dst.name.clone(),
                    tg.port,
                    tg.addr.to_string(),
                ));
            }
            results.push(ProbeResult {
                from: src.name.clone(),
                to: dst.name.clone(),
                address: tg.addr.to_string(),
                port: tg.port,
                outcome,
                modelled,
                allowed,
                sample: tg.sample,
                detail,
            });
        }
    }
    // A policy violation the probe confirmed says so.
    for f in &mut report.findings {
        if let Some(e) = &f.edge
            && f.finding.rule == "NP001"
        {
            for (from, to, port, addr) in &confirmed {
                if &e.from == from && &e.to == to && e.port.is_none_or(|p| p.port == *port) {
                    f.evidence
                        .push(format!("probe: {from} connected to {to} at {addr}:{port}"));
                }
            }
        }
    }
    report.findings.extend(findings);
    report.probes = Some(results);
}
