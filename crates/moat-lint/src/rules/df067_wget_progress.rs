//! DF067 — `wget` without `--progress`.
//!
//! **What it does:** reports `wget` without `--progress`, and without a quiet or log
//! option (`-q`, `-nv`, `-o`, `-a` and their long forms).
//!
//! **Why is this bad?** wget's default progress bar bloats the build log.
//!
//! **Example:** `RUN wget https://example.com/x.tgz`
//!
//! **Use instead:** `RUN wget --progress=dot:giga https://example.com/x.tgz`
//!
//! **References:** hadolint DL3047.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF067",
    title: "Use wget --progress to avoid bloated build logs",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3047"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.named(&["wget"]).any(|c| {
                !c.args().iter().any(|a| {
                    a.starts_with("--progress")
                        || matches!(a.as_str(), "-q" | "--quiet" | "-nv" | "--no-verbose" | "-o" | "-a")
                        || a.starts_with("--output-file")
                        || a.starts_with("--append-output")
                        || (a.starts_with('-') && !a.starts_with("--") && (a.contains('q') || a.ends_with("nv")))
                })
            });
            if bad {
                out.at(ins, "use wget --progress=dot:giga (or -q / -nv) to keep the build log small");
            }
        }
    }
}
