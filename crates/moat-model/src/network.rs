//! The network segmentation report (`moat network`): the model of a deployment's
//! networking (networks, containers and their endpoints, the daemon's isolation
//! settings), the reachability graph derived from it (each edge with its reason), the
//! findings of the built-in rules and of a segmentation policy, and the probe's
//! measurements. moat-netseg produces it, moat-report renders it.

use crate::Severity;
use crate::lint::ConfigFinding;
use serde::{Deserialize, Serialize};

/// Transport protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }
}

/// A port and its protocol (`5432/tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortProto {
    pub port: u16,
    pub proto: Proto,
}

impl std::fmt::Display for PortProto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.proto.as_str())
    }
}

/// Where the model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    /// Compose files: the planned deployment, no daemon asked.
    Compose,
    /// A live engine (and its host's /proc and firewall).
    Engine,
}

/// The daemon's settings that decide isolation, each `None` when unknown (compose: the
/// engine's defaults are assumed and said so in `notes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonNet {
    pub iptables: Option<bool>,
    pub icc: Option<bool>,
    pub userland_proxy: Option<bool>,
    pub ip_forward: Option<bool>,
    /// dockerd's `ip6tables` (isolation rules for IPv6; off by default before Docker 27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6tables: Option<bool>,
    /// The kernel's `net.ipv6.conf.all.forwarding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6_forward: Option<bool>,
    /// Policy of ip6tables' filter FORWARD chain, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_policy_v6: Option<String>,
    /// Where each setting was read (`dockerd --iptables=false`, `/proc/sys/net/ipv4/ip_forward=1`).
    pub sources: Vec<String>,
    /// Firewall chains present on the host that Docker uses (`DOCKER-USER`,
    /// `DOCKER-ISOLATION-STAGE-1`…), from `iptables-save`; empty when not read.
    pub chains: Vec<String>,
    /// Policy of the filter table's FORWARD chain (`ACCEPT`, `DROP`), when read.
    pub forward_policy: Option<String>,
    /// Bridges with both Docker isolation rules in `iptables-save` (when read).
    pub isolated_bridges: Vec<String>,
    /// Bridges DOCKER-ISOLATION-STAGE-1 sends to stage 2 (traffic out of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isolation_stage1: Vec<String>,
    /// Bridges DOCKER-ISOLATION-STAGE-2 protects (traffic into them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isolation_stage2: Vec<String>,
    /// Whether the host firewall was read at all.
    pub firewall_read: bool,
    /// The rules of the DOCKER-USER chain in order (when read), each evaluated
    /// against the graph's edges or marked as not evaluated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docker_user: Vec<FirewallRule>,
    /// `/proc/sys/net/bridge/bridge-nf-call-iptables`: traffic inside one bridge passes
    /// the FORWARD chain (and DOCKER-USER) only when on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_nf_call_iptables: Option<bool>,
    pub notes: Vec<String>,
}

/// One rule of a firewall chain as `iptables-save` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    /// The rule as printed (`-A DOCKER-USER -s 10.1.0.0/24 -j DROP`).
    pub text: String,
    /// Whether moat understood every match and the target, and so applies it to edges.
    pub evaluated: bool,
    /// Why it is not evaluated (the option not understood).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// An edge the topology would allow but a DOCKER-USER rule drops or rejects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BlockedEdge {
    pub edge: Edge,
    /// The rule that blocks it, as printed.
    pub rule: String,
}

/// A connection `moat monitor` observed (from its store), next to the model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObservedFlow {
    /// The container that connected (its name as the monitor recorded it).
    pub from: String,
    /// The peer container, when the address is one of the model's; else the address.
    pub to: String,
    pub address: String,
    pub port: PortProto,
    /// Records of this flow in the store.
    pub count: u64,
    /// Whether the model has an edge for it.
    pub modelled: bool,
    /// Whether the policy allows it (`None` without a policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
}

/// One network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// Name as the engine (or compose, with the project prefix) knows it.
    pub name: String,
    /// The key in the compose file (`backend`), when from compose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub driver: String,
    pub internal: bool,
    pub subnets: Vec<String>,
    /// `com.docker.network.bridge.enable_icc` (None: the default, on).
    pub icc: Option<bool>,
    pub attachable: bool,
    /// The engine's default `bridge` network.
    pub default_bridge: bool,
    /// Declared `external: true` in compose (not created by this project).
    pub external: bool,
    /// The host interface of a bridge network (`br-0123456789ab`, `docker0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// The gateway addresses (the host's address on the network), when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateways: Vec<String>,
}

/// How a container's network namespace is set up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "mode", content = "target")]
pub enum NetMode {
    /// Its own namespace with endpoints on networks (the default).
    Bridge,
    /// The host's namespace.
    Host,
    /// No networking.
    None,
    /// Another container's namespace (`container:X`, compose `service:X`).
    Container(String),
}

