//! The probe: the graph tested for real. For each running container, a fresh thread of
//! this process enters the container's network namespace (`setns` on
//! /proc/PID/ns/net, through rustix; nothing is executed in the container and no tool is
//! needed in its image) and tries every peer container address (IPv4 and IPv6) on the
//! ports the peer listens on — TCP connects, and UDP datagrams (a reply is open, an ICMP
//! port-unreachable is refused, silence is open|filtered) — plus, per protocol, one
//! port that should be closed; and the ports peers publish on the host, through the
//! source network's gateway. Only the containers' own addresses and their gateways are
//! probed; the count and each try's time are bounded.
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
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
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
    proto: Proto,
    sample: bool,
    /// Through the gateway to a port published on the host: the container port.
    via_host: Option<PortProto>,
}

/// The ports a destination is tried on.
struct Plan {
    tcp: Vec<u16>,
    closed_tcp: u16,
    udp: Vec<u16>,
    /// A UDP port nothing listens on, when the destination listens on UDP at all.
    closed_udp: Option<u16>,
}

fn lowest_free(used: &BTreeSet<u16>) -> u16 {
    (1..=u16::MAX).find(|p| !used.contains(p)).unwrap_or(1)
}

/// The TCP and UDP ports a destination is tried on (what it listens on, else what the
/// edges to it name), and for each protocol one that should be closed.
fn ports_of(n: &NodeInfo, edges: &[Edge], max: usize) -> Plan {
    let listening = |proto: Proto| -> BTreeSet<u16> {
        match &n.listening {
            Some(l) => l
                .iter()
                .filter(|l| l.port.proto == proto && !l.loopback())
                .map(|l| l.port.port)
                .collect(),
            None => edges
                .iter()
                .filter(|e| e.to == n.name)
                .filter(|e| !matches!(e.reason, Reason::PublishedViaHost { .. }))
                .filter_map(|e| e.port)
                .filter(|p| p.proto == proto)
                .map(|p| p.port)
                .collect(),
        }
    };
    let all = |proto: Proto, open: &BTreeSet<u16>| -> BTreeSet<u16> {
        n.listening
            .iter()
            .flatten()
            .filter(|l| l.port.proto == proto)
            .map(|l| l.port.port)
            .chain(open.iter().copied())
            .collect()
    };
    let tcp = listening(Proto::Tcp);
    let udp = listening(Proto::Udp);
    // The lowest port nothing listens on: it should refuse (path open) or time out
    // (path closed), never connect.
    let closed_tcp = lowest_free(&all(Proto::Tcp, &tcp));
    let closed_udp = (!udp.is_empty()).then(|| lowest_free(&all(Proto::Udp, &udp)));
    Plan {
        tcp: tcp.into_iter().take(max).collect(),
        closed_tcp,
        udp: udp.into_iter().take(max).collect(),
        closed_udp,
    }
}

/// Sends one datagram on a connected UDP socket and waits for an answer: a reply is
/// open, an ICMP port-unreachable (ECONNREFUSED on the connected socket) is closed
/// (refused), silence is open|filtered.
fn udp(addr: SocketAddr, timeout: Duration) -> (ProbeOutcome, String) {
    let local: SocketAddr = if addr.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let run = || -> std::io::Result<usize> {
        let s = UdpSocket::bind(local)?;
        s.connect(addr)?;
        s.set_read_timeout(Some(timeout))?;
        s.send(b"moat network probe\n")?;
        let mut buf = [0u8; 512];
        s.recv(&mut buf)
    };
    use std::io::ErrorKind as K;
    match run() {
        Ok(n) => (ProbeOutcome::Open, format!("{n} bytes answered")),
        Err(e) if e.kind() == K::ConnectionRefused => (ProbeOutcome::Refused, e.to_string()),
        Err(e) if matches!(e.kind(), K::WouldBlock | K::TimedOut) => (
            ProbeOutcome::OpenFiltered,
            "no reply and no port-unreachable".to_string(),
        ),
        Err(e) if matches!(e.kind(), K::HostUnreachable | K::NetworkUnreachable) => {
            (ProbeOutcome::Timeout, e.to_string())
        }
        Err(e) => (ProbeOutcome::Error, e.to_string()),
    }
}

