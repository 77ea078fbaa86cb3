//! DC006 — Seccomp or AppArmor disabled.
//!
//! **What it does:** reports `security_opt` with `seccomp:unconfined`, `apparmor:unconfined` or `label:disable`.
//!
//! **Why is this bad?** the default seccomp and AppArmor profiles block dangerous syscalls and file accesses; disabling them removes a layer of isolation.
//!
//! **Example:** `security_opt: [seccomp:unconfined]`
//!
//! **Use instead:** keep the default profiles, or write a tailored one.
//!
//! **References:** CIS-5.1, CIS-5.22.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC006",
    title: "Seccomp or AppArmor disabled",
    severity: Severity::High,
    target: RuleTarget::Compose,
    references: &["CIS-5.1","CIS-5.22"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let Some(opts) = s.get("security_opt") else { continue };
            for n in opts.seq() {
                let Some(o) = n.as_str() else { continue };
                let l = o.to_ascii_lowercase().replace('=', ":");
                if l == "seccomp:unconfined" || l == "apparmor:unconfined" || l == "label:disable" || l == "systempaths:unconfined" {
                    out.report(n.line, n.column, format!("service {} sets {o}", s.name));
                }
            }
        }
    }
}
