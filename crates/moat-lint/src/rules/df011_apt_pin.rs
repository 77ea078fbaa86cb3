//! DF011 — `apt-get install` without version pins.
//!
//! **What it does:** reports `apt-get install` of packages without `=version` (local
//! `.deb` files and `pkg/release` are accepted).
//!
//! **Why is this bad?** builds are not reproducible and silently pick up new, possibly
//! vulnerable or malicious, package versions.
//!
//! **Example:** `RUN apt-get install -y curl`
//!
//! **Use instead:** `RUN apt-get install -y curl=7.88.1-10+deb12u8`
//!
//! **References:** hadolint DL3008.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF011",
    title: "Pin versions in apt-get install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3008"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = super::apt_sub(s, &["apt-get"], "install").any(|(_, args)| {
                super::packages(args, &["-t", "--target-release", "-o", "--option", "-c", "--config-file"]).iter().any(|p| {
                    !(p.contains('=') || p.contains('/') || p.ends_with(".deb"))
                })
            });
            if bad {
                out.at(ins, "pin versions in apt-get install: use <package>=<version>");
            }
        }
    }
}
