//! DD004 — Containers may gain new privileges by default.
//!
//! **What it does:** reports a daemon.json without `"no-new-privileges": true`.
//!
//! **Why is this bad?** setuid binaries in any container can raise privileges unless each container opts out.
//!
//! **Example:** `{}`
//!
//! **Use instead:** `"no-new-privileges": true`.
//!
//! **References:** CIS-2.18.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD004",
    title: "Containers may gain new privileges by default",
    severity: Severity::Medium,
    target: RuleTarget::Daemon,
    references: &["CIS-2.18"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if d.bool("no-new-privileges") != Some(true) {
            out.report(d.line_of("no-new-privileges"), 1, "no-new-privileges is not the default for containers");
        }
    }
}