fn strip_prefix(a: &str) -> &str {
    a.split('/').next().unwrap_or(a)
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
        .map(|t| match t.proto {
            Proto::Udp => udp(SocketAddr::new(t.addr, t.port), timeout),
            _ => {
                // A SYN lost to a busy host (or a neighbour entry not yet resolved) looks
                // like a filter: a port with no answer is tried once more before it is
                // called filtered, so that a load spike is not reported as a disagreement.
                let first = connect(SocketAddr::new(t.addr, t.port), timeout);
                if first.0 == ProbeOutcome::Timeout {
                    connect(SocketAddr::new(t.addr, t.port), timeout)
                } else {
                    first
                }
            }
        })
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
            let plan = ports_of(&nodes[d], &report.edges, opts.max_ports_per_peer);
            let mut want: Vec<(String, IpAddr, u16, Proto, bool, Option<PortProto>)> = Vec::new();
            for ep in &nodes[d].endpoints {
                let addrs = [ep.ipv4.as_deref(), ep.ipv6.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.split('/').next()?.parse::<IpAddr>().ok());
                for addr in addrs {
                    let ports = plan
                        .tcp
                        .iter()
                        .map(|p| (*p, Proto::Tcp, false))
                        .chain([(plan.closed_tcp, Proto::Tcp, true)])
                        .chain(plan.udp.iter().map(|p| (*p, Proto::Udp, false)))
                        .chain(plan.closed_udp.map(|p| (p, Proto::Udp, true)));
                    for (port, proto, sample) in ports {
                        want.push((ep.network.clone(), addr, port, proto, sample, None));
                    }
                }
            }
            // Ports d publishes on the host, through s's gateway.
            if let Some(net) = t.via_host(s, d) {
                // The IPv4 gateway (the one the proxy surely listens behind).
                let gw = t.networks.get(net).and_then(|n| {
                    n.gateways
                        .iter()
                        .filter_map(|g| strip_prefix(g).parse::<IpAddr>().ok())
                        .min_by_key(IpAddr::is_ipv6)
                });
                for p in nodes[d].published.iter().filter(|p| !p.loopback()) {
                    let (Some(gw), Some(hp)) = (gw, p.host_port) else {
                        continue;
                    };
                    if matches!(p.container.proto, Proto::Sctp)
                        || (!p.all_interfaces() && p.host_ip.parse::<IpAddr>().ok() != Some(gw))
                    {
                        continue;
                    }
                    want.push((
                        net.to_string(),
                        gw,
                        hp,
                        p.container.proto,
                        false,
                        Some(p.container),
                    ));
                }
            }
            for (network, addr, port, proto, sample, via_host) in want {
                if budget == 0 {
                    truncated = true;
                    break;
                }
                budget -= 1;
                targets.push(Target {
                    to: d,
                    network,
                    addr,
                    port,
                    proto,
                    sample,
                    via_host,
                });
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
            let port = tg.via_host.unwrap_or(PortProto {
                port: tg.port,
                proto: tg.proto,
            });
            let modelled = match tg.via_host {
                Some(cp) => {
                    graph::covers_via_host(&report.edges, &src.name, &dst.name, &tg.network, cp)
                }
                None => graph::covers_family(
                    &report.edges,
                    &src.name,
                    &dst.name,
                    Some(&tg.network),
                    port,
                    tg.addr.is_ipv6(),
                ),
            };
            let reason = match tg.via_host {
                Some(_) => Reason::PublishedViaHost {
                    binding: format!("{}:{}", tg.addr, tg.port),
                    network: tg.network.clone(),
                },
                None => Reason::SameNetwork {
                    network: tg.network.clone(),
                },
            };
            let allowed = match (policy, &zones) {
                (Some(p), Some(z)) => Some(policy::edge_allowed(
                    p,
                    &Edge {
                        from: src.name.clone(),
                        to: dst.name.clone(),
                        port: Some(port),
                        reason,
                    },
                    nodes,
                    z,
                )),
                _ => None,
            };
            let open = outcome == ProbeOutcome::Open;
            let what = format!(
                "{} -> {} {}:{}/{}{} (on {})",
                src.name,
                dst.name,
                tg.addr,
                tg.port,
                tg.proto.as_str(),
                if tg.via_host.is_some() {
                    ", published on the host, via the gateway"
                } else {
                    ""
                },
                tg.network
            );
            // UDP silence says nothing either way (open|filtered).
            let conclusive =
                outcome != ProbeOutcome::Error && outcome != ProbeOutcome::OpenFiltered;
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
            } else if !open && modelled && !tg.sample && conclusive {
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
                        outcome.as_str()
                    ),
                    edge,
                    vec![detail.clone()],
                ));
            }
            if open && allowed == Some(false) {
                confirmed.push((
                    src.name.clone(),
                    dst.name.clone(),
                    port.port,
                    tg.addr.to_string(),
                ));
            }
            results.push(ProbeResult {
                from: src.name.clone(),
                to: dst.name.clone(),
                address: tg.addr.to_string(),
                port: tg.port,
                proto: tg.proto,
                outcome,
                modelled,
                via_host: tg.via_host.is_some(),
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
