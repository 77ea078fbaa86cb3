//! DF080 — Label is not a valid git hash.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports
//! a label of type `hash` whose value is not a git commit hash (7 to 12 or 40 hex digits).
//!
//! **Why is this bad?** tools that read the image's labels get a value they cannot use.
//!
//! **Example:** `LABEL org.opencontainers.image.revision="main"`
//!
//! **Use instead:** `LABEL org.opencontainers.image.revision="2dbfae9"`
//!
//! **References:** hadolint DL3055.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF080",
    title: "Label is not a valid git hash",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3055"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, k, v) in super::labels::of_type(cx, super::LabelType::Hash) {
            if !super::labels::is_git_hash(&v) {
                out.at(ins, format!("label {k} is DF0800: {v:?}"));
            }
        }
    }
}
