//! DF071 — FROM --platform=$TARGETPLATFORM is redundant.
//!
//! **What it does:** reports `FROM --platform=$TARGETPLATFORM` (or `${TARGETPLATFORM}`).
//!
//! **Why is this bad?** it is the default: the flag only adds noise (and hides a real `--platform` choice).
//!
//! **Example:** `FROM --platform=$TARGETPLATFORM alpine:3.20`
//!
//! **Use instead:** `FROM alpine:3.20`
//!
//! **References:** hadolint DL3065.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF071",
    title: "FROM --platform=$TARGETPLATFORM is redundant",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3065"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for st in &cx.df.stages {
            if matches!(st.platform.as_deref(), Some("$TARGETPLATFORM" | "${TARGETPLATFORM}")) {
                out.report(st.line, 1, "--platform=$TARGETPLATFORM is the default: drop it");
            }
        }
    }
}
