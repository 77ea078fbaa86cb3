//! DF030 — relative `WORKDIR`.
//!
//! **What it does:** reports `WORKDIR` paths that are not absolute (variables and
//! Windows drive paths are accepted).
//!
//! **Why is this bad?** the result depends on the previous `WORKDIR`, easy to get wrong.
//!
//! **Example:** `WORKDIR app`
//!
//! **Use instead:** `WORKDIR /app`
//!
//! **References:** hadolint DL3000, Trivy DS009.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF030",
    title: "Use absolute WORKDIR",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3000", "DS009", "WorkdirRelativePath"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("WORKDIR")) {
            let p = crate::dockerfile::unquote(ins.args.trim());
            let b = p.as_bytes();
            let windows = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
            if !p.is_empty() && !p.starts_with('/') && !p.starts_with('$') && !windows {
                out.at(ins, format!("WORKDIR {p} is relative: use an absolute path"));
            }
        }
    }
}
