//! DF005 — `ADD` downloads a URL without a checksum.
//!
//! **What it does:** reports `ADD https://…` (or `git@…`) without `--checksum`.
//!
//! **Why is this bad?** the content is fetched at build time and not verified: a
//! compromised server or a man in the middle puts anything into the image.
//!
//! **Example:** `ADD https://example.com/tool.tar.gz /opt/`
//!
//! **Use instead:** `ADD --checksum=sha256:… https://…` or `RUN curl … && sha256sum -c`.
//!
//! **References:** CIS Docker 4.9, CWE-494.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF005",
    title: "ADD of a remote URL without a checksum",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.9", "CWE-494"],
    aliases: &[],
};

pub(crate) fn is_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://") || l.starts_with("git@") || l.starts_with("ftp://")
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("ADD")) {
            if ins.flag("checksum").is_some() {
                continue;
            }
            let w = ins.words();
            let srcs = w.len().saturating_sub(1);
            if let Some(u) = w[..srcs].iter().find(|s| is_url(s)) {
                out.at(ins, format!("ADD downloads {u} without --checksum"));
            }
        }
    }
}
