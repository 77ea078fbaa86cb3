//! DC009 — No memory limit.
//!
//! **What it does:** reports services without `mem_limit` or `deploy.resources.limits.memory`.
//!
//! **Why is this bad?** one service can exhaust the host's memory (denial of service).
//!
//! **Example:** `a service without limits`
//!
//! **Use instead:** `mem_limit: 512m`.
//!
//! **References:** CIS-5.11.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC009",
    title: "No memory limit",
    severity: Severity::Low,
    target: RuleTarget::Compose,
    references: &["CIS-5.11"],
    aliases: &[],
};

/// The shared check (compose and live audit): no memory limit is set.
pub fn check(spec: &ContainerSpec) -> bool {
    spec.limits.memory.is_none()
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            if check(s) {
                let at = s.pos.unwrap_or_default();
                out.report(at.line, at.column, format!("service {} has no memory limit", s.name));
            }
        }
    }
}
