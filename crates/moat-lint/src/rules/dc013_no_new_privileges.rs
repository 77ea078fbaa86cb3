//! DC013 — no-new-privileges not set.
//!
//! **What it does:** reports services whose `security_opt` lacks `no-new-privileges:true`.
//!
//! **Why is this bad?** setuid binaries inside the container can still raise privileges.
//!
//! **Example:** `a service without security_opt`
//!
//! **Use instead:** `security_opt: ["no-new-privileges:true"]`.
//!
//! **References:** CIS-5.26.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC013",
    title: "no-new-privileges not set",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CIS-5.26"],
    aliases: &[],
};

/// The shared check (compose DC013, live audit CC116, which also accepts the daemon's
/// default): no-new-privileges is not set for the container.
pub fn check(spec: &ContainerSpec) -> bool {
    !spec.no_new_privileges()
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            if check(s) {
                let at = s.pos.unwrap_or_default();
                out.report(at.line, at.column, format!("service {} does not set no-new-privileges", s.name));
            }
        }
    }
}
