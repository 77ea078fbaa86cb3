//! The built-in rules (NS), and the metadata of policy (NP) and probe (NX) findings.
//! Codes are stable; `moat network --format sarif` describes each from [`RULES`].

use crate::graph::{Offer, Topology};
use crate::ports;
use moat_model::network::{Edge, NetFinding, NetMode, NodeInfo, Reason};
use moat_model::{RuleMeta, RuleTarget, Severity};

macro_rules! rule {
    ($name:ident, $code:literal, $sev:ident, $target:ident, $title:literal, [$($r:literal),*]) => {
        pub static $name: RuleMeta = RuleMeta {
            code: $code,
            title: $title,
            severity: Severity::$sev,
            target: RuleTarget::$target,
            references: &[$($r),*],
            aliases: &[],
        };
    };
}

rule!(
    NS001,
    "NS001",
    High,
    Container,
    "Database or admin port reachable from a network that holds a published service",
    ["CWE-668"]
);
rule!(
    NS002,
    "NS002",
    Low,
    Container,
    "Container on the default bridge network",
    ["CIS-5.29"]
);
rule!(
    NS003,
    "NS003",
    High,
    Container,
    "Container in the host's network namespace",
    ["CIS-5.9"]
);
rule!(
    NS004,
    "NS004",
    Medium,
    Daemon,
    "Inter-container communication on the default bridge",
    ["CIS-2.1"]
);
rule!(
    NS005,
    "NS005",
    Medium,
    Container,
    "Database or admin port published on all interfaces",
    ["CIS-5.13"]
);
rule!(
    NS006,
    "NS006",
    Critical,
    Container,
    "Docker socket mounted into a container",
    ["CIS-5.31"]
);
rule!(
    NS007,
    "NS007",
    High,
    Daemon,
    "Network isolation disabled on the daemon",
    ["CIS-2.3"]
);
rule!(
    NS008,
    "NS008",
    Low,
    Container,
    "Container bridging two zones",
    []
);
rule!(
    NP001,
    "NP001",
    High,
    Container,
    "Flow not allowed by the segmentation policy",
    []
);
rule!(
    NP002,
    "NP002",
    Medium,
    Container,
    "Egress not allowed by the segmentation policy",
    []
);
rule!(
    NP003,
    "NP003",
    Low,
    Container,
    "Expected egress missing",
    []
);
rule!(
    NP004,
    "NP004",
    Medium,
    Container,
    "Container in no zone of the policy",
    []
);
rule!(
    NP005,
    "NP005",
    High,
    Container,
    "Observed connection not allowed by the segmentation policy",
    []
);
rule!(
    NX001,
    "NX001",
    High,
    Container,
    "Probe connected where the model says no path exists",
    []
);
rule!(
    NX002,
    "NX002",
    Medium,
    Container,
    "Probe could not connect where the model says a path exists",
    []
);

/// Every rule of `moat network`.
pub static RULES: &[&RuleMeta] = &[
    &NS001, &NS002, &NS003, &NS004, &NS005, &NS006, &NS007, &NS008, &NP001, &NP002, &NP003, &NP004,
    &NP005, &NX001, &NX002,
];

/// The rule with this code.
pub fn meta(code: &str) -> Option<&'static RuleMeta> {
    RULES.iter().copied().find(|r| r.code == code)
}

/// Where a finding about a node points: its compose file and line, or `container:NAME`.
pub fn location(n: &NodeInfo) -> (String, u32) {
    if let Some(at) = &n.defined_at
        && let Some((file, line)) = at.rsplit_once(':')
    {
        return (file.to_string(), line.parse().unwrap_or(0));
    }
    (format!("container:{}", n.name), 0)
}

/// A finding about a node.
pub fn about(
    rule: &RuleMeta,
    n: &NodeInfo,
    message: String,
    edge: Option<Edge>,
    evidence: Vec<String>,
) -> NetFinding {
    let (path, line) = location(n);
    NetFinding {
        finding: rule.finding(&path, line, 0, message),
        edge,
        object: n.name.clone(),
        evidence,
    }
}

/// A finding about the daemon or a network.
pub fn about_object(
    rule: &RuleMeta,
    object: &str,
    message: String,
    evidence: Vec<String>,
) -> NetFinding {
    NetFinding {
        finding: rule.finding(object, 0, 0, message),
        edge: None,
        object: object.to_string(),
        evidence,
    }
}

