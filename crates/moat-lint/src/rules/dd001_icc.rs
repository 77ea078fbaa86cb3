//! DD001 — Inter-container communication on the default bridge is allowed.
//!
//! **What it does:** reports a daemon.json without `"icc": false`.
//!
//! **Why is this bad?** every container on the default bridge can talk to every other one; a compromised container scans and attacks its neighbours.
//!
//! **Example:** `{}`
//!
//! **Use instead:** `"icc": false` and user-defined networks for the links that are needed.
//!
//! **References:** CIS-2.2.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD001",
    title: "Inter-container communication on the default bridge is allowed",
    severity: Severity::Medium,
    target: RuleTarget::Daemon,
    references: &["CIS-2.2"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if d.bool("icc") != Some(false) {
            out.report(d.line_of("icc"), 1, "icc is not disabled: containers on the default bridge can all reach each other");
        }
    }
}
