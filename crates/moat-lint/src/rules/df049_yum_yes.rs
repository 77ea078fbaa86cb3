//! DF049 — Use the -y switch with yum install.
//!
//! **What it does:** reports `yum install` without `-y`.
//!
//! **Why is this bad?** the build waits for input and fails.
//!
//! **Example:** `RUN yum install httpd`
//!
//! **Use instead:** `RUN yum install -y httpd`
//!
//! **References:** hadolint DL3030.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF049",
    title: "Use the -y switch with yum install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3030"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::missing_yes(s, &["yum"]) {
                out.at(ins, "Use the -y switch with yum install");
            }
        }
    }
}
