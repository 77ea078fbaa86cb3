//! DF082 — Label is not a valid email address.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports
//! a label of type `email` whose value is not an email address.
//!
//! **Why is this bad?** tools that read the image's labels get a value they cannot use.
//!
//! **Example:** `LABEL maintainer="Jane"`
//!
//! **Use instead:** `LABEL maintainer="jane@example.com"`
//!
//! **References:** hadolint DL3058.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF082",
    title: "Label is not a valid email address",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3058"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::of_type(cx, super::LabelType::Email) {
            if !super::labels::is_email(&v) {
                out.at(ins, format!("label {k} is DF0820: {v:?}"));
            }
        }
    }
}
