//! DF029 — `cd` in `RUN`.
//!
//! **What it does:** reports `RUN` commands that use `cd`.
//!
//! **Why is this bad?** the working directory silently differs between steps; `WORKDIR`
//! states it once and is easier to review.
//!
//! **Example:** `RUN cd /usr/src/app && make`
//!
//! **Use instead:** `WORKDIR /usr/src/app` then `RUN make`
//!
//! **References:** hadolint DL3003, Trivy DS013.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF029",
    title: "Use WORKDIR to switch to a directory",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3003", "DS013"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if s.named(&["cd"]).next().is_some() {
                out.at(ins, "use WORKDIR to switch to a directory");
            }
        }
    }
}
