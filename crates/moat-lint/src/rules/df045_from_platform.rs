//! DF045 — `FROM --platform` with a fixed platform.
//!
//! **What it does:** reports `FROM --platform=linux/amd64 …` (build-argument values such
//! as `$BUILDPLATFORM` are accepted).
//!
//! **Why is this bad?** it defeats multi-platform builds and runs emulated binaries.
//!
//! **Example:** `FROM --platform=linux/amd64 debian:12`
//!
//! **Use instead:** `docker build --platform`, or `--platform=$BUILDPLATFORM`.
//!
//! **References:** hadolint DL3029.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF045",
    title: "Do not use --platform with FROM",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3029", "FromPlatformFlagConstDisallowed"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for st in &cx.df.stages {
            if let Some(p) = &st.platform
                && !p.contains('$') {
                    out.report(st.line, 1, format!("FROM --platform={p} pins a platform"));
                }
        }
    }
}
