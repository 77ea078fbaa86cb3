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

/// The variable names a value refers to (`$NAME`, `${NAME…}`), in order.
fn references(v: &str) -> impl Iterator<Item = &str> {
    v.match_indices('$').filter_map(move |(p, _)| {
        let rest = &v[p + 1..];
        let r = rest.strip_prefix('{').unwrap_or(rest);
        let end = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(r.len());
        (end > 0).then(|| &r[..end])
    })
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("ENV")) {
            let w = ins.words();
            // Name -> order of definition: one lookup per reference, so a million
            // pairs cost a million lookups, not a million squared comparisons.
            let mut defined: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
            for pair in &w {
                let Some((n, v)) = pair.split_once('=') else { break };
                let first = references(v).filter_map(|r| defined.get_key_value(r)).min_by_key(|(_, i)| **i);
                if let Some((d, _)) = first {
                    out.at(ins, format!("ENV refers to {d}, defined in the same statement"));
                    break;
                }
                let k = defined.len();
                defined.entry(n).or_insert(k);
            }
        }
    }
}
