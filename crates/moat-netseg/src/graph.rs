//! The reachability graph: from networks, containers and the daemon's isolation
//! settings, every edge `source → destination:port/proto` with its reason.
//!
//! - Containers on one network reach each other (unless inter-container communication
//!   is off for that bridge and the daemon enforces it with iptables).
//! - Containers on different bridge networks do not, while the daemon isolates them
//!   (`iptables` on and, when the firewall was read, the bridge's isolation rule
//!   present). Without isolation, they do when the host forwards (`ip_forward` on and
//!   the FORWARD chain's policy not `DROP`).
//! - A published port is reachable from the host, and from outside unless bound to
//!   loopback.
//! - A container in the host's namespace reaches every container, and every container
//!   reaches it; containers sharing a namespace reach each other on every port.
//! - A container on a non-internal network (or the host's) has egress.
//!
//! Ports: what the destination really listens on when measured (not loopback), else
//! what it exposes and publishes, else its image's well-known default port (databases),
//! else any port (`port: None`).

use crate::ports;
use moat_model::network::{
    BlockedEdge, DaemonNet, EXTERNAL, Edge, HOST, NetMode, NetworkInfo, NodeInfo, PortProto, Reason,
};
use std::collections::{BTreeMap, BTreeSet};

/// Hops followed through `network_mode: container:X` chains.
const MAX_NS_HOPS: usize = 8;

/// The resolved view of a deployment the graph and the rules share.
pub struct Topology<'a> {
    pub networks: BTreeMap<&'a str, &'a NetworkInfo>,
    pub nodes: &'a [NodeInfo],
    pub daemon: &'a DaemonNet,
    /// Index of the node whose namespace each node uses (itself, or its `container:` target).
    owner: Vec<usize>,
    /// DOCKER-USER accepts replies before Docker's isolation chains see them.
    replies_accepted: bool,
}

/// The ports a destination offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    Known(BTreeSet<PortProto>),
    /// Nothing is known: any port.
    Any,
}

