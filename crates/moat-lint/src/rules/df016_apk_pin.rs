//! DF016 — `apk add` without version pins.
//!
//! **What it does:** reports `apk add` of packages without `=version` (the name given
//! to `--virtual`/`-t` is not a package).
//!
//! **Why is this bad?** builds are not reproducible and silently pick up new versions.
//!
//! **Example:** `RUN apk add curl`
//!
//! **Use instead:** `RUN apk add curl=8.11.1-r0`
//!
//! **References:** hadolint DL3018.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF016",
    title: "Pin versions in apk add",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3018"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = super::apt_sub(s, &["apk"], "add").any(|(_, args)| {
                super::packages(args, &["--virtual", "-t", "--repository", "-X", "--root", "-p", "--arch"])
                    .iter()
                    .any(|p| !(p.contains('=') || p.contains('~') || p.ends_with(".apk")))
            });
            if bad {
                out.at(ins, "pin versions in apk add: use <package>=<version>");
            }
        }
    }
}
