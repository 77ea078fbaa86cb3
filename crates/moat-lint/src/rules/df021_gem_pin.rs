//! DF021 — `gem install` without a version.
//!
//! **What it does:** reports `gem install name` without `name:version` or
//! `-v`/`--version`.
//!
//! **Why is this bad?** builds are not reproducible.
//!
//! **Example:** `RUN gem install bundler`
//!
//! **Use instead:** `RUN gem install bundler:2.5.23`
//!
//! **References:** hadolint DL3028.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF021",
    title: "Pin versions in gem install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3028"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.named(&["gem"]).any(|c| {
                super::sub_args(c, "install").is_some_and(|a| {
                    !a.iter().any(|w| w == "-v" || w.starts_with("--version"))
                        && super::packages(a, &["-i", "--install-dir", "-n", "--bindir", "--source", "-s", "-P"])
                            .iter()
                            .any(|p| !p.contains(':') && !p.ends_with(".gem") && !p.starts_with('$'))
                })
            });
            if bad {
                out.at(ins, "pin versions in gem install: use <gem>:<version>");
            }
        }
    }
}
