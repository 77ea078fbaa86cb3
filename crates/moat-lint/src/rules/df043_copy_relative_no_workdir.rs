//! DF043 — `COPY` to a relative destination without `WORKDIR`.
//!
//! **What it does:** reports `COPY src dest` with a relative `dest` when no `WORKDIR`
//! was set in the stage (or the stages it builds on).
//!
//! **Why is this bad?** files land relative to whatever directory the base image chose.
//!
//! **Example:** `FROM node:22` then `COPY . app`
//!
//! **Use instead:** `WORKDIR /app` first, or an absolute destination.
//!
//! **References:** hadolint DL3045.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF043",
    title: "COPY to a relative destination without WORKDIR set",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3045"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let df = cx.df;
        // Slot 0: instructions before any FROM (a file without one); stage i is slot i+1.
        let mut has_wd = vec![false; df.stages.len() + 1];
        for (ins, _, _) in cx.effective() {
            let st = ins.stage.map_or(0, |s| s + 1);
            if ins.is("FROM") {
                if let Some(p) = ins.stage.and_then(|s| df.stages.get(s)).and_then(|s| s.parent) {
                    has_wd[st] = has_wd[p + 1];
                }
            } else if ins.is("WORKDIR") {
                has_wd[st] = true;
            } else if ins.is("COPY") && !has_wd[st] {
                let w = ins.words();
                let Some(dest) = w.last() else { continue };
                if w.len() < 2 && ins.heredocs.is_empty() {
                    continue;
                }
                let d = crate::dockerfile::unquote(dest);
                let b = d.as_bytes();
                let windows = b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':';
                if !d.starts_with('/') && !d.starts_with('$') && !windows {
                    out.at(ins, format!("COPY to the relative destination {d} without WORKDIR set"));
                }
            }
        }
    }
}
