//! DF057 — `ONBUILD` of `FROM`, `MAINTAINER` or `ONBUILD`.
//!
//! **What it does:** reports those instructions inside `ONBUILD`.
//!
//! **Why is this bad?** Docker rejects them; the child build fails.
//!
//! **Example:** `ONBUILD FROM debian`
//!
//! **Use instead:** only ordinary build instructions in `ONBUILD`.
//!
//! **References:** hadolint DL3043.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF057",
    title: "ONBUILD, FROM or MAINTAINER triggered from within ONBUILD",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3043"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("ONBUILD")) {
            let kw = ins.args.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            if matches!(kw.as_str(), "FROM" | "MAINTAINER" | "ONBUILD") {
                out.at(ins, format!("ONBUILD {kw} is not allowed"));
            }
        }
    }
}
