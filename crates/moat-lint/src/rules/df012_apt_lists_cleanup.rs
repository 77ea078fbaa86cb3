//! DF012 — apt lists not deleted after `apt-get update`.
//!
//! **What it does:** reports a `RUN` that runs `apt-get update` without removing
//! `/var/lib/apt/lists` in the same step (a cache mount on that directory is fine).
//!
//! **Why is this bad?** the package lists bloat the layer and freeze stale metadata into
//! the image.
//!
//! **Example:** `RUN apt-get update && apt-get install -y curl`
//!
//! **Use instead:** `… && rm -rf /var/lib/apt/lists/*`
//!
//! **References:** hadolint DL3009, Dockle DKL-DI-0005.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF012",
    title: "Delete the apt lists after installing",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3009", "DKL-DI-0005"],
};

pub(crate) fn has_cache_mount(ins: &Instruction, dir: &str) -> bool {
    ins.flags.iter().any(|f| {
        f.name == "mount"
            && f.value.as_deref().is_some_and(|v| {
                (v.contains("type=cache") || v.contains("type=tmpfs"))
                    && v.split(',').any(|kv| {
                        matches!(kv.split_once('='), Some(("target" | "dst" | "destination", t)) if t.trim_end_matches('/') == dir)
                    })
            })
    })
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, onbuild, s) in cx.effective() {
            let Some(s) = s else { continue };
            // An ONBUILD RUN runs in the child image, whichever stage holds it.
            if !onbuild && !cx.stage_ships(ins.stage) {
                continue;
            }
            let update = super::apt_sub(s, &["apt-get"], "update").next().is_some();
            // The lists in a cache mount never reach the layer: a mount of the lists
            // directory, or (as hadolint) of both apt directories.
            let cached = has_cache_mount(ins, "/var/lib/apt/lists")
                || (has_cache_mount(ins, "/var/lib/apt") && has_cache_mount(ins, "/var/cache/apt"));
            if !update || cached {
                continue;
            }
            let cleaned = s.named(&["rm"]).any(|c| {
                c.args().iter().any(|a| a.starts_with("/var/lib/apt/lists"))
            });
            // `apt-get dist-clean` (apt >= 2.7) removes the lists too.
            let cleaned = cleaned || super::apt_sub(s, &["apt-get"], "dist-clean").next().is_some();
            if !cleaned {
                out.at(ins, "delete the apt lists (/var/lib/apt/lists) after installing something");
            }
        }
    }
}
