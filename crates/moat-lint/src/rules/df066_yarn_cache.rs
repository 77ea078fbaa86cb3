//! DF066 — `yarn install` without `yarn cache clean`.
//!
//! **What it does:** reports a `RUN` that runs `yarn install` and not `yarn cache clean`,
//! in a stage that ends up in an image (the last one, or one another stage builds on),
//! or inside `ONBUILD`.
//!
//! **Why is this bad?** yarn's cache stays in the layer.
//!
//! **Example:** `RUN yarn install`
//!
//! **Use instead:** `RUN yarn install && yarn cache clean`
//!
//! **References:** hadolint DL3060.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF066",
    title: "yarn cache clean missing after yarn install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3060"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, onbuild, s) in cx.effective() {
            let Some(s) = s else { continue };
            if !onbuild && !cx.stage_ships(ins.stage) {
                continue;
            }
            let install = s.named(&["yarn"]).any(|c| c.args().first().is_some_and(|a| a == "install"));
            let clean = s.named(&["yarn"]).any(|c| {
                c.args().first().is_some_and(|a| a == "cache") && c.args().get(1).is_some_and(|a| a == "clean")
            });
            if install && !clean && !super::df012_apt_lists_cleanup::has_cache_mount(ins, "/usr/local/share/.cache/yarn") {
                out.at(ins, "run yarn cache clean after yarn install");
            }
        }
    }
}
