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

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let Some(caps) = s.get("cap_add") else { continue };
            for n in caps.seq() {
                let Some(c) = n.as_str() else { continue };
                let u = c.to_ascii_uppercase();
                let u = u.trim_start_matches("CAP_");
                if matches!(u, "ALL" | "SYS_ADMIN" | "NET_ADMIN" | "SYS_PTRACE" | "SYS_MODULE" | "SYS_RAWIO" | "DAC_READ_SEARCH" | "BPF") {
                    out.report(n.line, n.column, format!("service {} adds capability {c}", s.name));
                }
            }
        }
    }
}
