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
        // PIP_NO_CACHE_DIR set by ENV in each stage (the last value; a stage built on
        // another inherits it).
        let mut env: Vec<Option<bool>> = vec![None; cx.df.stages.len()];
        for ins in cx.df.instructions.iter().filter(|i| i.is("ENV")) {
            if let (Some(st), Some(v)) = (ins.stage, no_cache_value(&ins.args))
                && let Some(slot) = env.get_mut(st)
            {
                *slot = Some(v);
            }
        }
        let inherited = |mut st: Option<usize>| {
            for _ in 0..crate::dockerfile::MAX_INHERIT_DEPTH {
                let i = st?;
                if let Some(v) = env.get(i).copied().flatten() {
                    return Some(v);
                }
                st = cx.df.stages.get(i).and_then(|s| s.parent);
            }
            None
        };
        // ENV values before the RUN only: walk in order. Slot 0 holds the instructions
        // before any FROM; stage i is slot i+1.
        let mut seen: Vec<Option<bool>> = vec![None; cx.df.stages.len() + 1];
        for (ins, _, script) in cx.effective() {
            if ins.is("ENV") {
                if let (st, Some(v)) = (ins.stage.map_or(0, |s| s + 1), no_cache_value(&ins.args))
                    && let Some(slot) = seen.get_mut(st)
                {
                    *slot = Some(v);
                }
                continue;
            }
            let Some(s) = script else { continue };
            let own = seen.get(ins.stage.map_or(0, |s| s + 1)).copied().flatten();
            let parent = ins
                .stage
                .and_then(|st| cx.df.stages.get(st))
                .and_then(|s| s.parent)
                .and_then(|p| inherited(Some(p)));
            // Set in the RUN itself (`PIP_NO_CACHE_DIR=1 pip …`, `export …`).
            let inline = no_cache_value(&ins.args);
            if inline.or(own).or(parent) == Some(true) {
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

/// The value of `PIP_NO_CACHE_DIR=…` in an instruction's text: pip reads `0`, `off`,
/// `no` and `false` as false, anything else as true.
fn no_cache_value(text: &str) -> Option<bool> {
    let at = text.rfind("PIP_NO_CACHE_DIR")?;
    let rest = text[at + "PIP_NO_CACHE_DIR".len()..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    let v: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    Some(!matches!(v.to_ascii_lowercase().as_str(), "0" | "off" | "no" | "false"))
}
