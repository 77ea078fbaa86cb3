//! DF037 — Multiple HEALTHCHECK instructions in one stage.
//!
//! **What it does:** reports every `HEALTHCHECK` of a stage after its first.
//!
//! **Why is this bad?** only the last one takes effect; the earlier ones mislead readers.
//!
//! **Example:** two `HEALTHCHECK` lines in the same stage.
//!
//! **Use instead:** keep one.
//!
//! **References:** hadolint DL3012, Trivy DS023.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF037",
    title: "Multiple HEALTHCHECK instructions",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3012", "DS023", "MultipleInstructionsDisallowed"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let mut seen = std::collections::BTreeSet::new();
        for ins in cx.df.instructions.iter().filter(|i| i.is("HEALTHCHECK")) {
            if !seen.insert(ins.stage) {
                out.at(ins, "multiple HEALTHCHECK instructions in one stage: only the last takes effect");
            }
        }
    }
}