impl<'a> Topology<'a> {
    pub fn new(networks: &'a [NetworkInfo], nodes: &'a [NodeInfo], daemon: &'a DaemonNet) -> Self {
        let by_name: BTreeMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| {
                let mut keys = vec![(n.name.as_str(), i)];
                if let Some(s) = &n.service {
                    keys.push((s.as_str(), i));
                }
                keys
            })
            .collect();
        let owner = (0..nodes.len())
            .map(|i| {
                let mut cur = i;
                for _ in 0..MAX_NS_HOPS {
                    match &nodes[cur].mode {
                        NetMode::Container(t) => match by_name.get(t.as_str()) {
                            Some(&j) if j != cur => cur = j,
                            _ => break,
                        },
                        _ => break,
                    }
                }
                cur
            })
            .collect();
        Topology {
            networks: networks.iter().map(|n| (n.name.as_str(), n)).collect(),
            nodes,
            daemon,
            owner,
            replies_accepted: crate::firewall::Chain::from_report(&daemon.docker_user)
                .accepts_replies(),
        }
    }

    /// The node whose network namespace `i` uses.
    pub fn owner(&self, i: usize) -> usize {
        self.owner[i]
    }

    pub fn mode(&self, i: usize) -> &NetMode {
        &self.nodes[self.owner[i]].mode
    }

    /// The networks node `i` is attached to (through its namespace's owner).
    pub fn networks_of(&self, i: usize) -> Vec<&'a str> {
        let o = &self.nodes[self.owner[i]];
        if !matches!(o.mode, NetMode::Bridge) {
            return Vec::new();
        }
        let mut v: Vec<&str> = o.endpoints.iter().map(|e| e.network.as_str()).collect();
        v.sort();
        v.dedup();
        v
    }

    fn routed(&self, net: &str) -> bool {
        self.networks.get(net).is_none_or(|n| {
            matches!(
                n.driver.as_str(),
                "bridge" | "overlay" | "" | "ipvlan" | "macvlan"
            )
        })
    }

    /// The ports node `i`'s namespace offers to peers.
    pub fn offer(&self, i: usize) -> Offer {
        let o = &self.nodes[self.owner[i]];
        if let Some(l) = &o.listening {
            return Offer::Known(l.iter().filter(|l| !l.loopback()).map(|l| l.port).collect());
        }
        // Every member of the namespace contributes what it declares.
        let mut set = BTreeSet::new();
        for (j, n) in self.nodes.iter().enumerate() {
            if self.owner[j] != self.owner[i] {
                continue;
            }
            set.extend(n.exposed.iter().copied());
            set.extend(n.published.iter().map(|p| p.container));
            if let Some(p) = n.image.as_deref().and_then(ports::image_default_port) {
                set.insert(p);
            }
        }
        if set.is_empty() {
            Offer::Any
        } else {
            Offer::Known(set)
        }
    }

    /// Whether inter-container traffic on `net` is allowed.
    fn icc(&self, net: &str) -> bool {
        if self.daemon.iptables == Some(false) {
            return true; // nothing enforces icc=false
        }
        let n = self.networks.get(net);
        if let Some(Some(v)) = n.map(|n| n.icc) {
            return v;
        }
        if n.is_some_and(|n| n.default_bridge) {
            return self.daemon.icc != Some(false);
        }
        true
    }

    /// Whether the daemon keeps traffic from network `from` away from network `to`.
    pub fn isolated(&self, from: &str, to: &str) -> bool {
        if self.daemon.iptables == Some(false) {
            // Routed unless the host does not forward.
            return self.daemon.ip_forward == Some(false)
                || self.daemon.forward_policy.as_deref() == Some("DROP");
        }
        if self.daemon.firewall_read {
            // Traffic from bridge a to bridge b is dropped by a's rule in stage 1 and
            // b's in stage 2: both are needed for that direction.
            let has = |n: &str, list: &[String]| {
                self.networks
                    .get(n)
                    .and_then(|n| n.bridge.as_deref())
                    .is_none_or(|b| list.iter().any(|x| x == b))
            };
            let d = self.daemon;
            if d.isolation_stage1.is_empty() && d.isolation_stage2.is_empty() {
                return has(from, &d.isolated_bridges) && has(to, &d.isolated_bridges);
            }
            // The stages do not look at connection state: a connection needs both
            // directions, unless DOCKER-USER accepts the replies first.
            let dropped =
                |a: &str, b: &str| has(a, &d.isolation_stage1) && has(b, &d.isolation_stage2);
            return dropped(from, to) || (!self.replies_accepted && dropped(to, from));
        }
        true
    }

    /// The network through whose gateway node `s` reaches ports node `d` publishes on
    /// the host, if any: the first non-internal bridge network of `s` (traffic to the
    /// gateway goes to the host's INPUT chain, not FORWARD, so network isolation does
    /// not apply; measured on Docker 20.10: a container on an internal network does
    /// not reach the gateway's published ports, one on a user network does). The userland
    /// proxy listens there; without it (`userland-proxy=false`) the DNAT'ed flow is
    /// forwarded like any other and isolation applies.
    pub fn via_host(&self, s: usize, d: usize) -> Option<&'a str> {
        if !matches!(self.mode(s), NetMode::Bridge) || self.owner(s) == self.owner(d) {
            return None;
        }
        let snets = self.networks_of(s);
        let net = snets.iter().copied().find(|n| {
            self.networks
                .get(n)
                .is_none_or(|x| (x.driver == "bridge" || x.driver.is_empty()) && !x.internal)
        })?;
        if self.daemon.userland_proxy == Some(false) {
            if self.daemon.iptables == Some(false) {
                return None; // no proxy and no DNAT: nothing listens on the host port
            }
            let dnets = self.networks_of(d);
            let direct = snets.iter().any(|a| {
                dnets
                    .iter()
                    .any(|b| a == b || (self.routed(a) && self.routed(b) && !self.isolated(a, b)))
            });
            if !direct {
                return None;
            }
        }
        Some(net)
    }

    /// Whether the daemon keeps IPv6 traffic from `from` away from `to`: with
    /// `ip6tables` on (or unknown: compose models assume today's default) like IPv4;
    /// with it off, only when the host does not forward IPv6 (the kernel's
    /// `net.ipv6.conf.all.forwarding`, ip6tables' FORWARD policy).
    pub fn isolated_v6(&self, from: &str, to: &str) -> bool {
        if self.daemon.ip6tables != Some(false) {
            return self.isolated(from, to);
        }
        self.daemon.ip6_forward == Some(false)
            || self.daemon.forward_policy_v6.as_deref() == Some("DROP")
    }

    /// Whether network `n` has IPv6 (a subnet with `:`).
    pub fn has_ipv6(&self, n: &str) -> bool {
        self.networks
            .get(n)
            .is_some_and(|x| x.subnets.iter().any(|s| s.contains(':')))
    }

    /// Whether node `i` has a route out (a non-internal routed network, or the host's).
    pub fn egress(&self, i: usize) -> Vec<String> {
        match self.mode(i) {
            NetMode::Host => vec!["host".to_string()],
            NetMode::None | NetMode::Container(_) => Vec::new(),
            NetMode::Bridge => self
                .networks_of(i)
                .into_iter()
                .filter(|n| self.routed(n) && self.networks.get(n).is_none_or(|x| !x.internal))
                .map(str::to_string)
                .collect(),
        }
    }
}

