//! DF061 — Do not use zypper dist-upgrade.
//!
//! **What it does:** reports `zypper dist-upgrade`/`dup`.
//!
//! **Why is this bad?** the image content depends on the day of the build; update the base image instead.
//!
//! **Example:** `RUN zypper dup -y`
//!
//! **Use instead:** `FROM a newer base image tag`
//!
//! **References:** hadolint DL3035.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF061",
    title: "Do not use zypper dist-upgrade",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3035"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::zypper_dist_upgrade(s, &["zypper"]) {
                out.at(ins, "Do not use zypper dist-upgrade");
            }
        }
    }
}
