//! DF019 — `pip install` keeps its cache.
//!
//! **What it does:** reports `pip install` without `--no-cache-dir`, unless
//! `PIP_NO_CACHE_DIR` is set with `ENV` or a cache mount covers pip's cache.
//!
//! **Why is this bad?** downloaded wheels stay in the layer.
//!
//! **Example:** `RUN pip install -r requirements.txt`
//!
//! **Use instead:** `RUN pip install --no-cache-dir -r requirements.txt`
//!
//! **References:** hadolint DL3042.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF019",
    title: "Use pip install --no-cache-dir",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3042"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        let mut env_stage: Option<Option<usize>> = None;
        for (ins, script) in cx.df.instructions.iter().zip(&cx.scripts) {
            if ins.is("ENV") && ins.args.contains("PIP_NO_CACHE_DIR") {
                env_stage = Some(ins.stage);
            }
            let Some(s) = script else { continue };
            if env_stage == Some(ins.stage) {
                continue;
            }
            if ins.flags.iter().any(|f| f.name == "mount" && f.value.as_deref().is_some_and(|v| v.contains("type=cache") && v.contains(".cache/pip"))) {
                continue;
            }
            let bad = s.commands.iter().any(|c| {
                super::df018_pip_pin::pip_install(c).is_some()
                    && !c.has_flag(None, &["no-cache-dir"])
            });
            if bad {
                out.at(ins, "avoid the pip cache: use pip install --no-cache-dir");
            }
        }
    }
}
