//! DF039 — pipe in `RUN` without `pipefail`.
//!
//! **What it does:** reports a `RUN` with a pipe when no `SHELL ["/bin/bash", "-o",
//! "pipefail", "-c"]` is in force in the stage (non-POSIX shells such as PowerShell
//! are exempt).
//!
//! **Why is this bad?** `/bin/sh -c` only fails when the last command of the pipe
//! fails: `curl … | tar x` succeeds with a failed download.
//!
//! **Example:** `RUN wget -O - https://x | tar xz`
//!
//! **Use instead:** `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` first.
//!
//! **References:** hadolint DL4006.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF039",
    title: "Set -o pipefail before RUN with a pipe",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL4006"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        // `# hadolint shell=pwsh`: the default shell is not a POSIX one.
        let pragma_safe = cx.df.comments.iter().any(|(_, c)| {
            c.trim()
                .strip_prefix("hadolint")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix("shell"))
                .and_then(|r| r.trim_start().strip_prefix('='))
                .and_then(|r| r.split_whitespace().next())
                .is_some_and(|sh| !is_posix(sh))
        });
        let mut stage = None;
        let mut safe = pragma_safe;
        for (ins, script) in cx.df.instructions.iter().zip(&cx.scripts) {
            if ins.stage != stage {
                stage = ins.stage;
                safe = pragma_safe;
            }
            if ins.is("SHELL") {
                let w = ins.words();
                let sh = w.first().map(|s| s.to_ascii_lowercase()).unwrap_or_default();
                let base = sh.rsplit(['/', '\\']).next().unwrap_or(&sh);
                // As hadolint: only bash, zsh and ash (and ksh) honour `-o pipefail`;
                // PowerShell and cmd have no such option to set.
                let pipefail = matches!(base, "bash" | "zsh" | "ash" | "ksh" | "mksh")
                    && (w.windows(2).any(|p| {
                        p[0].starts_with('-') && !p[0].starts_with("--") && p[0].ends_with('o') && p[1] == "pipefail"
                    }) || w.iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains("pipefail")));
                safe = !is_posix(base) || pipefail;
                continue;
            }
            let Some(s) = script else { continue };
            if !safe && ins.json.is_none() && s.has_pipe() {
                out.at(ins, "set the SHELL option -o pipefail before RUN with a pipe in it");
            }
        }
    }
}

/// A POSIX shell (by its name without path): sh, bash, ash, dash, zsh, ksh.
fn is_posix(sh: &str) -> bool {
    let base = sh.rsplit(['/', '\\']).next().unwrap_or(sh).to_ascii_lowercase();
    matches!(base.as_str(), "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "mksh" | "busybox")
}
