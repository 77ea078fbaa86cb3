//! DF056 — `ENV` refers to a variable it defines in the same instruction.
//!
//! **What it does:** reports `ENV A=1 B=$A` (the reference sees the old value of `A`).
//!
//! **Why is this bad?** the result is not what it looks like.
//!
//! **Example:** `ENV PATH=/opt/bin BIN=$PATH/x`
//!
//! **Use instead:** split it into two `ENV` instructions.
//!
//! **References:** hadolint DL3044.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF056",
    title: "Do not refer to an environment variable within the same ENV statement where it is defined",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3044"],
};

fn refers(v: &str, name: &str) -> bool {
    let mut i = 0;
    while let Some(p) = v[i..].find('$') {
        let rest = &v[i + p + 1..];
        let r = rest.strip_prefix('{').unwrap_or(rest);
        if r.starts_with(name) && !r[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            return true;
        }
        i += p + 1;
    }
    false
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("ENV")) {
            let w = ins.words();
            let mut defined: Vec<&str> = Vec::new();
            for pair in &w {
                let Some((n, v)) = pair.split_once('=') else { break };
                if let Some(d) = defined.iter().find(|d| refers(v, d)) {
                    out.at(ins, format!("ENV refers to {d}, defined in the same statement"));
                    break;
                }
                defined.push(n);
            }
        }
    }
}
