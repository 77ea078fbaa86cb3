//! DF051 — Specify a version with yum install.
//!
//! **What it does:** reports `yum install` of a package without `-version`.
//!
//! **Why is this bad?** builds are not reproducible.
//!
//! **Example:** `RUN yum install -y httpd`
//!
//! **Use instead:** `RUN yum install -y httpd-2.4.57`
//!
//! **References:** hadolint DL3033.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF051",
    title: "Specify a version with yum install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3033"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::unpinned(s, &["yum"]) {
                out.at(ins, "Specify a version with yum install");
            }
        }
    }
}
