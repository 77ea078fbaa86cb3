//! DF044 — `COPY --from` of an entire filesystem.
//!
//! **What it does:** reports `COPY --from=X / …`.
//!
//! **Why is this bad?** copying `/` from another stage or image drags its whole
//! filesystem (package databases, setuid binaries, secrets) into this image.
//!
//! **Example:** `COPY --from=tools / /`
//!
//! **Use instead:** copy only the files you need.
//!
//! **References:** hadolint DL3067.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF044",
    title: "Do not copy an entire filesystem from another stage",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3067"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("COPY") && i.flag("from").is_some()) {
            let w = ins.words();
            // As hadolint: the root of another stage copied onto the root.
            let to_root = w.last().is_some_and(|d| d == "/" || d == "/.");
            if to_root && w[..w.len().saturating_sub(1)].iter().any(|s| s == "/" || s == "/.") {
                out.at(ins, "do not copy an entire filesystem from another stage");
            }
        }
    }
}
