//! DD009 — Docker may not manage iptables.
//!
//! **What it does:** reports `"iptables": false`.
//!
//! **Why is this bad?** published ports and network isolation then depend on hand-written firewall rules that drift from the containers' reality.
//!
//! **Example:** `{"iptables": false}`
//!
//! **Use instead:** leave `iptables` enabled.
//!
//! **References:** CIS-2.3.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD009",
    title: "Docker may not manage iptables",
    severity: Severity::Medium,
    target: RuleTarget::Daemon,
    references: &["CIS-2.3"],
    aliases: &[],
};

/// The shared check (daemon.json DD009, live audit DD103): iptables management is
/// turned off.
pub fn check(spec: &moat_model::DaemonSpec) -> Option<&moat_model::container::At<bool>> {
    spec.iptables.as_ref().filter(|v| !v.value)
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if let Some(at) = check(&d.spec()) {
            let line = at.pos.map(|p| p.key_line).unwrap_or(1);
            out.report(line, 1, "iptables management is disabled");
        }
    }
}
