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

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if d.bool("iptables") == Some(false) {
            out.report(d.line_of("iptables"), 1, "iptables management is disabled");
        }
    }
}
