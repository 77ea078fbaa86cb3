//! DF036 — Multiple ENTRYPOINT instructions in one stage.
//!
//! **What it does:** reports every `ENTRYPOINT` of a stage after its first.
//!
//! **Why is this bad?** only the last one takes effect; the earlier ones mislead readers.
//!
//! **Example:** two `ENTRYPOINT` lines in the same stage.
//!
//! **Use instead:** keep one.
//!
//! **References:** hadolint DL4004, Trivy DS007.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF036",
    title: "Multiple ENTRYPOINT instructions",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL4004", "DS007", "MultipleInstructionsDisallowed"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let mut seen = std::collections::BTreeSet::new();
        for ins in cx.df.instructions.iter().filter(|i| i.is("ENTRYPOINT")) {
            if !seen.insert(ins.stage) {
                out.at(ins, "multiple ENTRYPOINT instructions in one stage: only the last takes effect");
            }
        }
    }
}
