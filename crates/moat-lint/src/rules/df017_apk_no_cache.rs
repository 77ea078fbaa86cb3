//! DF017 — `apk add` without `--no-cache`.
//!
//! **What it does:** reports `apk add` without `--no-cache` (a cache mount on
//! `/var/cache/apk` is fine).
//!
//! **Why is this bad?** the package index stays in the layer.
//!
//! **Example:** `RUN apk add curl`
//!
//! **Use instead:** `RUN apk add --no-cache curl`
//!
//! **References:** hadolint DL3019, Trivy DS025.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF017",
    title: "Use apk add --no-cache",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3019", "DS025"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            if super::df012_apt_lists_cleanup::has_cache_mount(ins, "/var/cache/apk") {
                continue;
            }
            if super::apt_sub(s, &["apk"], "add").any(|(c, _)| !c.has_flag(None, &["no-cache", "no-network"])) {
                out.at(ins, "use the --no-cache switch with apk add");
            }
        }
    }
}
