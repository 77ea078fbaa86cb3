//! DF078 — Label is not a valid RFC 3339 time.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports
//! a label of type `rfc3339` whose value is not an RFC 3339 time.
//!
//! **Why is this bad?** tools that read the image's labels get a value they cannot use.
//!
//! **Example:** `LABEL org.opencontainers.image.created="yesterday"`
//!
//! **Use instead:** `LABEL org.opencontainers.image.created="2024-05-01T10:00:00Z"`
//!
//! **References:** hadolint DL3053.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF078",
    title: "Label is not a valid RFC 3339 time",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3053"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::of_type(cx, super::LabelType::Rfc3339) {
            if !super::labels::is_rfc3339(&v) {
                out.at(ins, format!("label {k} is DF0780: {v:?}"));
            }
        }
    }
}
