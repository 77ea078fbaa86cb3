//! DF068 — an invalid `LABEL` key.
//!
//! **What it does:** reports label keys in Docker's reserved namespaces
//! (`com.docker.`, `io.docker.`, `org.dockerproject.`), keys with characters other than
//! lower-case letters, digits, `.` and `-`, keys that do not start and end with a letter
//! or digit... as hadolint: that start with a letter and end with a letter or digit, and
//! keys with consecutive `.` or `-`.
//!
//! **Why is this bad?** tools that read labels expect Docker's key format.
//!
//! **Example:** `LABEL com.docker.version="1"`
//!
//! **Use instead:** `LABEL org.opencontainers.image.version="1"`
//!
//! **References:** hadolint DL3048.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF068",
    title: "Invalid label key",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3048"],
};

fn valid(k: &str) -> bool {
    let reserved = ["com.docker.", "io.docker.", "org.dockerproject."].iter().any(|p| k.starts_with(p));
    let chars = k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let start = k.starts_with(|c: char| c.is_ascii_lowercase());
    let end = k.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    let doubled = k.contains("..") || k.contains("--");
    !reserved && chars && start && end && !doubled
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, _, _) in cx.effective() {
            if !ins.is("LABEL") {
                continue;
            }
            for (k, _) in super::labels::pairs(ins) {
                if !valid(&k) {
                    out.at(ins, format!("invalid label key {k:?}"));
                }
            }
        }
    }
}
