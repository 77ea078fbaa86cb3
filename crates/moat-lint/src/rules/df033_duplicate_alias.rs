//! DF033 — two stages share a name.
//!
//! **What it does:** reports a `FROM … AS name` whose name an earlier stage already has.
//!
//! **Why is this bad?** `COPY --from=name` becomes ambiguous; the build fails or copies
//! from the wrong stage.
//!
//! **Example:** two `FROM … AS build`.
//!
//! **Use instead:** unique stage names.
//!
//! **References:** hadolint DL3024, Trivy DS012.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF033",
    title: "FROM aliases (stage names) must be unique",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3024", "DS012", "DuplicateStageName"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (n, s) in cx.df.stages.iter().enumerate() {
            if let Some(name) = &s.name
                && cx.named_before(name, n) {
                    out.report(s.line, 1, format!("duplicate stage name {name}"));
                }
        }
    }
}
