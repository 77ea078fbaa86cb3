//! DF040 — both `wget` and `curl` in one stage.
//!
//! **What it does:** reports a `RUN` using `wget` or `curl` when the other was already
//! used in the same stage.
//!
//! **Why is this bad?** two tools doing the same job enlarge the image and its attack
//! surface.
//!
//! **Example:** `RUN curl -o a https://x` then `RUN wget https://y`
//!
//! **Use instead:** pick one.
//!
//! **References:** hadolint DL4001, Trivy DS014.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF040",
    title: "Either use wget or curl but not both",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL4001", "DS014"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let mut stage = None;
        let (mut wget, mut curl) = (false, false);
        for (ins, s) in cx.runs() {
            if ins.stage != stage {
                stage = ins.stage;
                (wget, curl) = (false, false);
            }
            let w = s.named(&["wget"]).next().is_some();
            let c = s.named(&["curl"]).next().is_some();
            if (w && (curl || c)) || (c && wget) {
                out.at(ins, "either use wget or curl, not both");
            }
            wget |= w;
            curl |= c;
        }
    }
}
