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

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            if let Some(n) = s.get("privileged").filter(|n| n.is_true()) {
                out.report(n.line, n.column, format!("service {} runs privileged", s.name));
            }
        }
    }
}
