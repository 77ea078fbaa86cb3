//! DC012 — Root filesystem is writable.
//!
//! **What it does:** reports services without `read_only: true`.
//!
//! **Why is this bad?** an attacker can modify binaries and configuration inside the container and persist there.
//!
//! **Example:** `a service without read_only`
//!
//! **Use instead:** `read_only: true` plus `tmpfs` for the paths that must be written.
//!
//! **References:** CIS-5.13.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC012",
    title: "Root filesystem is writable",
    severity: Severity::Low,
    target: RuleTarget::Compose,
    references: &["CIS-5.13"],
    aliases: &[],
};

/// The shared check (compose DC012, live audit CC115): the root filesystem is writable.
pub fn check(spec: &ContainerSpec) -> bool {
    !spec.read_only_rootfs.as_ref().is_some_and(|r| r.value)
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            if check(s) {
                let at = s.pos.unwrap_or_default();
                out.report(at.line, at.column, format!("service {} has a writable root filesystem", s.name));
            }
        }
    }
}
