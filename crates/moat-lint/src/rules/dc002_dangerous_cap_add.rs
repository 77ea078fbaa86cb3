//! DC002 — Dangerous capability added.
//!
//! **What it does:** reports `cap_add` of ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, SYS_RAWIO, DAC_READ_SEARCH, BPF.
//!
//! **Why is this bad?** these capabilities allow container escapes or control of the host network.
//!
//! **Example:** `cap_add: [SYS_ADMIN]`
//!
//! **Use instead:** drop all (`cap_drop: [ALL]`) and add back only harmless ones.
//!
//! **References:** CIS-5.3, CWE-250.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC002",
    title: "Dangerous capability added",
    severity: Severity::High,
    target: RuleTarget::Compose,
    references: &["CIS-5.3","CWE-250"],
    aliases: &[],
};

/// The shared check (compose DC002, live audit CC102): added capabilities that are
/// escape-grade ([`moat_model::container::DANGEROUS_CAPS`]).
pub fn check(spec: &ContainerSpec) -> impl Iterator<Item = &At<String>> {
    spec.cap_add.iter().filter(|c| moat_model::container::is_dangerous_cap(&c.value))
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            for cap in check(s) {
                let (l, col) = cap.pos.map(|p| (p.line, p.column)).unwrap_or_default();
                out.report(l, col, format!("service {} adds capability {}", s.name, cap.value));
            }
        }
    }
}
