//! DF060 — Non-interactive switch missing from zypper install.
//!
//! **What it does:** reports `zypper install` without `-n`/`--non-interactive` or `-y`.
//!
//! **Why is this bad?** the build waits for input and fails.
//!
//! **Example:** `RUN zypper install httpd`
//!
//! **Use instead:** `RUN zypper -n install httpd`
//!
//! **References:** hadolint DL3034.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF060",
    title: "Non-interactive switch missing from zypper install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3034"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::zypper_missing_yes(s, &["zypper"]) {
                out.at(ins, "Non-interactive switch missing from zypper install");
            }
        }
    }
}
