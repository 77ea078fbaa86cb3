//! IC005 — setuid or setgid file.
//!
//! **What it does:** reports regular files with the setuid or setgid bit.
//!
//! **Why is this bad?** each one is a privilege-escalation path for a process in the container.
//!
//! **Example:** an image built without the fix.
//!
//! **Use instead:** remove the bits in the build (`chmod a-s`) unless the file really needs them.
//!
//! **References:** CIS-4.8, CWE-250.
use super::prelude::*;
use crate::image_input::ImageInput;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "IC005",
    title: "setuid or setgid file",
    severity: Severity::Low,
    target: RuleTarget::ImageConfig,
    references: &["CIS-4.8", "CWE-250"],
    aliases: &["CIS-DI-0008"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn image(&self, i: &ImageInput<'_>, out: &mut Sink<'_>) {
        for f in i.resolver.entries() {
            if f.is_file() && f.mode & 0o6000 != 0 {
                let kind = match (f.mode & 0o4000 != 0, f.mode & 0o2000 != 0) {
                    (true, true) => "setuid and setgid",
                    (true, false) => "setuid",
                    _ => "setgid",
                };
                out.findings.push(out.meta.finding(&format!("{}:{}", out.path, f.path), 0, 0, format!("{} is {kind} (mode {:o})", f.path, f.mode & 0o7777)));
            }
        }
    }
}
