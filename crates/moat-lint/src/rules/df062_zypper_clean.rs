//! DF062 — zypper clean missing after zypper install.
//!
//! **What it does:** reports `zypper install` without `zypper clean` in the same RUN.
//!
//! **Why is this bad?** the package cache stays in the layer.
//!
//! **Example:** `RUN zypper -n install httpd`
//!
//! **Use instead:** `RUN zypper -n install httpd && zypper clean`
//!
//! **References:** hadolint DL3036.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF062",
    title: "zypper clean missing after zypper install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3036"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::zypper_missing_clean(s, &["zypper"]) {
                out.at(ins, "zypper clean missing after zypper install");
            }
        }
    }
}
