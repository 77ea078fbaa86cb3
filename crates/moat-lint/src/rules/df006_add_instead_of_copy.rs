//! DF006 — `ADD` used for plain files and folders.
//!
//! **What it does:** reports `ADD` whose sources are neither URLs nor archives.
//!
//! **Why is this bad?** `ADD` has surprising magic (URL fetching, auto-extraction);
//! `COPY` does only what it says (CIS Docker Benchmark 4.9).
//!
//! **Example:** `ADD app.py /app/`
//!
//! **Use instead:** `COPY app.py /app/`
//!
//! **References:** CIS Docker 4.9, hadolint DL3020, Trivy DS005, Dockle CIS-DI-0009.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF006",
    title: "Use COPY instead of ADD for files and folders",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.9"],
    aliases: &["DL3020", "DS005", "CIS-DI-0009"],
};

pub(crate) fn is_archive(s: &str) -> bool {
    const EXT: &[&str] = &[
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tb2", ".tar.xz", ".txz",
        ".tar.lz", ".tlz", ".tar.lzma", ".tar.z", ".tz", ".gz", ".bz2", ".xz", ".lz", ".lzma", ".z",
        ".zst", ".tar.zst",
    ];
    let l = s.to_ascii_lowercase();
    EXT.iter().any(|e| l.ends_with(e))
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("ADD")) {
            if !ins.heredocs.is_empty() {
                continue;
            }
            let w = ins.words();
            let srcs = &w[..w.len().saturating_sub(1)];
            if srcs
                .iter()
                .any(|s| !super::df005_add_url::is_url(s) && !is_archive(s))
            {
                out.at(ins, "use COPY instead of ADD for files and folders");
            }
        }
    }
}
