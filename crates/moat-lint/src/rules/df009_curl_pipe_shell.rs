//! DF009 — a download piped into a shell.
//!
//! **What it does:** reports `curl …| sh`, `wget -O- …| bash` and the like.
//!
//! **Why is this bad?** the script runs unverified, as root, with whatever the server
//! (or anyone in between) sends today.
//!
//! **Example:** `RUN curl -fsSL https://get.example.com | sh`
//!
//! **Use instead:** download to a file, verify its checksum or signature, then run it.
//!
//! **References:** CWE-494.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF009",
    title: "Remote script piped into a shell",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CWE-494"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let c = &s.commands;
            for w in c.windows(2) {
                if w[0].op_after == "|"
                    && matches!(w[0].name(), "curl" | "wget" | "fetch")
                    && matches!(w[1].name(), "sh" | "bash" | "ash" | "dash" | "zsh" | "ksh" | "python" | "python3" | "perl" | "ruby" | "node")
                {
                    out.at(ins, format!("{} output is piped into {}: verify downloads before running them", w[0].name(), w[1].name()));
                    break;
                }
            }
        }
    }
}
