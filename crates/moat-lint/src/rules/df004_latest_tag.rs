//! DF004 — base image uses the `latest` tag.
//!
//! **What it does:** reports `FROM image:latest` (after substituting global `ARG`
//! defaults) when no digest pins it.
//!
//! **Why is this bad?** `latest` moves: the same Dockerfile builds different images,
//! and a malicious or broken update is pulled in silently.
//!
//! **Example:** `FROM node:latest`
//!
//! **Use instead:** `FROM node:22.11-bookworm-slim` (or a digest).
//!
//! **References:** CIS Docker 4.2, hadolint DL3007, Trivy DS001, Dockle DKL-DI-0006.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF004",
    title: "Base image uses the latest tag",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.2"],
    aliases: &["DL3007", "DS001", "DKL-DI-0006"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for st in &cx.df.stages {
            let Some(img) = &st.image_resolved else { continue };
            let r = ImageRef::parse(img);
            if r.digest.is_none() && r.tag.as_deref() == Some("latest") {
                out.report(st.line, 1, format!("base image {img} uses the latest tag: pin a version"));
            }
        }
    }
}
