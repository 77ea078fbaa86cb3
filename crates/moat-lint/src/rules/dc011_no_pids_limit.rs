//! DC011 — No PIDs limit.
//!
//! **What it does:** reports services without `pids_limit` or `deploy.resources.limits.pids`.
//!
//! **Why is this bad?** a fork bomb in one container takes the host down.
//!
//! **Example:** `a service without pids_limit`
//!
//! **Use instead:** `pids_limit: 200`.
//!
//! **References:** CIS-5.29.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC011",
    title: "No PIDs limit",
    severity: Severity::Low,
    target: RuleTarget::Compose,
    references: &["CIS-5.29"],
    aliases: &[],
};

/// The shared check (compose and live audit): no pids limit is set.
pub fn check(spec: &ContainerSpec) -> bool {
    spec.limits.pids.is_none()
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            if check(s) {
                let at = s.pos.unwrap_or_default();
                out.report(at.line, at.column, format!("service {} has no PIDs limit", s.name));
            }
        }
    }
}
