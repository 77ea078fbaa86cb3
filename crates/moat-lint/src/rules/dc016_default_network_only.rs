//! DC016 — every service is on the default network.
//!
//! **What it does:** reports a compose file with several services where none declares
//! `networks` (or `network_mode`): they all share the one default network.
//!
//! **Why is this bad?** no segmentation: a compromised front end reaches the database
//! and every other service directly.
//!
//! **Example:** `web`, `api` and `db` with no `networks:`.
//!
//! **Use instead:** a `frontend` and a `backend` network; only `api` joins both.
//!
//! **References:** CIS Docker 5.x (network segmentation), CWE-923.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC016",
    title: "Every service on the default network",
    severity: Severity::Low,
    target: RuleTarget::Compose,
    references: &["CWE-923"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        if c.services.len() < 2 {
            return;
        }
        if c.services.iter().all(|s| s.get("networks").is_none() && s.get("network_mode").is_none()) {
            out.report(c.services_line, 1, format!("all {} services share the default network: segment them with networks", c.services.len()));
        }
    }
}