/// The built-in rules over a topology and its edges. `zones` (parallel to the nodes)
/// are the policy's zones; without a policy, networks stand for zones.
pub fn check(
    t: &Topology<'_>,
    edges: &[Edge],
    zones: Option<&[Option<String>]>,
) -> Vec<NetFinding> {
    let mut out = Vec::new();
    let nodes = t.nodes;
    // Networks holding a service published beyond loopback.
    let public: Vec<(&str, &NodeInfo)> = nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.published.iter().any(|p| !p.loopback()))
        .flat_map(|(i, n)| t.networks_of(i).into_iter().map(move |net| (net, n)))
        .collect();
    for (i, n) in nodes.iter().enumerate() {
        // NS001: a sensitive port of n reachable on a network that holds a public service.
        if let Offer::Known(set) = t.offer(i) {
            for p in set.iter().filter(|p| ports::sensitive(p.port).is_some()) {
                for net in t.networks_of(i) {
                    for (pn, pub_node) in &public {
                        if *pn != net || pub_node.name == n.name {
                            continue;
                        }
                        let edge = edges.iter().find(|e| {
                            e.from == pub_node.name
                                && e.to == n.name
                                && e.port.is_none_or(|x| x == *p)
                                && matches!(&e.reason, Reason::SameNetwork { network } if network == net)
                        });
                        let Some(edge) = edge else { continue };
                        out.push(about(
                            &NS001,
                            n,
                            format!(
                                "{} port {p} of {} is reachable on network {net}, which also holds {} (published on the host)",
                                ports::sensitive(p.port).unwrap_or("sensitive"),
                                n.name,
                                pub_node.name
                            ),
                            Some(edge.clone()),
                            vec![format!("{} publishes {}", pub_node.name, pub_node.published.iter().map(|p| p.container.to_string()).collect::<Vec<_>>().join(", "))],
                        ));
                    }
                }
            }
        }
        // NS002: the default bridge.
        if t.owner(i) == i {
            for net in t.networks_of(i) {
                if t.networks.get(net).is_some_and(|x| x.default_bridge) {
                    out.push(about(
                        &NS002,
                        n,
                        format!("{} is on the default bridge network {net}: no name resolution, every container there shares it", n.name),
                        None,
                        vec![],
                    ));
                }
            }
        }
        // NS003: host network mode.
        if matches!(n.mode, NetMode::Host) {
            out.push(about(
                &NS003,
                n,
                format!("{} runs in the host's network namespace: it listens on the host's interfaces and reaches every container", n.name),
                None,
                vec!["network_mode=host".into()],
            ));
        }
        // NS005: a sensitive port published on all interfaces.
        for p in n.published.iter().filter(|p| p.all_interfaces()) {
            if let Some(what) = ports::sensitive(p.container.port) {
                out.push(about(
                    &NS005,
                    n,
                    format!(
                        "{} publishes {what} port {} on all interfaces; bind 127.0.0.1 if only the host needs it",
                        n.name, p.container
                    ),
                    Some(Edge {
                        from: moat_model::network::EXTERNAL.into(),
                        to: n.name.clone(),
                        port: Some(p.container),
                        reason: Reason::PublishedPort {
                            binding: format!("0.0.0.0:{}->{}", p.host_port.map_or("?".into(), |h| h.to_string()), p.container),
                        },
                    }),
                    vec![],
                ));
            }
        }
        // NS006: the Docker socket.
        if n.docker_socket {
            out.push(about(
                &NS006,
                n,
                format!(
                    "{} has the Docker socket mounted: reaching the daemon is root on the host",
                    n.name
                ),
                None,
                vec![],
            ));
        }
        // NS008: bridging zones.
        if t.owner(i) == i {
            let nets = t.networks_of(i);
            let joined: Vec<String> = match zones {
                Some(z) => {
                    let own = z.get(i).cloned().flatten();
                    // The other zones each of its networks reaches.
                    let per_net: Vec<std::collections::BTreeSet<String>> = nets
                        .iter()
                        .map(|net| {
                            nodes
                                .iter()
                                .enumerate()
                                .filter(|(j, _)| {
                                    t.owner(*j) != i && t.networks_of(*j).contains(net)
                                })
                                .filter_map(|(j, _)| z.get(j).cloned().flatten())
                                .filter(|zn| Some(zn) != own.as_ref())
                                .collect()
                        })
                        .collect();
                    let all: std::collections::BTreeSet<String> =
                        per_net.iter().flatten().cloned().collect();
                    // Bridging: it joins zones no single one of its networks joins.
                    if per_net.iter().any(|s| s.is_superset(&all)) {
                        Vec::new()
                    } else {
                        all.into_iter().collect()
                    }
                }
                None => nets.iter().map(|s| s.to_string()).collect(),
            };
            if joined.len() >= 2 {
                out.push(about(
                    &NS008,
                    n,
                    format!(
                        "{} joins {} {}: a compromise of it reaches both",
                        n.name,
                        if zones.is_some() { "zones" } else { "networks" },
                        joined.join(" and ")
                    ),
                    None,
                    nets.iter().map(|x| format!("attached to {x}")).collect(),
                ));
            }
        }
    }
    // NS004: icc on the default bridge with containers on it.
    let on_default: Vec<&str> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| t.owner(*i) == *i)
        .filter(|(i, _)| {
            t.networks_of(*i)
                .iter()
                .any(|x| t.networks.get(x).is_some_and(|n| n.default_bridge))
        })
        .map(|(_, n)| n.name.as_str())
        .collect();
    let default_icc_off = t
        .networks
        .values()
        .find(|n| n.default_bridge)
        .and_then(|n| n.icc)
        .or(t.daemon.icc)
        == Some(false);
    if on_default.len() >= 2 && (!default_icc_off || t.daemon.iptables == Some(false)) {
        out.push(about_object(
            &NS004,
            "daemon",
            format!(
                "inter-container communication is on for the default bridge, where {} run",
                on_default.join(", ")
            ),
            t.daemon
                .sources
                .iter()
                .filter(|s| s.contains("icc"))
                .cloned()
                .collect(),
        ));
    }
    // NS007 (IPv6): user networks with IPv6 while the daemon writes no ip6tables rules
    // and the host forwards IPv6.
    let v6_nets: Vec<&str> = t
        .networks
        .values()
        .filter(|n| !n.default_bridge && !n.internal && t.has_ipv6(&n.name))
        .map(|n| n.name.as_str())
        .collect();
    if v6_nets.len() >= 2
        && t.daemon.iptables != Some(false)
        && v6_nets
            .iter()
            .any(|a| v6_nets.iter().any(|b| a != b && !t.isolated_v6(a, b)))
    {
        out.push(about_object(
            &NS007,
            "daemon",
            format!(
                "the daemon writes no ip6tables rules (ip6tables off) and the host forwards IPv6: IPv6 networks {} reach each other over IPv6 although IPv4 is isolated",
                v6_nets.join(", ")
            ),
            t.daemon
                .sources
                .iter()
                .filter(|s| s.contains("ip6tables") || s.contains("ipv6"))
                .cloned()
                .collect(),
        ));
    }
    // NS007: isolation off while user networks exist.
    let user_nets: Vec<&str> = t
        .networks
        .values()
        .filter(|n| !n.default_bridge && matches!(n.driver.as_str(), "bridge" | ""))
        .map(|n| n.name.as_str())
        .collect();
    if !user_nets.is_empty() {
        if t.daemon.iptables == Some(false) {
            out.push(about_object(
                &NS007,
                "daemon",
                format!(
                    "the daemon runs with iptables off: user networks {} are not isolated from each other{}",
                    user_nets.join(", "),
                    if t.daemon.forward_policy.as_deref() == Some("DROP") {
                        " (the host's FORWARD policy DROP blocks routed traffic for now)"
                    } else {
                        ""
                    }
                ),
                t.daemon.sources.iter().filter(|s| s.contains("iptables")).cloned().collect(),
            ));
        } else if t.daemon.firewall_read {
            let missing: Vec<String> = t
                .networks
                .values()
                .filter(|n| user_nets.contains(&n.name.as_str()))
                .filter_map(|n| n.bridge.clone())
                .filter(|b| !t.daemon.isolated_bridges.contains(b))
                .collect();
            if !missing.is_empty() {
                out.push(about_object(
                    &NS007,
                    "daemon",
                    format!(
                        "no Docker isolation rule in the host firewall for bridge(s) {}",
                        missing.join(", ")
                    ),
                    vec!["iptables-save: DOCKER-ISOLATION-STAGE-1/2".into()],
                ));
            }
        }
    }
    out
}
