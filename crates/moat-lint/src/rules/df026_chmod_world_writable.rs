//! DF026 — world-writable permissions (`chmod 777`).
//!
//! **What it does:** reports `chmod` with a mode that gives write to everyone
//! (`777`, `666`, `o+w`, `a+w`) in `RUN`, and `COPY`/`ADD --chmod` with such a mode.
//!
//! **Why is this bad?** any process in the container, whatever its user, can replace
//! those files: a privilege-escalation and tampering path.
//!
//! **Example:** `RUN chmod -R 777 /app`
//!
//! **Use instead:** give ownership to the service user and use `755`/`644`.
//!
//! **References:** CWE-732.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF026",
    title: "World-writable file permissions",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &["CWE-732"],
    aliases: &[],
};

/// Does a chmod mode grant write to "others"?
pub fn world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_digit(8)) {
        return mode.chars().last().and_then(|c| c.to_digit(8)).is_some_and(|d| d & 2 != 0);
    }
    mode.split(',').any(|clause| {
        let (who, rest) = clause.split_at(clause.find(['+', '=']).unwrap_or(clause.len()));
        (who.is_empty() || who.contains('o') || who.contains('a')) && rest.starts_with(['+', '=']) && rest.contains('w') && !who.is_empty()
    })
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, script) in cx.df.instructions.iter().zip(&cx.scripts) {
            if let Some(m) = ins.flag_value("chmod")
                && world_writable(m) {
                    out.at(ins, format!("{} --chmod={m} makes files world-writable", ins.keyword));
                }
            let Some(s) = script else { continue };
            if let Some(m) = s
                .named(&["chmod"])
                .find_map(|c| c.positional().next().filter(|m| world_writable(m)).cloned())
            {
                out.at(ins, format!("chmod {m} makes files world-writable"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn modes() {
        use super::world_writable as w;
        assert!(w("777") && w("0666") && w("o+w") && w("a+rwx"));
        assert!(!w("755") && !w("u+x") && !w("+x") && !w("g+w"));
    }
}
