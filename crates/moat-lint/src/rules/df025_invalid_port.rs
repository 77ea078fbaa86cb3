//! DF025 — `EXPOSE` of a port outside 0–65535.
//!
//! **What it does:** reports `EXPOSE` values that are not valid UNIX ports.
//!
//! **Why is this bad?** the build fails or the port is silently wrong.
//!
//! **Example:** `EXPOSE 80000`
//!
//! **Use instead:** a port in 0–65535.
//!
//! **References:** hadolint DL3011, Trivy DS008.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF025",
    title: "Valid UNIX ports range from 0 to 65535",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3011", "DS008"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("EXPOSE")) {
            let words = match &ins.expanded {
                Some(e) => crate::dockerfile::split_words(e),
                None => ins.words(),
            };
            for w in words {
                if w.contains('$') {
                    continue;
                }
                if let Some((a, b)) = super::df024_sensitive_port::port_range(&w)
                    && (a > 65535 || b > 65535) {
                        out.at(ins, format!("EXPOSE {w}: valid ports are 0-65535"));
                    }
            }
        }
    }
}
