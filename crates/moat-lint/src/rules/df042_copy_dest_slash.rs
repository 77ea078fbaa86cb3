//! DF042 — `COPY` of several sources to a destination without a trailing `/`.
//!
//! **What it does:** reports `COPY a b dest` where `dest` does not end with `/`.
//!
//! **Why is this bad?** the build fails: several sources need a directory destination.
//!
//! **Example:** `COPY a.txt b.txt /app`
//!
//! **Use instead:** `COPY a.txt b.txt /app/`
//!
//! **References:** hadolint DL3021, Trivy DS011.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF042",
    title: "COPY with more than 2 arguments requires the last to end with /",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3021", "DS011"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("COPY") && i.heredocs.is_empty()) {
            let w = ins.words();
            if w.len() > 2 && w.last().is_some_and(|d| !d.ends_with('/') && !d.contains('$')) {
                out.at(ins, "COPY with more than 2 arguments requires the last argument to end with /");
            }
        }
    }
}
