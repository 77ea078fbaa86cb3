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
use crate::compose::{Compose, Node};

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC013",
    title: "no-new-privileges not set",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CIS-5.26"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let ok = s.get("security_opt").is_some_and(|o| {
                o.seq().iter().filter_map(Node::as_str).any(|v| {
                    let v = v.to_ascii_lowercase().replace('=', ":");
                    v == "no-new-privileges" || v == "no-new-privileges:true"
                })
            });
            if !ok {
                out.report(s.line, s.column, format!("service {} does not set no-new-privileges", s.name));
            }
        }
    }
}
