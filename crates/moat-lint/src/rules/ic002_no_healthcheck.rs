//! IC002 — Image has no healthcheck.
//!
//! **What it does:** reports an image config without a `Healthcheck`.
//!
//! **Why is this bad?** the engine cannot detect a hung service.
//!
//! **Example:** an image built without the fix.
//!
//! **Use instead:** add `HEALTHCHECK` to the Dockerfile.
//!
//! **References:** CIS-4.6.
use super::prelude::*;
use crate::image_input::ImageInput;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "IC002",
    title: "Image has no healthcheck",
    severity: Severity::Low,
    target: RuleTarget::ImageConfig,
    references: &["CIS-4.6"],
    aliases: &["CIS-DI-0006"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn image(&self, i: &ImageInput<'_>, out: &mut Sink<'_>) {
        let none = match &i.meta.config.healthcheck {
            None => true,
            Some(h) => h.test.is_empty(),
        };
        if none {
            out.report(0, 0, "the image has no HEALTHCHECK");
        }
    }
}
