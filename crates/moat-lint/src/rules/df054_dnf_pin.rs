//! DF054 — Specify a version with dnf install.
//!
//! **What it does:** reports `dnf install` of a package without `-version`.
//!
//! **Why is this bad?** builds are not reproducible.
//!
//! **Example:** `RUN dnf install -y httpd`
//!
//! **Use instead:** `RUN dnf install -y httpd-2.4.57`
//!
//! **References:** hadolint DL3041.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF054",
    title: "Specify a version with dnf install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3041"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::unpinned(s, &["dnf", "microdnf"]) {
                out.at(ins, "Specify a version with dnf install");
            }
        }
    }
}
