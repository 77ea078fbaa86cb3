//! A compose service as a [`ContainerSpec`] (what it shares with a live container), so
//! that the `DC` rules and the live audit's `CC` rules judge one model.

use crate::compose::{Compose, Node, Service, Value};
use moat_model::container::{At, ContainerSpec, Limits, Namespace, Pos};

fn pos(n: &Node, key_line: u32) -> Option<Pos> {
    Some(Pos {
        line: n.line,
        column: n.column,
        key_line,
    })
}

fn text_at(s: &Service, key: &str) -> Option<At<String>> {
    let n = s.get(key)?;
    Some(At {
        value: n.as_str().unwrap_or_default(),
        pos: pos(n, s.line_of(key)),
    })
}

fn strings(s: &Service, key: &str) -> Vec<At<String>> {
    s.get(key)
        .map(|n| {
            n.seq()
                .iter()
                .filter_map(|i| {
                    Some(At {
                        value: i.as_str()?,
                        pos: pos(i, i.line),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first of `keys` that is set, else `deploy.resources.limits.<deploy>`.
fn limit(s: &Service, keys: &[&str], deploy: &str) -> Option<At<String>> {
    keys.iter().find_map(|k| text_at(s, k)).or_else(|| {
        let n = s.node.path(&["deploy", "resources", "limits", deploy])?;
        Some(At {
            value: n.as_str().unwrap_or_default(),
            pos: pos(n, n.line),
        })
    })
}

/// The runtime configuration a compose service asks for.
pub fn spec(s: &Service) -> ContainerSpec {
    let flag = |key: &str| {
        s.get(key).map(|n| At {
            value: n.is_true(),
            pos: pos(n, s.line_of(key)),
        })
    };
    let namespaces = [
        (Namespace::Pid, "pid"),
        (Namespace::Network, "network_mode"),
        (Namespace::Ipc, "ipc"),
        (Namespace::Uts, "uts"),
        (Namespace::User, "userns_mode"),
    ]
    .into_iter()
    .filter_map(|(ns, key)| {
        let n = s.get(key)?;
        Some((
            ns,
            At {
                value: n.as_str()?,
                pos: pos(n, s.line_of(key)),
            },
        ))
    })
    .collect();
    let devices = s
        .get("devices")
        .map(|d| {
            d.seq()
                .iter()
                .map(|n| At {
                    value: n
                        .as_str()
                        .or_else(|| n.get("source").and_then(Node::as_str))
                        .unwrap_or_default(),
                    pos: pos(n, n.line),
                })
                .collect()
        })
        .unwrap_or_default();
    let networks = match s.get("networks").map(|n| &n.value) {
        Some(Value::Seq(v)) => v.iter().filter_map(Node::as_str).collect(),
        Some(Value::Map(m)) => m.iter().filter_map(|(k, _)| k.as_str()).collect(),
        _ => Vec::new(),
    };
    ContainerSpec {
        name: s.name.clone(),
        pos: Some(Pos {
            line: s.line,
            column: s.column,
            key_line: s.line,
        }),
        image: text_at(s, "image"),
        user: text_at(s, "user"),
        privileged: flag("privileged"),
        cap_add: strings(s, "cap_add"),
        cap_drop: strings(s, "cap_drop"),
        namespaces,
        mounts: Vec::new(),
        read_only_rootfs: flag("read_only"),
        security_opt: strings(s, "security_opt"),
        ports: Vec::new(),
        limits: Limits {
            memory: limit(s, &["mem_limit"], "memory"),
            cpu: limit(
                s,
                &[
                    "cpus",
                    "cpu_quota",
                    "cpu_shares",
                    "cpu_count",
                    "cpu_percent",
                ],
                "cpus",
            ),
            pids: limit(s, &["pids_limit"], "pids"),
        },
        restart: None,
        healthcheck: None,
        networks,
        devices,
    }
}

impl Compose {
    /// Every service as a [`ContainerSpec`] (parallel to `services`), mapped once.
    pub fn specs(&self) -> &[ContainerSpec] {
        self.specs
            .get_or_init(|| self.services.iter().map(spec).collect())
    }
}
