//! DF031 — `COPY --from` names no earlier stage.
//!
//! **What it does:** reports `COPY --from=X` where `X` is neither an earlier stage name,
//! a stage index, nor an image reference with a tag (`name:tag`).
//!
//! **Why is this bad?** a typo silently pulls an image of that name from a registry.
//!
//! **Example:** `COPY --from=biulder /app /app`
//!
//! **Use instead:** name the stage (`FROM golang:1.23 AS builder`) and refer to it.
//!
//! **References:** hadolint DL3022.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF031",
    title: "COPY --from should reference a previously defined FROM alias",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3022"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let df = cx.df;
        for ins in df.instructions.iter().filter(|i| i.is("COPY")) {
            let Some(from) = ins.flag_value("from") else { continue };
            let f = from.to_ascii_lowercase();
            if f.contains(':') || f.contains('$') || f.parse::<usize>().is_ok() {
                continue;
            }
            let cur = ins.stage.unwrap_or(0);
            // Its own stage is DF032's business.
            if df.stages.get(cur).and_then(|s| s.name.as_deref()) == Some(f.as_str()) {
                continue;
            }
            let known = cx.named_before(&f, cur.min(df.stages.len()));
            if !known {
                out.at(ins, format!("COPY --from={from} names no earlier stage"));
            }
        }
    }
}
