//! DC015 — Image is untagged or uses latest.
//!
//! **What it does:** reports `image` without a tag or digest, or with `:latest`.
//!
//! **Why is this bad?** deployments change silently and cannot be reproduced or rolled back.
//!
//! **Example:** `image: nginx:latest`
//!
//! **Use instead:** `image: nginx:1.27.3` or a digest.
//!
//! **References:** CIS-4.2.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC015",
    title: "Image is untagged or uses latest",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CIS-4.2"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let Some(n) = s.get("image") else { continue };
            let Some(img) = n.as_str() else { continue };
            if img.is_empty() || img.contains('$') {
                continue;
            }
            let r = ImageRef::parse(&img);
            if r.digest.is_none() && r.tag.as_deref().is_none_or(|t| t == "latest") {
                out.report(n.line, n.column, format!("service {} uses image {img} without a pinned tag", s.name));
            }
        }
    }
}
