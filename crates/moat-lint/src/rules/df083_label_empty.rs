//! DF083 — Label is empty.
//!
//! **What it does:** with a label schema, reports a label of the schema set to an empty value.
//!
//! **Why is this bad?** an empty required label carries no information.
//!
//! **Example:** `LABEL maintainer=""`
//!
//! **Use instead:** `LABEL maintainer="team@example.com"`
//!
//! **References:** hadolint DL3051.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF083",
    title: "Label is empty",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3051"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::all(cx) {
            if v.is_empty() && cx.config.label_schema.contains_key(&k) {
                out.at(ins, format!("label {k} is empty"));
            }
        }
    }
}
