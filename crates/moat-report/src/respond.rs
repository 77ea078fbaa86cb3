//! `moat respond`'s output: the action records of one run, and the check of an evidence
//! bundle (`moat respond verify`), as a table or JSON.

use crate::table::esc;
use moat_model::response::{ActionRecord, BundleCheck, RespondReport};
use std::io::{self, Write};

fn new_table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The records as JSON (one object: `{"actions": [...], "log": "..."}`).
pub fn json(r: &RespondReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r).map_err(io::Error::other)?;
    writeln!(w)
}

/// One block per action: a headline, its steps, its notes.
pub fn table(r: &RespondReport, w: &mut dyn Write) -> io::Result<()> {
    for a in &r.actions {
        action(a, w)?;
    }
    if !r.log.is_empty() {
        writeln!(w, "logged to {}", esc(&r.log))?;
    }
    Ok(())
}

fn action(a: &ActionRecord, w: &mut dyn Write) -> io::Result<()> {
    let who = if a.container.name.is_empty() || a.container.name == a.container.id {
        esc(&a.container.id)
    } else {
        format!(
            "{} ({})",
            esc(&a.container.name),
            esc(short(&a.container.id))
        )
    };
    writeln!(
        w,
        "{} {}: {}{}",
        a.action.as_str().to_uppercase(),
        who,
        a.outcome.as_str().to_uppercase(),
        if a.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    )?;
    if let Some(reason) = &a.reason {
        writeln!(w, "  reason: {}", esc(reason))?;
    }
    if !a.steps.is_empty() {
        let mut t = new_table();
        t.set_header(["STEP", "RESULT"]);
        for s in &a.steps {
            t.add_row([esc(&s.description), esc(&s.result)]);
        }
        writeln!(w, "{t}")?;
    }
    for n in &a.notes {
        writeln!(w, "  note: {}", esc(n))?;
    }
    if let Some(e) = &a.error {
        writeln!(w, "  error: {}", esc(e))?;
    }
    if let Some(ev) = &a.evidence {
        writeln!(
            w,
            "  evidence: {} ({} files, {} bytes, sha256 {}, chain head {})",
            esc(&ev.path),
            ev.files,
            ev.bytes,
            esc(&ev.sha256),
            esc(&ev.chain_head)
        )?;
    }
    writeln!(
        w,
        "  record {} by {} on {}",
        esc(&a.id),
        esc(&a.operator),
        esc(&a.host)
    )?;
    Ok(())
}

/// The check of a bundle as JSON.
pub fn verify_json(c: &BundleCheck, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, c).map_err(io::Error::other)?;
    writeln!(w)
}

/// The check of a bundle: the verdict, what the manifest says, every problem.
pub fn verify_table(c: &BundleCheck, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "{} {}: {} files ({} bytes) match the manifest",
        if c.ok { "VERIFIED" } else { "FAILED" },
        esc(&c.bundle),
        c.verified,
        c.bytes
    )?;
    if !c.file_sha256.is_empty() {
        writeln!(
            w,
            "  sha256 {}{}",
            esc(&c.file_sha256),
            match &c.recorded_sha256 {
                Some(r) if r.eq_ignore_ascii_case(&c.file_sha256) => {
                    " (as recorded in the action log)".to_string()
                }
                Some(r) => format!(" (the action log recorded {})", esc(r)),
                None => " (no record of it in the action log)".to_string(),
            }
        )?;
        match &c.sidecar_sha256 {
            Some(s) if s.eq_ignore_ascii_case(&c.file_sha256) => {
                writeln!(w, "  matches its .sha256 file")?
            }
            Some(s) => writeln!(w, "  its .sha256 file says {}", esc(s))?,
            None => writeln!(w, "  no .sha256 file beside it")?,
        }
    }
    if let Some(m) = &c.manifest {
        writeln!(
            w,
            "  container {} ({}), image {}",
            esc(&m.container.name),
            esc(short(&m.container.id)),
            esc(&m.container.image)
        )?;
        writeln!(
            w,
            "  taken {} .. {} on {} by {} with moat {} (read {}), chain head {}",
            esc(&m.started),
            esc(&m.finished),
            esc(&m.host),
            esc(&m.operator),
            esc(&m.moat_version),
            if m.read_paused { "paused" } else { "running" },
            esc(&m.chain_head)
        )?;
        if let Some(r) = &m.reason {
            writeln!(w, "  reason: {}", esc(r))?;
        }
    }
    if !c.problems.is_empty() {
        let mut t = new_table();
        t.set_header(["PROBLEM"]);
        for p in &c.problems {
            t.add_row([esc(p)]);
        }
        writeln!(w, "{t}")?;
    }
    Ok(())
}
