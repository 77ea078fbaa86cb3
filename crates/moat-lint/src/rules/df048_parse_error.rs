//! DF048 — the Dockerfile does not parse.
//!
//! **What it does:** reports unknown instructions, an unterminated heredoc, a bad
//! `escape` directive and a file with no instruction at all.
//!
//! **Why is this bad?** the build fails; other rules see only part of the file.
//!
//! **Example:** `RUNN apt-get update`
//!
//! **Use instead:** fix the syntax.
//!
//! **References:** hadolint DL1000.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF048",
    title: "Dockerfile parse error",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL1000"],
};

pub const KEYWORDS: &[&str] = &[
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
];

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for e in &cx.df.errors {
            out.report(e.line, 1, e.message.clone());
        }
        for ins in &cx.df.instructions {
            if !KEYWORDS.contains(&ins.keyword.as_str()) {
                out.at(ins, format!("unknown instruction {}", ins.keyword));
            }
        }
        if cx.df.instructions.is_empty() {
            out.report(1, 1, "no instructions: the file is empty or only comments");
        }
    }
}
