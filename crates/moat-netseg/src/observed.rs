//! Connections `moat monitor` observed, next to the model. The monitor's sampler
//! stores each new outbound socket of a container as a record of kind `event` whose
//! body is a runtime event with `source: "net"`, `type: "connect"`, the container
//! (`container.id`, `container.name`) and `net` (`proto`, `direction: "outbound"`,
//! `sip`, `sport`, `dip`, `dport`). They are read from the store (read-only use of
//! moat-store's query), grouped by (container, peer address, port), matched with the
//! model's nodes and gateways, and judged: modelled (an edge covers them) and allowed
//! by the policy. An observed flow the policy denies is a finding (NP005).

use crate::NetsegError;
use crate::graph;
use crate::policy::{self, Policy};
use crate::rules::{NP005, about};
use moat_model::network::{
    EXTERNAL, Edge, NetFinding, NetworkReport, NodeInfo, ObservedFlow, PortProto, Proto, Reason,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Records read from the store at most.
pub const MAX_RECORDS: usize = 200_000;

/// One outbound connection as the monitor stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conn {
    pub container_name: String,
    pub dip: String,
    pub port: PortProto,
}

/// The outbound connections in a store.
pub fn read_store(path: &Path) -> Result<(Vec<Conn>, Vec<String>), NetsegError> {
    let err = |e: moat_store::StoreError| NetsegError::Store {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let store = moat_store::Store::open_existing(path).map_err(err)?;
    let records = store
        .query(&moat_store::Query {
            kind: Some("event".into()),
            limit: Some(MAX_RECORDS + 1),
            ..Default::default()
        })
        .map_err(err)?;
    let mut warnings = Vec::new();
    if records.len() > MAX_RECORDS {
        warnings.push(format!(
            "store {}: more than {MAX_RECORDS} events; the rest were not read",
            path.display()
        ));
    }
    let mut out = Vec::new();
    for r in records.iter().take(MAX_RECORDS) {
        let b = &r.body;
        // RuntimeEvent serializes its `kind` as `type`.
        if b["source"] != "net" || (b["type"] != "connect" && b["kind"] != "connect") {
            continue;
        }
        let net = &b["net"];
        if net["direction"] != "outbound" {
            continue;
        }
        let proto = match net["proto"].as_str().unwrap_or("") {
            "tcp" | "tcp6" => Proto::Tcp,
            "udp" | "udp6" => Proto::Udp,
            _ => continue,
        };
        let (Some(dip), Some(dport)) = (
            net["dip"].as_str(),
            net["dport"].as_u64().and_then(|p| u16::try_from(p).ok()),
        ) else {
            continue;
        };
        out.push(Conn {
            container_name: b["container"]["name"].as_str().unwrap_or("").to_string(),
            dip: dip.to_string(),
            port: PortProto { port: dport, proto },
        });
    }
    Ok((out, warnings))
}

fn strip(a: &str) -> &str {
    a.split('/').next().unwrap_or(a)
}

/// The node that connected: by container name, or (compose models) by the name
/// compose gives the service's containers (`PROJECT-SERVICE-N`, `PROJECT_SERVICE_N`).
fn source<'a>(nodes: &'a [NodeInfo], c: &Conn) -> Option<&'a NodeInfo> {
    let name = c.container_name.as_str();
    if name.is_empty() {
        return None;
    }
    nodes.iter().find(|n| n.name == name).or_else(|| {
        let base = name
            .rsplit_once(['-', '_'])
            .filter(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()))
            .map_or(name, |(b, _)| b);
        nodes.iter().find(|n| match (&n.project, &n.service) {
            (Some(p), Some(s)) => base == format!("{p}-{s}") || base == format!("{p}_{s}"),
            _ => false,
        })
    })
}

