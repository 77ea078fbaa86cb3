//! DF046 — `useradd` with a high UID and without `-l`.
//!
//! **What it does:** reports `useradd -u <UID>` with a UID of more than 5 digits and
//! without `-l`/`--no-log-init`.
//!
//! **Why is this bad?** `/var/log/lastlog` and `faillog` become sparse files of
//! gigabytes, which layers store in full.
//!
//! **Example:** `RUN useradd -u 123456 app`
//!
//! **Use instead:** `RUN useradd -l -u 123456 app`
//!
//! **References:** hadolint DL3046.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF046",
    title: "useradd without -l and a high UID",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3046"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.named(&["useradd"]).any(|c| {
                let a = c.args();
                let uid = a.iter().position(|w| w == "-u" || w == "--uid").and_then(|p| a.get(p + 1)).or_else(|| {
                    a.iter().find(|w| w.starts_with("--uid="))
                });
                let high = uid.is_some_and(|u| {
                    let u = u.trim_start_matches("--uid=");
                    u.len() > 5 && u.chars().all(|c| c.is_ascii_digit())
                });
                high && !c.has_flag(Some('l'), &["no-log-init"])
            });
            if bad {
                out.at(ins, "useradd without -l and a high UID creates a huge lastlog file");
            }
        }
    }
}
