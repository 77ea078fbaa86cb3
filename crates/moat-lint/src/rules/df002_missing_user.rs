//! DF002 — the final stage never sets `USER`.
//!
//! **What it does:** reports a final stage without any `USER` instruction (and not
//! built on a previous stage that sets one), so the image runs as root by default.
//!
//! **Why is this bad?** processes run as UID 0 unless the operator overrides it; CIS
//! Docker Benchmark 4.1 asks for a non-root user in the image.
//!
//! **Example:** `FROM debian:12` then `CMD ["app"]` with no `USER`.
//!
//! **Use instead:** `RUN useradd -r app` and `USER app`.
//!
//! **References:** CIS Docker 4.1, CWE-250, Trivy DS002, Dockle CIS-DI-0001.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF002",
    title: "No USER: the image runs as root",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.1", "CWE-250"],
    aliases: &["DS002", "CIS-DI-0001"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let df = cx.df;
        let Some(mut idx) = df.stages.len().checked_sub(1) else { return };
        // Follow `FROM <earlier stage>` chains: a USER there is inherited.
        let mut seen = 0;
        loop {
            if df.instructions.iter().any(|i| i.stage == Some(idx) && i.is("USER")) {
                return;
            }
            match df.stages.get(idx).and_then(|s| s.parent) {
                Some(p) if seen < 64 => {
                    idx = p;
                    seen += 1;
                }
                _ => break,
            }
        }
        let Some(last) = df.stages.last() else { return };
        if last.image.eq_ignore_ascii_case("scratch") {
            return;
        }
        out.report(last.line, 1, "the final stage sets no USER, so the container runs as root");
    }
}
