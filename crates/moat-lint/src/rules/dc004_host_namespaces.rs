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

/// The shared check (compose DC003/DC004, live audit CC103–CC107): namespaces shared
/// with the host.
pub fn check(spec: &ContainerSpec) -> impl Iterator<Item = (Namespace, &At<String>)> {
    spec.host_namespaces()
}

/// The compose key of a namespace mode.
fn key(ns: Namespace) -> &'static str {
    match ns {
        Namespace::Pid => "pid",
        Namespace::Network => "network_mode",
        Namespace::Ipc => "ipc",
        Namespace::Uts => "uts",
        Namespace::User => "userns_mode",
    }
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            for (ns, v) in check(s).filter(|(ns, _)| *ns != Namespace::Network) {
                let (l, col) = v.pos.map(|p| (p.line, p.column)).unwrap_or_default();
                out.report(l, col, format!("service {} shares the host {} namespace", s.name, key(ns)));
            }
        }
    }
}
