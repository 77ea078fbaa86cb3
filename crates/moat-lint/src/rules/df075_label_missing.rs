//! DF075 — Label missing.
//!
//! **What it does:** with a label schema (`label-schema:` in `.hadolint.yaml`), reports each stage that does not set every label of the schema (a stage built on another inherits its labels).
//!
//! **Why is this bad?** images without their required labels cannot be traced to a source, owner or licence.
//!
//! **Example:** `FROM alpine:3.20` without `LABEL maintainer=…`
//!
//! **Use instead:** `LABEL maintainer="team@example.com"`
//!
//! **References:** hadolint DL3049.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF075",
    title: "Label missing",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3049"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let schema = &cx.config.label_schema;
        if schema.is_empty() {
            return;
        }
        let n = cx.df.stages.len();
        let mut own: Vec<std::collections::BTreeSet<String>> = vec![Default::default(); n];
        for (ins, _, _) in cx.effective() {
            if ins.is("LABEL")
                && let Some(set) = ins.stage.and_then(|s| own.get_mut(s))
            {
                set.extend(super::labels::pairs(ins).into_iter().map(|(k, _)| k));
            }
        }
        for (i, st) in cx.df.stages.iter().enumerate() {
            let has = |k: &str| {
                let mut at = Some(i);
                for _ in 0..crate::dockerfile::MAX_INHERIT_DEPTH {
                    let Some(j) = at else { return false };
                    if own[j].contains(k) {
                        return true;
                    }
                    at = cx.df.stages.get(j).and_then(|s| s.parent);
                }
                false
            };
            if let Some(k) = schema.keys().find(|k| !has(k)) {
                out.report(st.line, 1, format!("label {k} is missing"));
            }
        }
    }
}
