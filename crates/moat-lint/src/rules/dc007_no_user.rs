//! DC007 — Service does not set a user.
//!
//! **What it does:** reports services without `user` (the image's user, often root, applies).
//!
//! **Why is this bad?** unless the image sets a non-root USER, the service runs as root.
//!
//! **Example:** `a service without user:`
//!
//! **Use instead:** `user: "10001:10001"`.
//!
//! **References:** CIS-5.x, CWE-250.
use super::prelude::*;
use crate::compose::{Compose, Node};

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC007",
    title: "Service does not set a user",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CIS-4.1", "CWE-250"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            match s.get("user").and_then(Node::as_str) {
                Some(u) if !super::df001_last_user_root::is_root(&u) => {}
                Some(u) => out.report(s.line_of("user"), s.column, format!("service {} runs as {u}", s.name)),
                None => out.report(s.line, s.column, format!("service {} sets no user: it runs as the image user, often root", s.name)),
            }
        }
    }
}
