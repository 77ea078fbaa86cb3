//! DF023 — no `HEALTHCHECK` in the final stage.
//!
//! **What it does:** reports a Dockerfile whose final stage has no `HEALTHCHECK`
//! (`HEALTHCHECK NONE` counts as a decision and is accepted).
//!
//! **Why is this bad?** the engine cannot tell a hung service from a healthy one, so
//! orchestration never restarts it (CIS Docker Benchmark 4.6).
//!
//! **Example:** a service image with `CMD ["server"]` and no health check.
//!
//! **Use instead:** `HEALTHCHECK CMD curl -f http://localhost/ || exit 1`
//!
//! **References:** CIS Docker 4.6, hadolint DL3057, Trivy DS026, Dockle CIS-DI-0006.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF023",
    title: "No HEALTHCHECK",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.6"],
    aliases: &["DL3057", "DS026", "CIS-DI-0006"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let df = cx.df;
        let Some(last) = df.stages.last() else { return };
        // A HEALTHCHECK anywhere in the chain of stages the final one builds on counts.
        let mut idx = df.stages.len() - 1;
        for _ in 0..64 {
            if df.instructions.iter().any(|i| i.stage == Some(idx) && i.is("HEALTHCHECK")) {
                return;
            }
            match df.stages.get(idx).and_then(|s| s.parent) {
                Some(p) => idx = p,
                None => break,
            }
        }
        out.report(last.line, 1, "the final stage has no HEALTHCHECK");
    }
}