/// Adds the observed flows (and NP005 findings) to a judged report.
pub fn apply(report: &mut NetworkReport, conns: &[Conn], policy: Option<&Policy>) {
    let zones = policy.map(|p| policy::zones(p, &report.nodes));
    // (from, to, address, port) -> count
    let mut groups: BTreeMap<(String, String, String, PortProto), (u64, Reason)> = BTreeMap::new();
    let mut unknown = 0usize;
    for c in conns {
        let Some(src) = source(&report.nodes, c) else {
            unknown += 1;
            continue;
        };
        let dip = strip(&c.dip);
        let peer = report.nodes.iter().find_map(|n| {
            n.endpoints
                .iter()
                .find(|e| {
                    e.ipv4.as_deref().map(strip) == Some(dip)
                        || e.ipv6.as_deref().map(strip) == Some(dip)
                })
                .map(|e| (n, e.network.clone()))
        });
        let gateway = report
            .networks
            .iter()
            .find(|n| n.gateways.iter().any(|g| strip(g) == dip))
            .map(|n| n.name.clone());
        let (to, reason) = match (peer, gateway) {
            (Some((n, net)), _) => (n.name.clone(), Reason::SameNetwork { network: net }),
            (None, Some(net)) => {
                // A published port through the gateway, if one matches.
                match report.nodes.iter().find(|n| {
                    n.published.iter().any(|p| {
                        p.host_port == Some(c.port.port) && p.container.proto == c.port.proto
                    })
                }) {
                    Some(n) => (
                        n.name.clone(),
                        Reason::PublishedViaHost {
                            binding: format!("{dip}:{}", c.port.port),
                            network: net,
                        },
                    ),
                    None => (moat_model::network::HOST.to_string(), Reason::HostNetwork),
                }
            }
            (None, None) => (
                EXTERNAL.to_string(),
                Reason::Egress {
                    network: String::new(),
                },
            ),
        };
        let g = groups
            .entry((src.name.clone(), to, dip.to_string(), c.port))
            .or_insert((0, reason));
        g.0 += 1;
    }
    if unknown > 0 {
        report.warnings.push(format!(
            "{unknown} observed connection(s) from containers not in the model"
        ));
    }
    let mut flows = Vec::new();
    let mut findings: Vec<NetFinding> = Vec::new();
    for ((from, to, address, port), (count, reason)) in groups {
        // The container port the flow reaches (published: the container side).
        let cport = match &reason {
            Reason::PublishedViaHost { .. } => report
                .nodes
                .iter()
                .find(|n| n.name == to)
                .and_then(|n| {
                    n.published
                        .iter()
                        .find(|p| p.host_port == Some(port.port) && p.container.proto == port.proto)
                })
                .map_or(port, |p| p.container),
            _ => port,
        };
        let modelled = match &reason {
            Reason::SameNetwork { network } => graph::covers_family(
                &report.edges,
                &from,
                &to,
                Some(network),
                cport,
                address.contains(':'),
            ),
            Reason::PublishedViaHost { network, .. } => {
                graph::covers_via_host(&report.edges, &from, &to, network, cport)
            }
            Reason::Egress { .. } => report
                .edges
                .iter()
                .any(|e| e.from == from && matches!(e.reason, Reason::Egress { .. })),
            _ => false,
        };
        let edge = Edge {
            from: from.clone(),
            to: to.clone(),
            port: Some(cport),
            reason: reason.clone(),
        };
        let allowed = match (policy, &zones) {
            (Some(p), Some(z)) => Some(policy::edge_allowed(p, &edge, &report.nodes, z)),
            _ => None,
        };
        if allowed == Some(false)
            && let Some(anchor) = report
                .nodes
                .iter()
                .find(|n| n.name == to)
                .or_else(|| report.nodes.iter().find(|n| n.name == from))
        {
            findings.push(about(
                &NP005,
                anchor,
                format!(
                    "moat monitor observed {from} -> {to} ({address}:{port}, {count} record(s)): not allowed by the policy{}",
                    if modelled { "" } else { " (and the model has no path there)" }
                ),
                Some(Edge {
                    reason: Reason::Observed { records: count },
                    ..edge
                }),
                vec![format!("as modelled: {}", reason.describe())],
            ));
        }
        flows.push(ObservedFlow {
            from,
            to,
            address,
            port,
            count,
            modelled,
            allowed,
        });
    }
    report.findings.extend(findings);
    report.observed = Some(flows);
    report.finish();
}
