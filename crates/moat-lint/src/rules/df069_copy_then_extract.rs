//! DF069 — an archive copied with `COPY`, then extracted with `tar`.
//!
//! **What it does:** reports a `COPY` of a `.tar` (or compressed tar) archive that a
//! later `RUN tar -x…` extracts.
//!
//! **Why is this bad?** the archive stays in a layer next to its contents; `ADD` of a
//! local archive extracts it in one step.
//!
//! **Example:** `COPY app.tar /srv/` then `RUN tar -xf /srv/app.tar`
//!
//! **Use instead:** `ADD app.tar /srv/`
//!
//! **References:** hadolint DL3010.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF069",
    title: "Use ADD for extracting archives into an image",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3010"],
};

const ARCHIVES: &[&str] = &[".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst"];

fn base(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// Words split on whitespace outside double quotes, quotes removed, backslashes kept.
fn raw_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        // The archives each COPY brings in (by file name), and for each name the last
        // instruction whose `tar -x` names it: a COPY is reported when a later tar
        // extracts one of its archives. Linear in the file, however many of each.
        let mut copied: Vec<(usize, &Instruction, Vec<String>)> = Vec::new();
        let mut last_tar: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (idx, (ins, script)) in cx.df.instructions.iter().zip(&cx.scripts).enumerate() {
            if ins.is("COPY") && ins.flag("from").is_none() {
                // Split keeping backslashes (Windows paths), quotes removed.
                let w: Vec<String> = raw_words(&ins.args);
                if w.len() >= 2 {
                    let names: Vec<String> = w
                        .iter()
                        .map(|p| base(p).to_string())
                        .filter(|b| ARCHIVES.iter().any(|e| b.ends_with(e)))
                        .collect();
                    if !names.is_empty() {
                        copied.push((idx, ins, names));
                    }
                }
                continue;
            }
            let Some(s) = script else { continue };
            for c in s.named(&["tar"]) {
                let extract = c.args().iter().any(|a| {
                    a == "--extract" || a == "--get" || (a.starts_with('-') && !a.starts_with("--") && a.contains('x'))
                        || (!a.starts_with('-') && a.len() <= 5 && a.contains('x') && a.chars().all(|ch| ch.is_ascii_alphabetic()))
                });
                if !extract {
                    continue;
                }
                let raw = c.raw.get(1..).unwrap_or(&[]);
                for a in c.args().iter().chain(raw) {
                    last_tar.insert(base(a.trim_matches(['"', '\''])).to_string(), idx);
                }
            }
        }
        for (idx, ins, names) in copied {
            if names.iter().any(|n| last_tar.get(n).is_some_and(|&t| t > idx)) {
                out.at(ins, "the archive is extracted later: ADD extracts a local archive in one step");
            }
        }
    }
}