fn push_ports(out: &mut Vec<Edge>, from: &str, to: &str, offer: &Offer, reason: &Reason) {
    match offer {
        Offer::Any => out.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            port: None,
            reason: reason.clone(),
        }),
        Offer::Known(set) => {
            for p in set {
                out.push(Edge {
                    from: from.to_string(),
                    to: to.to_string(),
                    port: Some(*p),
                    reason: reason.clone(),
                });
            }
        }
    }
}

/// Every edge of the deployment, sorted.
pub fn edges(t: &Topology<'_>) -> Vec<Edge> {
    let mut out = Vec::new();
    let nodes = t.nodes;
    for (d, dn) in nodes.iter().enumerate() {
        let offer = t.offer(d);
        // Published ports: from the host, and from outside unless on loopback.
        for p in &dn.published {
            let binding = format!(
                "{}:{}->{}",
                if p.host_ip.is_empty() {
                    "0.0.0.0"
                } else {
                    &p.host_ip
                },
                p.host_port
                    .map_or_else(|| "?".to_string(), |h| h.to_string()),
                p.container
            );
            let reason = Reason::PublishedPort { binding };
            for from in [HOST, EXTERNAL] {
                if from == EXTERNAL && p.loopback() {
                    continue;
                }
                out.push(Edge {
                    from: from.to_string(),
                    to: dn.name.clone(),
                    port: Some(p.container),
                    reason: reason.clone(),
                });
            }
        }
        if matches!(t.mode(d), NetMode::Host) && t.owner(d) == d {
            // Its listeners are the host's: reachable from outside on every port.
            push_ports(&mut out, EXTERNAL, &dn.name, &offer, &Reason::HostNetwork);
        }
        for (s, sn) in nodes.iter().enumerate() {
            if s == d {
                continue;
            }
            if t.owner(s) == t.owner(d) {
                // One namespace: every port, loopback included.
                out.push(Edge {
                    from: sn.name.clone(),
                    to: dn.name.clone(),
                    port: None,
                    reason: Reason::SharedNamespace,
                });
                continue;
            }
            let (sm, dm) = (t.mode(s), t.mode(d));
            if matches!(sm, NetMode::None) || matches!(dm, NetMode::None) {
                continue;
            }
            if matches!(sm, NetMode::Host) || matches!(dm, NetMode::Host) {
                // The host reaches every container address, and containers reach the
                // host's listeners through their gateway.
                let ok = matches!(sm, NetMode::Host) || !t.networks_of(s).is_empty();
                if ok {
                    push_ports(&mut out, &sn.name, &dn.name, &offer, &Reason::HostNetwork);
                }
                continue;
            }
            let (snets, dnets) = (t.networks_of(s), t.networks_of(d));
            let common: Vec<&str> = snets
                .iter()
                .filter(|n| dnets.contains(n))
                .copied()
                .collect();
            for n in &common {
                if !t.routed(n) {
                    continue;
                }
                let linked = sn.links.iter().any(|l| {
                    let target = l.split(':').next().unwrap_or("").trim_start_matches('/');
                    target == dn.name || Some(target) == dn.service.as_deref()
                });
                if t.icc(n) {
                    push_ports(
                        &mut out,
                        &sn.name,
                        &dn.name,
                        &offer,
                        &Reason::SameNetwork {
                            network: n.to_string(),
                        },
                    );
                } else if linked {
                    push_ports(&mut out, &sn.name, &dn.name, &offer, &Reason::Link);
                }
            }
            // Networks the source is on and the destination is not: reachable only
            // without isolation.
            for a in &snets {
                for b in &dnets {
                    if a == b {
                        continue;
                    }
                    if !t.routed(a) || !t.routed(b) || common.contains(b) {
                        // Already reachable on b directly.
                        continue;
                    }
                    if t.isolated(a, b) {
                        let internal = |n: &str| t.networks.get(n).is_some_and(|x| x.internal);
                        if t.has_ipv6(a)
                            && t.has_ipv6(b)
                            && !internal(a)
                            && !internal(b)
                            && !t.isolated_v6(a, b)
                        {
                            push_ports(
                                &mut out,
                                &sn.name,
                                &dn.name,
                                &offer,
                                &Reason::MissingIsolationV6 {
                                    from_network: a.to_string(),
                                    to_network: b.to_string(),
                                },
                            );
                        }
                        continue;
                    }
                    push_ports(
                        &mut out,
                        &sn.name,
                        &dn.name,
                        &offer,
                        &Reason::MissingIsolation {
                            from_network: a.to_string(),
                            to_network: b.to_string(),
                        },
                    );
                }
            }
        }
        // Ports published on the host, reached through each other container's gateway.
        for p in dn.published.iter().filter(|p| !p.loopback()) {
            let binding = format!(
                "{}:{}->{}",
                if p.host_ip.is_empty() {
                    "0.0.0.0"
                } else {
                    &p.host_ip
                },
                p.host_port
                    .map_or_else(|| "?".to_string(), |h| h.to_string()),
                p.container
            );
            for (s, sn) in nodes.iter().enumerate() {
                if t.owner(s) == t.owner(d) {
                    continue;
                }
                if let Some(net) = t.via_host(s, d) {
                    out.push(Edge {
                        from: sn.name.clone(),
                        to: dn.name.clone(),
                        port: Some(p.container),
                        reason: Reason::PublishedViaHost {
                            binding: binding.clone(),
                            network: net.to_string(),
                        },
                    });
                }
            }
        }
        for n in t.egress(d) {
            out.push(Edge {
                from: dn.name.clone(),
                to: EXTERNAL.to_string(),
                port: None,
                reason: Reason::Egress { network: n },
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether an edge from `from` to `to` covers `port` at an address on `network`
/// (`None`: an address whose network is not known, e.g. the host's).
pub fn covers(
    edges: &[Edge],
    from: &str,
    to: &str,
    network: Option<&str>,
    port: PortProto,
) -> bool {
    covers_family(edges, from, to, network, port, false)
}

/// [`covers`] for an IPv6 (`v6`) or IPv4 address.
pub fn covers_family(
    edges: &[Edge],
    from: &str,
    to: &str,
    network: Option<&str>,
    port: PortProto,
    v6: bool,
) -> bool {
    edges.iter().any(|e| {
        e.from == from
            && e.to == to
            && e.port.is_none_or(|p| p == port)
            && match &e.reason {
                Reason::SameNetwork { network: n } => network.is_none_or(|x| x == n),
                Reason::MissingIsolation { to_network, .. } => {
                    network.is_none_or(|x| x == to_network)
                }
                Reason::MissingIsolationV6 { to_network, .. } => {
                    v6 && network.is_none_or(|x| x == to_network)
                }
                Reason::HostNetwork | Reason::SharedNamespace | Reason::Link => true,
                Reason::PublishedPort { .. }
                | Reason::Egress { .. }
                | Reason::PublishedViaHost { .. }
                | Reason::Observed { .. } => false,
            }
    })
}

/// Whether an edge from `from` to `to` covers container port `port` published on the
/// host, reached through the gateway of `network`.
pub fn covers_via_host(
    edges: &[Edge],
    from: &str,
    to: &str,
    network: &str,
    port: PortProto,
) -> bool {
    edges.iter().any(|e| {
        e.from == from
            && e.to == to
            && e.port == Some(port)
            && matches!(&e.reason, Reason::PublishedViaHost { network: n, .. } if n == network)
    })
}

/// The address of node `i` on `network` (IPv4).
fn ipv4_on(n: &NodeInfo, network: &str) -> Option<std::net::IpAddr> {
    n.endpoints
        .iter()
        .find(|e| e.network == network)
        .and_then(|e| e.ipv4.as_deref())
        .and_then(|a| a.split('/').next())
        .and_then(|a| a.parse().ok())
}

fn has_ipv6_on(n: &NodeInfo, network: &str) -> bool {
    n.endpoints
        .iter()
        .any(|e| e.network == network && e.ipv6.as_deref().is_some_and(|a| !a.is_empty()))
}

/// Runs the container-to-container edges that cross the FORWARD chain through the
/// DOCKER-USER rules: edges between two bridges (`missing-isolation`), and edges inside
/// one bridge when bridge traffic is passed to iptables
/// (`bridge-nf-call-iptables=1`). Returns the edges kept and those blocked, with the
/// blocking rule. An edge whose destination also has an IPv6 address on the network is
/// kept (iptables-save's DOCKER-USER does not govern IPv6).
pub fn apply_docker_user(t: &Topology<'_>, edges: Vec<Edge>) -> (Vec<Edge>, Vec<BlockedEdge>) {
    if t.daemon.docker_user.is_empty() || t.daemon.iptables == Some(false) {
        return (edges, Vec::new());
    }
    let chain = crate::firewall::Chain::from_report(&t.daemon.docker_user);
    let node = |name: &str| t.nodes.iter().position(|n| n.name == name);
    let bridged = t.daemon.bridge_nf_call_iptables == Some(true);
    let mut kept = Vec::new();
    let mut blocked = Vec::new();
    for e in edges {
        let (Some(s), Some(d)) = (node(&e.from), node(&e.to)) else {
            kept.push(e);
            continue;
        };
        let (sn, dn) = (&t.nodes[t.owner(s)], &t.nodes[t.owner(d)]);
        let (from_net, to_net) = match &e.reason {
            Reason::SameNetwork { network } if bridged => (network.as_str(), network.as_str()),
            Reason::MissingIsolation {
                from_network,
                to_network,
            } => (from_network.as_str(), to_network.as_str()),
            _ => {
                kept.push(e);
                continue;
            }
        };
        if has_ipv6_on(dn, to_net) && has_ipv6_on(sn, from_net) {
            kept.push(e);
            continue;
        }
        let bridge = |n: &str| self_bridge(t, n);
        let flow = crate::firewall::Flow {
            src: ipv4_on(sn, from_net),
            dst: ipv4_on(dn, to_net),
            iface_in: bridge(from_net),
            iface_out: bridge(to_net),
            port: e.port,
        };
        match chain.verdict(&flow) {
            crate::firewall::Verdict::Blocked(rule) => blocked.push(BlockedEdge { edge: e, rule }),
            crate::firewall::Verdict::Passes => kept.push(e),
        }
    }
    (kept, blocked)
}

fn self_bridge<'a>(t: &Topology<'a>, net: &str) -> Option<&'a str> {
    t.networks.get(net).and_then(|n| n.bridge.as_deref())
}
