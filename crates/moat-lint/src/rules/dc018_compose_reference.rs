//! DC018 — a file the compose file refers to is outside the project or was not read.
//!
//! **What it does:** reports `extends: {file: …}`, `env_file` and `.env` that lead
//! outside the compose file's directory, a referenced file that is not a regular file
//! (a FIFO, a device) or is larger than the byte budget, and `extends` chains that go
//! past the depth, file, reference or size budgets (they are not followed further).
//!
//! **Why is this bad?** a compose file from a repository should not pull in host files
//! (`env_file: /etc/…`, `extends: {file: ../../…}`): whoever runs it gets their own
//! host's secrets injected, and a reviewer of the project does not see them. A FIFO or
//! device behind a reference hangs or floods tools that read it.
//!
//! **Example:** `env_file: ../../home/ci/.aws/credentials`
//!
//! **Use instead:** keep referenced files inside the project directory.
//!
//! **References:** CWE-73, CWE-400.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC018",
    title: "Referenced file outside the project or not read",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CWE-73", "CWE-400"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for w in &c.warnings {
            out.report(w.line, 1, w.message.clone());
        }
    }
}
