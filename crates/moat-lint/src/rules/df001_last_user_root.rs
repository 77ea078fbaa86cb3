//! DF001 — the last `USER` of a stage is root.
//!
//! **What it does:** reports a stage (as hadolint: every stage) whose last `USER` names `root`
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
        // As hadolint: the last USER of every stage (a stage another one builds on
        // passes its user on).
        let mut last: Vec<Option<&Instruction>> = vec![None; cx.df.stages.len()];
        for i in cx.df.instructions.iter().filter(|i| i.is("USER")) {
            if let Some(slot) = i.stage.and_then(|s| last.get_mut(s)) {
                *slot = Some(i);
            }
        }
        for u in last.into_iter().flatten() {
            if is_root(u.expanded.as_deref().unwrap_or(&u.args)) {
                out.at(u, format!("last USER is {}: run as an unprivileged user", u.args.trim()));
            }
        }
    }
}
