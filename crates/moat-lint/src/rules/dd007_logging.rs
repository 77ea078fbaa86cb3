//! DD007 — Container logging is not configured.
//!
//! **What it does:** reports a missing `log-driver`, `"log-driver": "none"`, or `json-file`/`local` without a `max-size` in `log-opts`.
//!
//! **Why is this bad?** without logs there is no evidence after an incident; unbounded json-file logs fill the disk.
//!
//! **Example:** `{"log-driver": "none"}`
//!
//! **Use instead:** a remote driver (`syslog`, `journald`, `fluentd`…) or `json-file` with `max-size`.
//!
//! **References:** CIS-2.13.
use super::prelude::*;
use crate::daemon::Daemon;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DD007",
    title: "Container logging is not configured",
    severity: Severity::Low,
    target: RuleTarget::Daemon,
    references: &["CIS-2.13"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn daemon(&self, d: &Daemon, out: &mut Sink<'_>) {
        let drv = d.str("log-driver");
        let max = d.get("log-opts").and_then(|o| o.get("max-size")).is_some();
        match drv {
            Some("none") => out.report(d.line_of("log-driver"), 1, "log-driver none discards container logs"),
            None | Some("json-file") | Some("local") if !max => out.report(
                d.line_of("log-driver"),
                1,
                "container logs are local and unbounded: set a remote log-driver or log-opts max-size",
            ),
            _ => {}
        }
    }
}
