//! DF064 — `/bin/sh` replaced with a symlink.
//!
//! **What it does:** reports `RUN ln … /bin/sh` (for example `ln -sf /bin/bash /bin/sh`).
//!
//! **Why is this bad?** it silently changes the shell of every later `RUN` and of every
//! script in the image, including the distribution's own maintainer scripts.
//!
//! **Example:** `RUN ln -sf /bin/bash /bin/sh`
//!
//! **Use instead:** `SHELL ["/bin/bash", "-c"]`
//!
//! **References:** hadolint DL4005.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF064",
    title: "Use SHELL to change the default shell",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL4005"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if s.named(&["ln"]).any(|c| c.args().iter().any(|a| a == "/bin/sh")) {
                out.at(ins, "use SHELL to change the default shell instead of replacing /bin/sh");
            }
        }
    }
}
