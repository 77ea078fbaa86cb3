//! DF027 — distribution upgrade inside the build.
//!
//! **What it does:** reports `apt-get upgrade`/`dist-upgrade`/`full-upgrade`,
//! `apk upgrade`, `yum`/`dnf update`/`upgrade` in `RUN`.
//!
//! **Why is this bad?** the image content depends on the day of the build and the base
//! image's tested package set is replaced; fix vulnerabilities by updating the base
//! image instead.
//!
//! **Example:** `RUN apt-get update && apt-get -y dist-upgrade`
//!
//! **Use instead:** rebuild from a newer base image tag, or pin the packages you need.
//!
//! **References:** Trivy DS024, hadolint DL3005 (removed in hadolint 2).
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF027",
    title: "Do not upgrade the whole distribution in a build",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DS024"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let hit = s.commands.iter().find_map(|c| {
                let subs: &[&str] = match c.name() {
                    "apt-get" | "apt" => &["upgrade", "dist-upgrade", "full-upgrade"],
                    "apk" => &["upgrade"],
                    "yum" | "dnf" | "microdnf" => &["update", "upgrade", "distro-sync"],
                    "zypper" => &["update", "up", "dist-upgrade", "dup"],
                    _ => return None,
                };
                subs.iter()
                    .find(|sub| super::sub_args(c, sub).is_some())
                    .map(|sub| format!("{} {sub}", c.name()))
            });
            if let Some(h) = hit {
                out.at(ins, format!("{h} upgrades the distribution inside the build: update the base image instead"));
            }
        }
    }
}
