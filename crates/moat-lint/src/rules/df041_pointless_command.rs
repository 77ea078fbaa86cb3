//! DF041 — a command that makes no sense in a container build.
//!
//! **What it does:** reports `ssh`, `vim`, `shutdown`, `service`, `ps`, `free`, `top`,
//! `kill`, `mount`, `ifconfig`, `nano` in `RUN`.
//!
//! **Why is this bad?** interactive or system-management commands do nothing useful at
//! build time, and `ssh` suggests credentials inside the build.
//!
//! **Example:** `RUN service nginx start`
//!
//! **Use instead:** start processes with `CMD`/`ENTRYPOINT`.
//!
//! **References:** hadolint DL3001.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF041",
    title: "Command makes no sense in a container",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3001"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        const BAD: &[&str] = &["ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount", "ifconfig", "nano"];
        for (ins, s) in cx.runs() {
            if let Some(c) = s.named(BAD).next() {
                out.at(ins, format!("{} makes no sense in a container build", c.name()));
            }
        }
    }
}
