//! DD006 — Insecure registries are allowed.
//!
//! **What it does:** reports a non-empty `insecure-registries`.
//!
//! **Why is this bad?** images are pulled over plain HTTP or unverified TLS: a man in the middle replaces them.
//!
//! **Example:** `{"insecure-registries": ["registry.local:5000"]}`
//!
//! **Use instead:** give the registry a certificate the daemon trusts.
//!
//! **References:** CIS-2.5, CWE-319.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD006",
    title: "Insecure registries are allowed",
    severity: Severity::High,
    target: RuleTarget::Daemon,
    references: &["CIS-2.5", "CWE-319"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        let Some(r) = d.get("insecure-registries").and_then(serde_json::Value::as_array) else { return };
        let names: Vec<&str> = r.iter().filter_map(serde_json::Value::as_str).collect();
        if !names.is_empty() {
            out.report(d.line_of("insecure-registries"), 1, format!("insecure registries allowed: {}", names.join(", ")));
        }
    }
}
