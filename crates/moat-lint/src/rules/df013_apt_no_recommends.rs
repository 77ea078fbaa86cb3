//! DF013 — `apt-get install` without `--no-install-recommends`.
//!
//! **What it does:** reports `apt-get install` without `--no-install-recommends` (or
//! `-o APT::Install-Recommends=false`).
//!
//! **Why is this bad?** recommended packages enlarge the image and its attack surface
//! with software nobody asked for.
//!
//! **Example:** `RUN apt-get install -y curl`
//!
//! **Use instead:** `RUN apt-get install -y --no-install-recommends curl`
//!
//! **References:** hadolint DL3015.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF013",
    title: "Avoid additional packages: use --no-install-recommends",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3015"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = super::apt_sub(s, &["apt-get"], "install").any(|(c, _)| {
                !c.has_flag(None, &["no-install-recommends"])
                    && !c.args().iter().any(|a| a.contains("APT::Install-Recommends=false") || a.contains("APT::Install-Recommends=0"))
            });
            if bad {
                out.at(ins, "avoid additional packages by specifying --no-install-recommends");
            }
        }
    }
}
