//! DD003 — Live restore is not enabled.
//!
//! **What it does:** reports a daemon.json without `"live-restore": true`.
//!
//! **Why is this bad?** containers stop whenever the daemon restarts or is upgraded, which discourages timely patching.
//!
//! **Example:** `{}`
//!
//! **Use instead:** `"live-restore": true`.
//!
//! **References:** CIS-2.15.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD003",
    title: "Live restore is not enabled",
    severity: Severity::Low,
    target: RuleTarget::Daemon,
    references: &["CIS-2.15"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if d.bool("live-restore") != Some(true) {
            out.report(d.line_of("live-restore"), 1, "live-restore is not enabled");
        }
    }
}
