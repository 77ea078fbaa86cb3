//! DC004 — Host PID, IPC, UTS or user namespace shared.
//!
//! **What it does:** reports `pid: host`, `ipc: host`, `uts: host`, `userns_mode: host`.
//!
//! **Why is this bad?** sharing host namespaces lets the container see and signal host processes or read host shared memory.
//!
//! **Example:** `pid: host`
//!
//! **Use instead:** leave namespaces private.
//!
//! **References:** CIS-5.16, CIS-5.17, CIS-5.21, CIS-5.31.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC004",
    title: "Host PID, IPC, UTS or user namespace shared",
    severity: Severity::High,
    target: RuleTarget::Compose,
    references: &["CIS-5.16","CIS-5.17","CIS-5.21","CIS-5.31"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            for key in ["pid", "ipc", "uts", "userns_mode"] {
                if let Some(n) = s.get(key).filter(|n| n.as_str().as_deref() == Some("host")) {
                    out.report(n.line, n.column, format!("service {} shares the host {key} namespace", s.name));
                }
            }
        }
    }
}