/// An attachment of a container to a network.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Endpoint {
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    pub aliases: Vec<String>,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Published {
    /// Host address; empty for all interfaces.
    pub host_ip: String,
    /// Host port; `None` when the engine picks one.
    pub host_port: Option<u16>,
    pub container: PortProto,
}

impl Published {
    /// Bound to a loopback address only.
    pub fn loopback(&self) -> bool {
        let ip = self.host_ip.trim_matches(['[', ']']);
        ip.starts_with("127.") || ip == "::1" || ip.eq_ignore_ascii_case("localhost")
    }
    /// Bound to every interface (no address, `0.0.0.0` or `::`).
    pub fn all_interfaces(&self) -> bool {
        let ip = self.host_ip.trim_matches(['[', ']']);
        ip.is_empty() || ip == "0.0.0.0" || ip == "::"
    }
}

/// A socket a container listens on, read from its namespace's /proc/PID/net files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Listener {
    pub address: String,
    pub port: PortProto,
}

impl Listener {
    /// Bound to loopback only (not reachable from peers).
    pub fn loopback(&self) -> bool {
        self.address.starts_with("127.") || self.address == "::1"
    }
}

/// A container (live) or a compose service (planned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Container name (without `/`) or compose service name.
    pub name: String,
    /// The compose service (`com.docker.compose.service`, or the service itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The compose project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The image (as written in compose, or the container's configured image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub mode: NetMode,
    pub endpoints: Vec<Endpoint>,
    /// Legacy links (`db:database`).
    pub links: Vec<String>,
    pub published: Vec<Published>,
    pub exposed: Vec<PortProto>,
    /// What it really listens on; `None` when not measured (compose, or not running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listening: Option<Vec<Listener>>,
    /// The Docker socket (or the engine's socket) is mounted into it.
    pub docker_socket: bool,
    /// Its init process on the host (live, running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    pub running: bool,
    /// Where it is defined (`compose.yaml:12`), when from compose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defined_at: Option<String>,
    /// The policy zone it belongs to (filled when a policy is applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// Why a source can reach a destination.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Reason {
    /// Both are attached to this network.
    SameNetwork { network: String },
    /// A port published on the host (`0.0.0.0:8080->80/tcp`).
    PublishedPort { binding: String },
    /// The destination (or the source) runs in the host's network namespace.
    HostNetwork,
    /// Both run in one network namespace (`network_mode: container:X`).
    SharedNamespace,
    /// A legacy link.
    Link,
    /// The daemon does not isolate networks from each other (`iptables` off, or the
    /// isolation rule for a bridge missing).
    MissingIsolation {
        from_network: String,
        to_network: String,
    },
    /// A route out of the host (a non-internal network with a gateway).
    Egress { network: String },
    /// IPv6 addresses on different networks while the daemon does not isolate IPv6
    /// (`ip6tables` off) and the host forwards IPv6.
    MissingIsolationV6 {
        from_network: String,
        to_network: String,
    },
    /// A port published on the host, reached from a container through its network's
    /// gateway (the host's address), even across isolated networks.
    PublishedViaHost { binding: String, network: String },
    /// A connection `moat monitor` recorded (not a modelled path).
    Observed { records: u64 },
}

impl Reason {
    /// One line for text output.
    pub fn describe(&self) -> String {
        match self {
            Reason::SameNetwork { network } => format!("same network {network}"),
            Reason::PublishedPort { binding } => format!("published port {binding}"),
            Reason::HostNetwork => "host network".to_string(),
            Reason::SharedNamespace => "shared network namespace".to_string(),
            Reason::Link => "legacy link".to_string(),
            Reason::MissingIsolation {
                from_network,
                to_network,
            } => format!("missing isolation {from_network} -> {to_network}"),
            Reason::Egress { network } => format!("egress via {network}"),
            Reason::MissingIsolationV6 {
                from_network,
                to_network,
            } => format!("missing IPv6 isolation {from_network} -> {to_network} (ip6tables off)"),
            Reason::PublishedViaHost { binding, network } => {
                format!("published port via host {binding} (gateway of {network})")
            }
            Reason::Observed { records } => format!("observed by moat monitor ({records} records)"),
        }
    }
}

/// The pseudo-node of the outside world (clients beyond the host, the internet).
pub const EXTERNAL: &str = "external";
/// The pseudo-node of the host itself (its loopback).
pub const HOST: &str = "host";

/// `source → destination:port/proto` with the reason. `port` is `None` when any port
/// is reachable (nothing is known about what the destination listens on).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortProto>,
    pub reason: Reason,
}

impl Edge {
    /// `web -> db:5432/tcp` (`web -> db:*` for any port).
    pub fn label(&self) -> String {
        match self.port {
            Some(p) => format!("{} -> {}:{p}", self.from, self.to),
            None => format!("{} -> {}:*", self.from, self.to),
        }
    }
}

