//! DF003 — base image without a tag or digest.
//!
//! **What it does:** reports `FROM image` with neither `:tag` nor `@digest` (stage
//! names, `scratch` and unresolved variables excepted).
//!
//! **Why is this bad?** the build silently takes whatever `latest` is today: builds are
//! not reproducible and a compromised or broken upstream lands unnoticed.
//!
//! **Example:** `FROM debian`
//!
//! **Use instead:** `FROM debian:12.8` or pin a digest `FROM debian@sha256:…`.
//!
//! **References:** CIS Docker 4.2, hadolint DL3006.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF003",
    title: "Base image is not tagged",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.2"],
    aliases: &["DL3006", "DS001"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let df = cx.df;
        for (n, st) in df.stages.iter().enumerate() {
            let img = &st.image;
            if img.is_empty() || img.eq_ignore_ascii_case("scratch") || img.contains('$') {
                continue;
            }
            let lower = img.to_ascii_lowercase();
            if cx.named_before(&lower, n) {
                continue;
            }
            let r = ImageRef::parse(img);
            if r.tag.is_none() && r.digest.is_none() {
                out.report(st.line, 1, format!("base image {img} has no tag: pin a version"));
            }
        }
    }
}
