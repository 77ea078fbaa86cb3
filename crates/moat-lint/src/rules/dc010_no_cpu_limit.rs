//! DC010 — No CPU limit.
//!
//! **What it does:** reports services without `cpus`, `cpu_quota`, `cpu_shares` or `deploy.resources.limits.cpus`.
//!
//! **Why is this bad?** one service can starve the others of CPU.
//!
//! **Example:** `a service without limits`
//!
//! **Use instead:** `cpus: 0.5`.
//!
//! **References:** CIS-5.12.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC010",
    title: "No CPU limit",
    severity: Severity::Low,
    target: RuleTarget::Compose,
    references: &["CIS-5.12"],
    aliases: &[],
};

/// The shared check (compose and live audit): no cpu limit is set.
pub fn check(spec: &ContainerSpec) -> bool {
    spec.limits.cpu.is_none()
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            if check(s) {
                let at = s.pos.unwrap_or_default();
                out.report(at.line, at.column, format!("service {} has no CPU limit", s.name));
            }
        }
    }
}
