//! DF058 — `USER` by name instead of a numeric UID.
//!
//! **What it does:** reports every `USER` that names a user
//! (`USER app`) rather than a numeric UID (`USER 10001`); root is DF001's business.
//!
//! **Why is this bad?** the engine and orchestrators cannot tell whether a named user
//! is root without reading the image's `/etc/passwd`: Kubernetes `runAsNonRoot` then
//! refuses the pod, and a later layer can silently remap the name to UID 0.
//!
//! **Example:** `USER app`
//!
//! **Use instead:** `USER 10001:10001`
//!
//! **References:** hadolint DL3066, CWE-250.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF058",
    title: "Non-numeric USER may not be resolvable by the host",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &["CWE-250"],
    aliases: &["DL3066"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("USER")) {
            // Build arguments and ENV values are substituted; unknown values are skipped.
            let Some(u) = ins.expanded.as_deref().map(str::trim) else { continue };
            let name = u.split(':').next().unwrap_or("");
            if name.is_empty() || name.contains('$') || super::df001_last_user_root::is_root(u) {
                continue;
            }
            if !name.chars().all(|c| c.is_ascii_digit()) {
                out.at(ins, format!("USER {u}: use a numeric UID"));
            }
        }
    }
}
