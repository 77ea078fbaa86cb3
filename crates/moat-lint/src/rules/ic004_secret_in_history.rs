//! IC004 — Secret in the image history.
//!
//! **What it does:** reports history steps (`created_by`) that assign a credential-like variable a literal value (build arguments, `ENV`, inline `VAR=value`).
//!
//! **Why is this bad?** history is part of the image: every puller reads build arguments and commands.
//!
//! **Example:** an image built without the fix.
//!
//! **Use instead:** use `RUN --mount=type=secret`; never pass secrets as build arguments.
//!
//! **References:** CIS-4.10, CWE-798.
use super::prelude::*;
use crate::image_input::ImageInput;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "IC004",
    title: "Secret in the image history",
    severity: Severity::High,
    target: RuleTarget::ImageConfig,
    references: &["CIS-4.10", "CWE-798"],
    aliases: &["CIS-DI-0010"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn image(&self, i: &ImageInput<'_>, out: &mut Sink<'_>) {
        for (n, h) in i.meta.history.iter().enumerate() {
            for (k, v) in crate::image_input::assignments(&h.created_by) {
                if super::df007_secret_env_arg::is_secret_name(&k) && super::df007_secret_env_arg::is_literal_value(&v) {
                    out.report(0, 0, format!("history step {n} sets {k} to a literal value"));
                }
            }
        }
    }
}
