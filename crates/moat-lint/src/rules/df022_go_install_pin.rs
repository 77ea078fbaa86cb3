//! DF022 — `go install` without a version.
//!
//! **What it does:** reports `go install pkg` where the package has no `@version`.
//!
//! **Why is this bad?** builds are not reproducible.
//!
//! **Example:** `RUN go install github.com/x/y/cmd/z`
//!
//! **Use instead:** `RUN go install github.com/x/y/cmd/z@v1.2.3`
//!
//! **References:** hadolint DL3062.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF022",
    title: "Pin versions in go install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3062"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.named(&["go"]).any(|c| {
                ["install", "get", "run"].iter().filter_map(|sub| super::sub_args(c, sub).map(|a| (*sub, a))).any(|(sub, a)| {
                    let mut pkgs = super::packages(a, &["-o", "-tags", "-ldflags", "-gcflags", "-mod", "-p"]);
                    // `go install tool x`: `tool` is a keyword; `go run pkg args…`: only
                    // the first word is a package.
                    if sub == "install" && pkgs.first().is_some_and(|p| *p == "tool") {
                        pkgs.remove(0);
                    }
                    if sub == "run" {
                        pkgs.truncate(1);
                    }
                    pkgs.iter()
                        .any(|p| (!p.contains('@') || p.ends_with("@latest")) && !p.starts_with('.') && !p.starts_with('/') && !p.starts_with('$'))
                })
            });
            if bad {
                out.at(ins, "pin versions in go install: use <package>@<version>");
            }
        }
    }
}
