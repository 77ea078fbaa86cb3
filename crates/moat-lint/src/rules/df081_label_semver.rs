//! DF081 — Label does not conform to semantic versioning.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports
//! a label of type `semver` whose value is not a semantic version.
//!
//! **Why is this bad?** tools that read the image's labels get a value they cannot use.
//!
//! **Example:** `LABEL org.opencontainers.image.version="v1"`
//!
//! **Use instead:** `LABEL org.opencontainers.image.version="1.0.0"`
//!
//! **References:** hadolint DL3056.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF081",
    title: "Label does not conform to semantic versioning",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3056"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::of_type(cx, super::LabelType::Semver) {
            if !super::labels::is_semver(&v) {
                out.at(ins, format!("label {k} is DF0810: {v:?}"));
            }
        }
    }
}
