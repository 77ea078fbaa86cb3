//! DF072 — Inline ignore pragma.
//!
//! **What it does:** reports each `# hadolint ignore=…` comment (hadolint leaves this rule off unless enabled; moat reports it at severity info).
//!
//! **Why is this bad?** a team that wants every exception in one reviewed place (`.hadolint.yaml`) sees the ones scattered in Dockerfiles.
//!
//! **Example:** `# hadolint ignore=DL3008` above a `RUN`
//!
//! **Use instead:** an `ignored:` entry in `.hadolint.yaml`, or `# hadolint global ignore=`
//!
//! **References:** hadolint DL1001.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF072",
    title: "Inline ignore pragma",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL1001"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (line, c) in &cx.df.comments {
            if crate::suppress::hadolint_pragma(c).is_some_and(|(global, _)| !global) {
                out.report(*line, 1, "inline ignore pragma: prefer the configuration file");
            }
        }
    }
}