/// What a probe measured for one address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeOutcome {
    /// The TCP handshake completed.
    Open,
    /// The peer answered with a reset: the network path exists, nothing listens.
    Refused,
    /// No answer within the timeout (dropped on the way), or unreachable.
    Timeout,
    /// Anything else (the namespace could not be entered…).
    Error,
    /// UDP only: the datagram got neither a reply nor a port-unreachable: something
    /// listens and says nothing, or a firewall drops it; nmap's `open|filtered`.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
}

impl ProbeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeOutcome::Open => "open",
            ProbeOutcome::Refused => "refused",
            ProbeOutcome::Timeout => "no answer",
            ProbeOutcome::Error => "error",
            ProbeOutcome::OpenFiltered => "open|filtered",
        }
    }
}

fn tcp() -> Proto {
    Proto::Tcp
}

/// One measurement from inside a source's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProbeResult {
    pub from: String,
    pub to: String,
    pub address: String,
    pub port: u16,
    #[serde(default = "tcp")]
    pub proto: Proto,
    pub outcome: ProbeOutcome,
    /// Whether the model has an edge covering this address and port.
    pub modelled: bool,
    /// Through the source network's gateway to a port published on the host.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_host: bool,
    /// Whether the policy allows it (`None` without a policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    /// Chosen as a port that should be closed (not listening, or not modelled).
    pub sample: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A finding of `moat network`: a built-in rule, a policy violation or a probe
/// disagreement. Serializes as the lint finding (`path`, `line`, `column`, `rule`,
/// `aliases`, `severity`, `message`) plus the edge and evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetFinding {
    #[serde(flatten)]
    pub finding: ConfigFinding,
    /// The edge the finding is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<Edge>,
    /// The container, service or network it is about.
    pub object: String,
    pub evidence: Vec<String>,
}

impl NetFinding {
    pub fn rule(&self) -> &str {
        &self.finding.rule
    }
    pub fn severity(&self) -> Severity {
        self.finding.severity
    }
}

/// The policy's verdict in short.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySummary {
    /// The policy file as given.
    pub file: String,
    pub zones: Vec<String>,
    pub allowed_flows: usize,
    pub violations: usize,
    pub passed: bool,
}

/// Counts for a summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetSummary {
    pub networks: usize,
    pub nodes: usize,
    pub edges: usize,
    pub findings: usize,
    pub probes: usize,
    /// Probes whose result disagrees with the model.
    pub disagreements: usize,
}

/// The whole report of `moat network`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkReport {
    pub source: ModelSource,
    /// Compose files or the engine host, as given.
    pub inputs: Vec<String>,
    pub daemon: DaemonNet,
    pub networks: Vec<NetworkInfo>,
    pub nodes: Vec<NodeInfo>,
    pub edges: Vec<Edge>,
    pub findings: Vec<NetFinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicySummary>,
    /// `None` without `--probe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<ProbeResult>>,
    /// Edges the topology allows that a DOCKER-USER rule blocks (not in `edges`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<BlockedEdge>,
    /// Connections `moat monitor` recorded (`--store`); `None` without a store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Vec<ObservedFlow>>,
    pub warnings: Vec<String>,
    pub summary: NetSummary,
}

impl NetworkReport {
    /// Sort everything and compute the summary (deterministic output).
    pub fn finish(&mut self) {
        self.networks.sort_by(|a, b| a.name.cmp(&b.name));
        self.nodes.sort_by(|a, b| a.name.cmp(&b.name));
        for n in &mut self.nodes {
            n.endpoints.sort();
            n.published.sort();
            n.exposed.sort();
            n.exposed.dedup();
            if let Some(l) = &mut n.listening {
                l.sort();
                l.dedup();
            }
        }
        self.edges.sort();
        self.edges.dedup();
        self.blocked.sort();
        self.blocked.dedup();
        if let Some(o) = &mut self.observed {
            o.sort();
        }
        self.findings.sort_by(|a, b| {
            (
                std::cmp::Reverse(a.severity()),
                a.rule(),
                &a.object,
                &a.finding.message,
            )
                .cmp(&(
                    std::cmp::Reverse(b.severity()),
                    b.rule(),
                    &b.object,
                    &b.finding.message,
                ))
        });
        self.findings.dedup();
        if let Some(p) = &mut self.probes {
            p.sort();
        }
        self.warnings.sort();
        self.warnings.dedup();
        if let Some(p) = &mut self.policy {
            p.violations = self
                .findings
                .iter()
                .filter(|f| f.rule().starts_with("NP"))
                .count();
            p.passed = p.violations == 0;
        }
        self.summary = NetSummary {
            networks: self.networks.len(),
            nodes: self.nodes.len(),
            edges: self.edges.len(),
            findings: self.findings.len(),
            probes: self.probes.as_ref().map_or(0, Vec::len),
            disagreements: self
                .findings
                .iter()
                .filter(|f| f.rule().starts_with("NX"))
                .count(),
        };
    }
}
