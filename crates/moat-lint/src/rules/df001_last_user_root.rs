//! DF001 — the last `USER` of the final stage is root.
//!
//! **What it does:** reports a final stage whose last `USER` instruction names `root`
//! or UID 0.
//!
//! **Why is this bad?** a container running as root turns any escape or write
//! vulnerability into root on the shared kernel's view (CIS Docker Benchmark 4.1).
//!
//! **Example:** `USER root` as the last `USER`.
//!
//! **Use instead:** switch back to an unprivileged user: `USER app` or `USER 10001`.
//!
//! **References:** CIS Docker 4.1, CWE-250, hadolint DL3002, Trivy DS002.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF001",
    title: "Last USER is root",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.1", "CWE-250"],
    aliases: &["DL3002", "DS002"],
};

pub(crate) fn is_root(user: &str) -> bool {
    let u = user.trim().split(':').next().unwrap_or("");
    u == "root" || u == "0"
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let last = cx.last_stage().filter(|i| i.is("USER")).last();
        if let Some(u) = last
            && is_root(u.expanded.as_deref().unwrap_or(&u.args)) {
                out.at(u, format!("last USER is {}: run as an unprivileged user", u.args.trim()));
            }
    }
}
