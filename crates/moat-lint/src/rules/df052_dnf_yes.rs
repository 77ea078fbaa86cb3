//! DF052 — Use the -y switch with dnf install.
//!
//! **What it does:** reports `dnf install` without `-y`.
//!
//! **Why is this bad?** the build waits for input and fails.
//!
//! **Example:** `RUN dnf install httpd`
//!
//! **Use instead:** `RUN dnf install -y httpd`
//!
//! **References:** hadolint DL3038.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF052",
    title: "Use the -y switch with dnf install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3038"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::pm::missing_yes(s, &["dnf", "microdnf"]) {
                out.at(ins, "Use the -y switch with dnf install");
            }
        }
    }
}
