//! DF079 — Label is not a valid SPDX licence identifier.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports
//! a label of type `spdx` whose value is not an SPDX licence identifier (or expression).
//!
//! **Why is this bad?** tools that read the image's labels get a value they cannot use.
//!
//! **Example:** `LABEL org.opencontainers.image.licenses="free"`
//!
//! **Use instead:** `LABEL org.opencontainers.image.licenses="MIT"`
//!
//! **References:** hadolint DL3054.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF079",
    title: "Label is not a valid SPDX licence identifier",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3054"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::of_type(cx, super::LabelType::Spdx) {
            if !super::labels::is_spdx(&v) {
                out.at(ins, format!("label {k} is DF0790: {v:?}"));
            }
        }
    }
}
