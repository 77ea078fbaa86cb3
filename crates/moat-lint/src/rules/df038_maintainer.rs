//! DF038 — deprecated `MAINTAINER`.
//!
//! **What it does:** reports `MAINTAINER`.
//!
//! **Why is this bad?** deprecated; the information belongs in a label.
//!
//! **Example:** `MAINTAINER Jane <jane@example.com>`
//!
//! **Use instead:** `LABEL org.opencontainers.image.authors="jane@example.com"`
//!
//! **References:** hadolint DL4000, Trivy DS022.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF038",
    title: "MAINTAINER is deprecated",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL4000", "DS022", "MaintainerDeprecated"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("MAINTAINER")) {
            out.at(ins, "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors");
        }
    }
}
