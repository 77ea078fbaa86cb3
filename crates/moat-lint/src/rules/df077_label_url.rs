//! DF077 — Label is not a valid URL.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports
//! a label of type `url` whose value is not a URL.
//!
//! **Why is this bad?** tools that read the image's labels get a value they cannot use.
//!
//! **Example:** `LABEL org.opencontainers.image.source="github"`
//!
//! **Use instead:** `LABEL org.opencontainers.image.source="https://github.com/o/r"`
//!
//! **References:** hadolint DL3052.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF077",
    title: "Label is not a valid URL",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3052"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::of_type(cx, super::LabelType::Url) {
            if !super::labels::is_url(&v) {
                out.at(ins, format!("label {k} is DF0770: {v:?}"));
            }
        }
    }
}
