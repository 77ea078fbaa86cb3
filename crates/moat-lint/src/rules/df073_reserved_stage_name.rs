//! DF073 — Stage name should not be a reserved word.
//!
//! **What it does:** reports a stage named `scratch` or `context` (`FROM x AS scratch`).
//!
//! **Why is this bad?** `FROM scratch` and `COPY --from=context` mean something else: the name is ambiguous.
//!
//! **Example:** `FROM alpine:3.20 AS scratch`
//!
//! **Use instead:** `FROM alpine:3.20 AS build`
//!
//! **References:** hadolint DL3063.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF073",
    title: "Stage name should not be a reserved word",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3063"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for st in &cx.df.stages {
            if let Some(n) = st.name.as_deref()
                && matches!(n, "scratch" | "context")
            {
                out.report(st.line, 1, format!("stage name {n} is a reserved word"));
            }
        }
    }
}
