//! IC003 — Secret in the image environment.
//!
//! **What it does:** reports `Env` entries whose name looks like a credential and whose value is a literal.
//!
//! **Why is this bad?** the config is readable by anyone who can pull the image.
//!
//! **Example:** an image built without the fix.
//!
//! **Use instead:** pass secrets at run time (secrets mounts, `*_FILE` variables).
//!
//! **References:** CIS-4.10, CWE-798.
use super::prelude::*;
use crate::image_input::ImageInput;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "IC003",
    title: "Secret in the image environment",
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
        for e in &i.meta.config.env {
            let Some((k, v)) = e.split_once('=') else { continue };
            if super::df007_secret_env_arg::is_secret_name(k) && super::df007_secret_env_arg::is_literal_value(v) {
                out.report(0, 0, format!("environment variable {k} holds a secret"));
            }
        }
    }
}
