//! DF028 — package index update alone in a `RUN`.
//!
//! **What it does:** reports a `RUN` that runs `apt-get update` (or `apk update`,
//! `yum makecache`) but installs nothing in the same step.
//!
//! **Why is this bad?** the layer cache keeps the old index: later `RUN`s install from
//! stale metadata (CIS Docker Benchmark 4.7).
//!
//! **Example:** `RUN apt-get update` then `RUN apt-get install -y curl`
//!
//! **Use instead:** `RUN apt-get update && apt-get install -y curl`
//!
//! **References:** CIS Docker 4.7, Trivy DS017, Dockle CIS-DI-0007.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF028",
    title: "Update instruction alone",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.7"],
    aliases: &["DS017", "CIS-DI-0007"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            for (mgr, update, installs) in [
                (&["apt-get", "apt"][..], "update", &["install", "upgrade", "dist-upgrade", "build-dep", "source", "download"][..]),
                (&["apk"][..], "update", &["add", "upgrade", "fetch"][..]),
            ] {
                let updated = s.named(mgr).any(|c| super::sub_args(c, update).is_some());
                let installed = s.named(mgr).any(|c| installs.iter().any(|i| super::sub_args(c, i).is_some()));
                if updated && !installed {
                    out.at(ins, format!("{} {update} without an install in the same RUN", mgr[0]));
                }
            }
        }
    }
}
