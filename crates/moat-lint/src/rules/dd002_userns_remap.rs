//! DD002 — User namespace remapping is not enabled.
//!
//! **What it does:** reports a daemon.json without `userns-remap`.
//!
//! **Why is this bad?** root in a container is root on the host (UID 0) unless user namespaces remap it.
//!
//! **Example:** `{}`
//!
//! **Use instead:** `"userns-remap": "default"`.
//!
//! **References:** CIS-2.10.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD002",
    title: "User namespace remapping is not enabled",
    severity: Severity::Medium,
    target: RuleTarget::Daemon,
    references: &["CIS-2.10"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        if d.str("userns-remap").is_none_or(str::is_empty) {
            out.report(d.line_of("userns-remap"), 1, "userns-remap is not set: container root is host root");
        }
    }
}
