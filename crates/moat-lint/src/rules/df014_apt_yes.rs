//! DF014 — `apt-get install` without `-y`.
//!
//! **What it does:** reports `apt-get install` without `-y`/`--yes`/`--assume-yes`
//! (or `-qq`, which implies it).
//!
//! **Why is this bad?** the build waits for an answer and fails.
//!
//! **Example:** `RUN apt-get install curl`
//!
//! **Use instead:** `RUN apt-get install -y curl`
//!
//! **References:** hadolint DL3014, Trivy DS021.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF014",
    title: "Use the -y switch with apt-get install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3014", "DS021"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = super::apt_sub(s, &["apt-get"], "install").any(|(c, _)| {
                let qq = c.args().iter().any(|a| a == "-qq" || a == "-q=2" || a == "--quiet=2")
                    || c.args().iter().filter(|a| *a == "-q" || *a == "--quiet").count() >= 2;
                !qq && !c.has_flag(Some('y'), &["yes", "assume-yes"])
            });
            if bad {
                out.at(ins, "use the -y switch to avoid manual input: apt-get -y install <package>");
            }
        }
    }
}
