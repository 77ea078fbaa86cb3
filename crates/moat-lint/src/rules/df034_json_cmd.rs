//! DF034 — `CMD`/`ENTRYPOINT` in shell form.
//!
//! **What it does:** reports `CMD` and `ENTRYPOINT` not written as a JSON array.
//!
//! **Why is this bad?** the shell form runs the process under `/bin/sh -c`, so it is not
//! PID 1 and does not receive `SIGTERM`: containers are killed instead of stopped.
//!
//! **Example:** `CMD node server.js`
//!
//! **Use instead:** `CMD ["node", "server.js"]`
//!
//! **References:** hadolint DL3025.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF034",
    title: "Use JSON notation for CMD and ENTRYPOINT",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3025", "JSONArgsRecommended"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("CMD") || i.is("ENTRYPOINT")) {
            if ins.json.is_none() && !ins.args.trim().is_empty() {
                out.at(ins, format!("use JSON notation for {} arguments", ins.keyword));
            }
        }
        // `HEALTHCHECK CMD` in shell form has the same signal problem.
        for ins in cx.df.instructions.iter().filter(|i| i.is("HEALTHCHECK")) {
            let a = ins.args.trim_start();
            if let Some(rest) = a.get(..3).filter(|k| k.eq_ignore_ascii_case("CMD")).map(|_| a[3..].trim())
                && crate::dockerfile::parse_json_array(rest).is_none() && !rest.is_empty() {
                    out.at(ins, "use JSON notation for HEALTHCHECK CMD arguments");
                }
        }
    }
}
