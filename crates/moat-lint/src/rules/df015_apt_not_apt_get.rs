//! DF015 — `apt` used in a build.
//!
//! **What it does:** reports `RUN apt …`.
//!
//! **Why is this bad?** `apt` is an interactive front end without a stable CLI; scripts
//! should use `apt-get` or `apt-cache`.
//!
//! **Example:** `RUN apt install -y curl`
//!
//! **Use instead:** `RUN apt-get install -y curl`
//!
//! **References:** hadolint DL3027.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF015",
    title: "Do not use apt; use apt-get or apt-cache",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3027"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if s.named(&["apt"]).next().is_some() {
                out.at(ins, "do not use apt: it is meant for end users; use apt-get or apt-cache");
            }
        }
    }
}
