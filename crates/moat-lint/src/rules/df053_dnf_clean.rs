//! DF053 — dnf clean all missing after dnf install.
//!
//! **What it does:** reports `dnf install` without `dnf clean all` in the same RUN.
//!
//! **Why is this bad?** the package cache stays in the layer.
//!
//! **Example:** `RUN dnf install -y httpd`
//!
//! **Use instead:** `RUN dnf install -y httpd && dnf clean all`
//!
//! **References:** hadolint DL3040.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF053",
    title: "dnf clean all missing after dnf install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3040", "DS019"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::missing_clean(s, &["dnf", "microdnf"]) {
                out.at(ins, "dnf clean all missing after dnf install");
            }
        }
    }
}
