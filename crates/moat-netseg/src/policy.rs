//! The segmentation policy (YAML, see docs/network.md): zones by service name, compose
//! project or label; the allowed flows (`frontend -> api:8080/tcp`); everything else
//! denied; the zones expected to reach the outside. Validated when read: a flow that
//! names an unknown zone or a bad port is an error naming it.

use crate::ports;
use crate::rules::{NP001, NP002, NP003, NP004, about};
use moat_model::network::{EXTERNAL, Edge, HOST, NetFinding, NodeInfo, PortProto, Reason};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Bytes of a policy file.
pub const MAX_POLICY_BYTES: u64 = 1 << 20;
/// Zones and flows in a policy.
pub const MAX_RULES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
#[error("policy {path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

/// Who belongs to a zone: any of the services, any of the projects, or all the labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntraZone {
    #[default]
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    zones: BTreeMap<String, ZoneSpec>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    egress: Vec<String>,
    #[serde(default)]
    intra_zone: IntraZone,
}

/// An allowed flow: `from -> to[:port[/proto]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub from: String,
    pub to: String,
    /// `None`: any port.
    pub port: Option<PortProto>,
    pub text: String,
}

/// A validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub file: String,
    /// In file order (the first zone a node matches is its zone).
    pub zones: Vec<(String, ZoneSpec)>,
    pub allow: Vec<Flow>,
    pub egress: Vec<String>,
    pub intra_zone: IntraZone,
}

impl Policy {
    /// Read and validate a policy file.
    pub fn load(path: &std::path::Path) -> Result<Policy, PolicyError> {
        let shown = path.display().to_string();
        let text = moat_lint::read::read_text(path, MAX_POLICY_BYTES).map_err(|e| PolicyError {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Policy::parse(&shown, &text)
    }

    /// Validate a policy's text (`file` names it in errors).
    pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let err = |m: String| PolicyError {
            path: file.to_string(),
            message: m,
        };
        let raw: PolicyFile = serde_saphyr::from_str(text)
            .map_err(|e| err(e.to_string().lines().next().unwrap_or("").to_string()))?;
        if raw.zones.len() + raw.allow.len() + raw.egress.len() > MAX_RULES {
            return Err(err(format!("more than {MAX_RULES} zones and flows")));
        }
        for z in raw.zones.keys() {
            if z == EXTERNAL || z == HOST || z.is_empty() || z.contains(['-', '>', ':', ' ']) {
                return Err(err(format!(
                    "zone name {z:?} is reserved or has characters flows use (-, >, :, space)"
                )));
            }
        }
        let mut allow = Vec::new();
        for f in &raw.allow {
            let (from, rest) = f
                .split_once("->")
                .ok_or_else(|| err(format!("flow {f:?} is not `FROM -> TO[:PORT[/PROTO]]`")))?;
            let from = from.trim();
            let rest = rest.trim();
            let (to, port) = match rest.split_once(':') {
                Some((to, p)) => {
                    let (n, pr) = p.split_once('/').unwrap_or((p, "tcp"));
                    let port = n
                        .trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| err(format!("flow {f:?}: {n:?} is not a port")))?;
                    let proto = ports::proto(pr).ok_or_else(|| {
                        err(format!("flow {f:?}: {pr:?} is not tcp, udp or sctp"))
                    })?;
                    (to.trim(), Some(PortProto { port, proto }))
                }
                None => (rest, None),
            };
            for z in [from, to] {
                if z.is_empty() || z.contains(char::is_whitespace) {
                    return Err(err(format!(
                        "flow {f:?}: {z:?} is not a zone, service or container name"
                    )));
                }
            }
            allow.push(Flow {
                from: from.to_string(),
                to: to.to_string(),
                port,
                text: f.trim().to_string(),
            });
        }
        for z in &raw.egress {
            if !raw.zones.contains_key(z) {
                return Err(err(format!(
                    "egress names zone {z:?}, which is not defined"
                )));
            }
        }
        Ok(Policy {
            file: file.to_string(),
            zones: raw.zones.into_iter().collect(),
            allow,
            egress: raw.egress,
            intra_zone: raw.intra_zone,
        })
    }

