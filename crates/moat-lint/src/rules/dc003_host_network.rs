//! DC003 — Host network mode.
//!
//! **What it does:** reports `network_mode: host`.
//!
//! **Why is this bad?** the container shares the host's network stack: it can bind any port, sniff traffic and reach services bound to localhost.
//!
//! **Example:** `network_mode: host`
//!
//! **Use instead:** publish the ports the service needs.
//!
//! **References:** CIS-5.10.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC003",
    title: "Host network mode",
    severity: Severity::High,
    target: RuleTarget::Compose,
    references: &["CIS-5.10"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            for (_, v) in super::dc004_host_namespaces::check(s).filter(|(ns, _)| *ns == Namespace::Network) {
                let (l, col) = v.pos.map(|p| (p.line, p.column)).unwrap_or_default();
                out.report(l, col, format!("service {} uses the host network", s.name));
            }
        }
    }
}
