//! DD008 — Userland proxy is enabled.
//!
//! **What it does:** reports a daemon.json without `"userland-proxy": false`.
//!
//! **Why is this bad?** the docker-proxy process per published port enlarges the attack surface; iptables hairpin NAT does the same job.
//!
//! **Example:** `{}`
//!
//! **Use instead:** `"userland-proxy": false`.
//!
//! **References:** CIS-2.16.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD008",
    title: "Userland proxy is enabled",
    severity: Severity::Low,
    target: RuleTarget::Daemon,
    references: &["CIS-2.16"],
    aliases: &[],
};

/// The shared check (daemon.json DD008, live audit DD114): the userland proxy is on
/// (it is by default).
pub fn check(spec: &moat_model::DaemonSpec) -> bool {
    spec.userland_proxy.as_ref().is_none_or(|v| v.value)
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if check(&d.spec()) {
            out.report(d.line_of("userland-proxy"), 1, "userland-proxy is enabled");
        }
    }
}
