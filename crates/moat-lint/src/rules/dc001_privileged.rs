//! DC001 — Privileged container.
//!
//! **What it does:** reports `privileged: true`.
//!
//! **Why is this bad?** a privileged container has every capability and all host devices: root in it is root on the host.
//!
//! **Example:** `privileged: true`
//!
//! **Use instead:** grant the single capability the service needs with `cap_add`.
//!
//! **References:** CIS-5.4, CWE-250.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC001",
    title: "Privileged container",
    severity: Severity::Critical,
    target: RuleTarget::Compose,
    references: &["CIS-5.4","CWE-250"],
    aliases: &[],
};

/// The shared check (compose DC001, live audit CC101): where privileged mode is set.
pub fn check(spec: &ContainerSpec) -> Option<&At<bool>> {
    spec.privileged.as_ref().filter(|p| p.value)
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            if let Some(p) = check(s) {
                let (l, col) = p.pos.map(|p| (p.line, p.column)).unwrap_or_default();
                out.report(l, col, format!("service {} runs privileged", s.name));
            }
        }
    }
}
