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

/// The shared check (daemon.json DD004, live audit DD112): no-new-privileges is not
/// the engine's default.
pub fn check(spec: &moat_model::DaemonSpec) -> bool {
    !spec.no_new_privileges.as_ref().is_some_and(|v| v.value)
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if check(&d.spec()) {
            out.report(d.line_of("no-new-privileges"), 1, "no-new-privileges is not the default for containers");
        }
    }
}
