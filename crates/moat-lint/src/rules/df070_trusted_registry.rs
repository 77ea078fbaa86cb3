//! DF070 — Use only an allowed registry in the FROM image.
//!
//! **What it does:** with trusted registries configured (`trustedRegistries:` in `.hadolint.yaml` or `--trusted-registry`), reports a `FROM` image from another registry (Docker Hub is `docker.io`; `*.example.com` and `*` are patterns).
//!
//! **Why is this bad?** an image from an unvetted registry may be anything.
//!
//! **Example:** `FROM random.example/debian:12`
//!
//! **Use instead:** `FROM docker.io/library/debian:12`
//!
//! **References:** hadolint DL3026.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF070",
    title: "Use only an allowed registry in the FROM image",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3026"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let trusted = &cx.config.trusted_registries;
        if trusted.is_empty() {
            return;
        }
        for (i, st) in cx.df.stages.iter().enumerate() {
            let image = st.image_resolved.as_deref().unwrap_or(&st.image);
            if image.eq_ignore_ascii_case("scratch") || image.contains('$') || cx.named_before(&image.to_ascii_lowercase(), i) {
                continue;
            }
            let reg = registry(image);
            if !trusted.iter().any(|t| allowed(t, &reg)) {
                out.report(st.line, 1, format!("image {image} is from {reg}, not a trusted registry"));
            }
        }
    }
}

/// The registry of an image reference (`docker.io` when the first part is not a host).
pub(crate) fn registry(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first.to_ascii_lowercase(),
        _ => "docker.io".to_string(),
    }
}

fn allowed(pattern: &str, reg: &str) -> bool {
    let p = pattern.trim().to_ascii_lowercase();
    if p == "*" || p == reg {
        return true;
    }
    if p == "docker.io" && (reg == "index.docker.io" || reg == "registry-1.docker.io") {
        return true;
    }
    p.strip_prefix("*.").is_some_and(|suffix| reg.ends_with(&format!(".{suffix}")))
}
