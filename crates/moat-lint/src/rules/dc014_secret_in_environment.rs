//! DC014 — Secret in environment.
//!
//! **What it does:** reports `environment` entries whose name looks like a credential and whose value is a literal.
//!
//! **Why is this bad?** environment variables are visible in `docker inspect`, to every process in the container and in logs; compose files end up in version control.
//!
//! **Example:** `environment: [DB_PASSWORD=hunter2]`
//!
//! **Use instead:** use compose `secrets:` (files mounted at /run/secrets) or `*_FILE` variables.
//!
//! **References:** CIS-5.x, CWE-798.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC014",
    title: "Secret in environment",
    severity: Severity::High,
    target: RuleTarget::Compose,
    references: &["CWE-798"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let Some(env) = s.get("environment") else { continue };
            for (k, v, line) in env.key_values() {
                if super::df007_secret_env_arg::is_secret_name(&k) && v.as_deref().is_some_and(super::df007_secret_env_arg::is_literal_value) {
                    out.report(line, 1, format!("service {} sets secret {k} in its environment", s.name));
                }
            }
        }
    }
}
