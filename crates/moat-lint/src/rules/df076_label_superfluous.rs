//! DF076 — Superfluous label present.
//!
//! **What it does:** with a label schema and `strict-labels: true`, reports a label that is not in the schema.
//!
//! **Why is this bad?** labels outside the agreed schema are noise other tools do not read.
//!
//! **Example:** `LABEL random="x"`
//!
//! **Use instead:** only the labels of the schema
//!
//! **References:** hadolint DL3050.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF076",
    title: "Superfluous label present",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3050"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        if !cx.config.strict_labels {
            return;
        }
        for (ins, k, _) in super::labels::all(cx) {
            if !cx.config.label_schema.contains_key(&k) {
                out.at(ins, format!("label {k} is not in the label schema"));
            }
        }
    }
}
