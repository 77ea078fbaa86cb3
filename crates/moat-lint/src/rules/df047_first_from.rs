//! DF047 — the Dockerfile does not begin with `FROM`.
//!
//! **What it does:** reports an instruction other than `ARG` before the first `FROM`.
//!
//! **Why is this bad?** the build fails.
//!
//! **Example:** `RUN echo hi` on the first line.
//!
//! **Use instead:** start with `FROM` (optionally preceded by `ARG`).
//!
//! **References:** hadolint DL3061.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF047",
    title: "Invalid instruction order: the Dockerfile must begin with FROM or ARG",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3061"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        if let Some(ins) = cx.df.instructions.iter().find(|i| i.stage.is_none() && !i.is("ARG") && !i.is("FROM")) {
            out.at(ins, format!("{} before the first FROM", ins.keyword));
        }
    }
}
