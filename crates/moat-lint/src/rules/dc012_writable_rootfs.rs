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
use crate::compose::{Compose, Node};

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC012",
    title: "Root filesystem is writable",
    severity: Severity::Low,
    target: RuleTarget::Compose,
    references: &["CIS-5.13"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            if !s.get("read_only").is_some_and(Node::is_true) {
                out.report(s.line, s.column, format!("service {} has a writable root filesystem", s.name));
            }
        }
    }
}
