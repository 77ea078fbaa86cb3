//! DF010 — `sudo` in `RUN`.
//!
//! **What it does:** reports `RUN` commands that use `sudo`.
//!
//! **Why is this bad?** build steps already run as the current `USER`; `sudo` in an
//! image means a privilege-escalation path is installed and configured, and it has
//! unpredictable TTY and signal behaviour.
//!
//! **Example:** `RUN sudo apt-get install -y curl`
//!
//! **Use instead:** switch with `USER root` for the step, or use `gosu`.
//!
//! **References:** hadolint DL3004, Trivy DS010, Dockle DKL-DI-0001.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF010",
    title: "Do not use sudo",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &["CWE-250"],
    aliases: &["DL3004", "DS010", "DKL-DI-0001"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if s.commands.iter().any(|c| c.name() == "sudo" || c.wrappers.iter().any(|w| w == "sudo")) {
                out.at(ins, "do not use sudo: it leads to unpredictable behaviour; use USER or gosu");
            }
        }
    }
}
