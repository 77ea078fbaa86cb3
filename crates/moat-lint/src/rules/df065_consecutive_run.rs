//! DF065 — consecutive `RUN` instructions of one command each.
//!
//! **What it does:** reports a `RUN` of a single command right after another `RUN` of a
//! single command with the same flags (comments between them do not count).
//!
//! **Why is this bad?** each `RUN` makes a layer; separate ones cost size and time.
//!
//! **Example:** `RUN apt-get update` then `RUN apt-get install -y curl=8.5.0-2`
//!
//! **Use instead:** `RUN apt-get update && apt-get install -y curl=8.5.0-2`
//!
//! **References:** hadolint DL3059.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF065",
    title: "Multiple consecutive RUN instructions: consider consolidation",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3059"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let mut prev: Option<&Instruction> = None;
        for (ins, script) in cx.df.instructions.iter().zip(&cx.scripts) {
            let single = ins.is("RUN") && script.as_ref().is_some_and(|s| s.commands.len() <= 1);
            if !single {
                prev = None;
                continue;
            }
            if let Some(p) = prev
                && p.flags == ins.flags
            {
                out.at(ins, "multiple consecutive RUN instructions: consider consolidation");
            }
            prev = Some(ins);
        }
    }
}
