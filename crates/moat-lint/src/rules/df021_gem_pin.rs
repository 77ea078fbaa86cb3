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

/// The gems named: positional words, not the value of an option (`-i DIR`; a long
/// option without `=` takes the next word, as hadolint reads it).
fn gem_packages(args: &[String]) -> Vec<&String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            skip = !long.contains('=');
            continue;
        }
        if a.starts_with('-') {
            skip = matches!(a.as_str(), "-i" | "-n" | "-s" | "-P");
            continue;
        }
        out.push(a);
    }
    out
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.named(&["gem"]).any(|c| {
                super::sub_args(c, "install").or_else(|| super::sub_args(c, "i")).is_some_and(|a| {
                    // Options after `--` go to the gem's build, not to gem.
                    let a = match a.iter().position(|w| w == "--") {
                        Some(p) => &a[..p],
                        None => a,
                    };
                    !a.iter().any(|w| w == "-v" || w.starts_with("--version"))
                        && gem_packages(a)
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