    /// The names flows use that are neither a zone (nor `external`/`host`) nor a
    /// service or container of `nodes`, each with its flow.
    pub fn unknown_names(&self, nodes: &[NodeInfo]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for f in &self.allow {
            for z in [&f.from, &f.to] {
                let known = z == EXTERNAL
                    || z == HOST
                    || self.zones.iter().any(|(n, _)| n == z)
                    || nodes
                        .iter()
                        .any(|n| n.service.as_deref() == Some(z.as_str()) || &n.name == z);
                if !known {
                    out.push((z.clone(), f.text.clone()));
                }
            }
        }
        out
    }

    /// The zone a node belongs to.
    pub fn zone_of(&self, n: &NodeInfo) -> Option<String> {
        self.zones
            .iter()
            .find(|(_, z)| {
                z.services
                    .iter()
                    .any(|s| Some(s) == n.service.as_ref() || *s == n.name)
                    || z.projects.iter().any(|p| Some(p) == n.project.as_ref())
                    || (!z.labels.is_empty()
                        && z.labels.iter().all(|(k, v)| n.labels.get(k) == Some(v)))
            })
            .map(|(name, _)| name.clone())
    }

    /// Whether a flow from zone `from` to zone `to` on `port` (`None`: any) is allowed.
    pub fn allows(&self, from: &str, to: &str, port: Option<PortProto>) -> bool {
        self.allows_ends((from, None), (to, None), port)
    }

    /// Whether a flow end names `zone` or (when no zone has that name) the node itself
    /// by service or container name.
    fn names(&self, spec: &str, zone: &str, node: Option<&NodeInfo>) -> bool {
        if spec == zone {
            return true;
        }
        if spec == EXTERNAL || spec == HOST || self.zones.iter().any(|(z, _)| z == spec) {
            return false;
        }
        node.is_some_and(|n| n.service.as_deref() == Some(spec) || n.name == spec)
    }

    /// Whether a flow from (zone, node) to (zone, node) on `port` is allowed: flows name
    /// zones, or single services/containers.
    pub fn allows_ends(
        &self,
        (from, from_node): (&str, Option<&NodeInfo>),
        (to, to_node): (&str, Option<&NodeInfo>),
        port: Option<PortProto>,
    ) -> bool {
        if from == to && self.intra_zone == IntraZone::Allow {
            return true;
        }
        self.allow.iter().any(|f| {
            self.names(&f.from, from, from_node)
                && self.names(&f.to, to, to_node)
                && match (f.port, port) {
                    (None, _) => true,
                    (Some(a), Some(b)) => a == b,
                    (Some(_), None) => false,
                }
        })
    }
}

/// The zone of each node (parallel to `nodes`).
pub fn zones(policy: &Policy, nodes: &[NodeInfo]) -> Vec<Option<String>> {
    nodes.iter().map(|n| policy.zone_of(n)).collect()
}

/// The zone name of an edge's end: pseudo-nodes are their own zone; a node in no zone
/// is a zone of its own name (so nothing is allowed to or from it).
fn end_zone(name: &str, nodes: &[NodeInfo], zones: &[Option<String>]) -> String {
    if name == EXTERNAL || name == HOST {
        return name.to_string();
    }
    nodes
        .iter()
        .position(|n| n.name == name)
        .and_then(|i| zones.get(i).cloned().flatten())
        .unwrap_or_else(|| format!("(no zone: {name})"))
}

/// Whether an edge is allowed by the policy (`true` for edges the policy does not
/// judge: from the host's own loopback).
pub fn edge_allowed(
    policy: &Policy,
    e: &Edge,
    nodes: &[NodeInfo],
    zones: &[Option<String>],
) -> bool {
    if e.from == HOST {
        return true;
    }
    let from = end_zone(&e.from, nodes, zones);
    if let Reason::Egress { .. } = e.reason {
        return policy.egress.contains(&from);
    }
    let to = end_zone(&e.to, nodes, zones);
    let node = |name: &str| nodes.iter().find(|n| n.name == name);
    let (fnode, tnode) = (node(&e.from), node(&e.to));
    if policy.allows_ends((&from, fnode), (&to, tnode), e.port) {
        return true;
    }
    // A port published beyond loopback that the outside may reach: a container reaching
    // it through the host is no more than the outside world does.
    matches!(e.reason, Reason::PublishedViaHost { .. })
        && policy.allows_ends((EXTERNAL, None), (&to, tnode), e.port)
}

