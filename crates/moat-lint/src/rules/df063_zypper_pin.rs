//! DF063 — Specify a version with zypper install.
//!
//! **What it does:** reports `zypper install` of a package without `=version`.
//!
//! **Why is this bad?** builds are not reproducible.
//!
//! **Example:** `RUN zypper -n install httpd`
//!
//! **Use instead:** `RUN zypper -n install httpd=2.4.62`
//!
//! **References:** hadolint DL3037.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF063",
    title: "Specify a version with zypper install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3037"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::zypper_unpinned(s, &["zypper"]) {
                out.at(ins, "Specify a version with zypper install");
            }
        }
    }
}
