//! DD005 — Docker API on TCP without TLS verification.
//!
//! **What it does:** reports `hosts` with a `tcp://` address when `tlsverify` is not true (or with port 2375).
//!
//! **Why is this bad?** anyone who reaches the port controls the daemon, and so the host, as root.
//!
//! **Example:** `{"hosts": ["tcp://0.0.0.0:2375"]}`
//!
//! **Use instead:** use the unix socket, or `tlsverify` with `tlscacert`, `tlscert`, `tlskey` (port 2376).
//!
//! **References:** CIS-2.6, CWE-306.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD005",
    title: "Docker API on TCP without TLS verification",
    severity: Severity::Critical,
    target: RuleTarget::Daemon,
    references: &["CIS-2.6", "CWE-306"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        let Some(hosts) = d.get("hosts").and_then(serde_json::Value::as_array) else { return };
        let verify = d.bool("tlsverify") == Some(true) && d.str("tlscacert").is_some();
        for h in hosts.iter().filter_map(serde_json::Value::as_str) {
            if h.starts_with("tcp://") && (!verify || h.ends_with(":2375")) {
                out.report(d.line_of("hosts"), 1, format!("the Docker API listens on {h} without TLS client verification"));
            }
        }
    }
}
