//! DF035 — Multiple CMD instructions in one stage.
//!
//! **What it does:** reports every `CMD` of a stage after its first.
//!
//! **Why is this bad?** only the last one takes effect; the earlier ones mislead readers.
//!
//! **Example:** two `CMD` lines in the same stage.
//!
//! **Use instead:** keep one.
//!
//! **References:** hadolint DL4003, Trivy DS016.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF035",
    title: "Multiple CMD instructions",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL4003", "DS016", "MultipleInstructionsDisallowed"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let mut seen = std::collections::BTreeSet::new();
        for ins in cx.df.instructions.iter().filter(|i| i.is("CMD")) {
            if !seen.insert(ins.stage) {
                out.at(ins, "multiple CMD instructions in one stage: only the last takes effect");
            }
        }
    }
}
