//! DF050 — yum clean all missing after yum install.
//!
//! **What it does:** reports `yum install` without `yum clean all` in the same RUN.
//!
//! **Why is this bad?** the package cache stays in the layer.
//!
//! **Example:** `RUN yum install -y httpd`
//!
//! **Use instead:** `RUN yum install -y httpd && yum clean all`
//!
//! **References:** hadolint DL3032.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF050",
    title: "yum clean all missing after yum install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3032", "DS015"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::missing_clean(s, &["yum"]) {
                out.at(ins, "yum clean all missing after yum install");
            }
        }
    }
}
