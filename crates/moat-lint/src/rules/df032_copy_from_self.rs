//! DF032 — `COPY --from` names its own stage.
//!
//! **What it does:** reports `COPY --from=X` inside the stage named `X`.
//!
//! **Why is this bad?** a stage cannot copy from itself; the build fails.
//!
//! **Example:** `FROM alpine AS a` … `COPY --from=a /x /y`
//!
//! **Use instead:** copy from a different, earlier stage.
//!
//! **References:** hadolint DL3023, Trivy DS006.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF032",
    title: "COPY --from cannot reference its own FROM alias",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3023", "DS006"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let df = cx.df;
        for ins in df.instructions.iter().filter(|i| i.is("COPY")) {
            let (Some(from), Some(st)) = (ins.flag_value("from"), ins.stage) else { continue };
            if df.stages.get(st).and_then(|s| s.name.as_deref()) == Some(from.to_ascii_lowercase().as_str()) {
                out.at(ins, format!("COPY --from={from} references its own stage"));
            }
        }
    }
}
