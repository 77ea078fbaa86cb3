//! DF020 — `npm install` of a package without a version.
//!
//! **What it does:** reports `npm install pkg` (also `i`, `add`) where a named package
//! has no `@version`; tarballs, paths, git URLs and bare `npm install` are fine.
//!
//! **Why is this bad?** builds are not reproducible; a hijacked release lands unnoticed.
//!
//! **Example:** `RUN npm install -g typescript`
//!
//! **Use instead:** `RUN npm install -g typescript@5.7.2`
//!
//! **References:** hadolint DL3016.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF020",
    title: "Pin versions in npm install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3016"],
};

fn pinned(p: &str) -> bool {
    // A git URL is pinned by `#<commit-ish>`.
    if p.starts_with("git") && p.contains("://") {
        return p.contains('#');
    }
    let name_ver = p.strip_prefix('@').map(|r| r.split_once('@').map(|(_, v)| v)).unwrap_or_else(|| p.split_once('@').map(|(_, v)| v));
    name_ver.is_some_and(|v| !v.is_empty())
        || p.contains("://")
        || p.starts_with("git")
        || p.starts_with('.')
        || p.starts_with('/')
        || p.starts_with('$')
        || p.starts_with('~')
        || p.ends_with(".tar")
        || p.ends_with(".tgz")
        || p.ends_with(".tar.gz")
        || p.contains(':')
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.named(&["npm"]).any(|c| {
                ["install", "i", "add"].iter().any(|sub| {
                    super::sub_args(c, sub).is_some_and(|a| {
                        super::packages(a, &["--prefix", "--registry", "--cache", "-w", "--workspace", "--loglevel", "--tag"])
                            .iter()
                            .any(|p| !pinned(p))
                    })
                })
            });
            if bad {
                out.at(ins, "pin versions in npm install: use <package>@<version>");
            }
        }
    }
}