/// The policy's findings: every edge not allowed (NP001), unexpected egress (NP002),
/// expected egress missing (NP003), nodes in no zone (NP004).
pub fn check(
    policy: &Policy,
    nodes: &[NodeInfo],
    edges: &[Edge],
    zones: &[Option<String>],
) -> Vec<NetFinding> {
    let mut out = Vec::new();
    let node = |name: &str| nodes.iter().find(|n| n.name == name);
    for (n, z) in nodes.iter().zip(zones) {
        if z.is_none() {
            out.push(about(
                &NP004,
                n,
                format!(
                    "{} is in no zone of the policy: every flow to or from it is denied",
                    n.name
                ),
                None,
                vec![],
            ));
        }
    }
    for e in edges {
        if edge_allowed(policy, e, nodes, zones) {
            continue;
        }
        let from = end_zone(&e.from, nodes, zones);
        let to = end_zone(&e.to, nodes, zones);
        // The finding belongs to the destination (what is exposed), or the source for egress.
        let Some(anchor) = node(if matches!(e.reason, Reason::Egress { .. }) {
            &e.from
        } else {
            &e.to
        })
        .or_else(|| node(&e.from)) else {
            continue;
        };
        let (rule, msg) = match e.reason {
            Reason::Egress { .. } => (
                &NP002,
                format!(
                    "{} (zone {from}) can reach the outside ({}); the policy expects no egress from {from}",
                    e.from,
                    e.reason.describe()
                ),
            ),
            _ => (
                &NP001,
                format!(
                    "{} ({from} -> {to}) by {}: not allowed by the policy",
                    e.label(),
                    e.reason.describe()
                ),
            ),
        };
        out.push(about(
            rule,
            anchor,
            msg,
            Some(e.clone()),
            vec![format!("policy {}", policy.file)],
        ));
    }
    for (n, z) in nodes.iter().zip(zones) {
        if let Some(z) = z
            && policy.egress.contains(z)
            && !edges
                .iter()
                .any(|e| e.from == n.name && matches!(e.reason, Reason::Egress { .. }))
        {
            out.push(about(
                &NP003,
                n,
                format!("{} (zone {z}) is expected to reach the outside but has no route out (internal networks only, or none)", n.name),
                None,
                vec![],
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let p = Policy::parse(
            "p.yaml",
            "zones:\n  web: {services: [frontend]}\n  db: {labels: {tier: db}}\nallow:\n  - web -> db:5432/tcp\n  - external -> web:80\negress: [web]\n",
        )
        .unwrap();
        assert_eq!(p.allow.len(), 2);
        assert!(p.allows(
            "web",
            "db",
            Some(PortProto {
                port: 5432,
                proto: moat_model::network::Proto::Tcp
            })
        ));
        assert!(!p.allows(
            "web",
            "db",
            Some(PortProto {
                port: 5433,
                proto: moat_model::network::Proto::Tcp
            })
        ));
        assert!(!p.allows("web", "db", None), "any port is not one port");
        assert!(p.allows("db", "db", None), "intra-zone allowed by default");
        let p2 = Policy::parse("p.yaml", "zones: {a: {}}\nallow: [a -> b:1]\n").unwrap();
        assert_eq!(
            p2.unknown_names(&[]),
            [("b".to_string(), "a -> b:1".to_string())]
        );
        let e = Policy::parse("p.yaml", "zones: {a: {}}\nallow: [a -> a:70000]\n").unwrap_err();
        assert!(e.to_string().contains("70000"), "{e}");
        let e = Policy::parse("p.yaml", "zonez: {}\n").unwrap_err();
        assert!(e.to_string().contains("p.yaml"), "{e}");
    }
}
