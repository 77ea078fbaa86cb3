//! IC001 — Image runs as root.
//!
//! **What it does:** reports an image config whose `User` is empty, `root` or `0`.
//!
//! **Why is this bad?** containers run as root unless the operator overrides the user.
//!
//! **Example:** an image built without the fix.
//!
//! **Use instead:** set `USER` to an unprivileged user in the Dockerfile.
//!
//! **References:** CIS-4.1, CWE-250.
use super::prelude::*;
use crate::image_input::ImageInput;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "IC001",
    title: "Image runs as root",
    severity: Severity::High,
    target: RuleTarget::ImageConfig,
    references: &["CIS-4.1", "CWE-250"],
    aliases: &["CIS-DI-0001", "DS002"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn image(&self, i: &ImageInput<'_>, out: &mut Sink<'_>) {
        let u = i.meta.config.user.trim();
        if u.is_empty() || super::df001_last_user_root::is_root(u) {
            let shown = if u.is_empty() { "unset (root)" } else { u };
            out.report(0, 0, format!("the image user is {shown}"));
        }
    }
}
