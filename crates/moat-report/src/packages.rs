//! moat's own package listing: JSON (the inventory as is) and a text table.

use crate::ReportError;
use crate::table::esc;
use moat_model::Inventory;
use std::io::Write;

/// `{"distro": ..., "packages": [...], "unknowns": [...]}`, pretty-printed.
pub fn json(inv: &Inventory, w: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *w, inv)?;
    writeln!(w)?;
    Ok(())
}

/// One line per package: NAME, VERSION, TYPE, LOCATION; unknowns after.
pub fn table(inv: &Inventory, w: &mut dyn Write) -> Result<(), ReportError> {
    let rows: Vec<[String; 4]> = inv
        .packages
        .iter()
        .map(|p| {
            [
                esc(&p.name),
                esc(&p.version),
                p.ecosystem.to_string(),
                p.locations
                    .first()
                    .map(|l| esc(&l.path))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let head = ["NAME", "VERSION", "TYPE", "LOCATION"].map(str::to_string);
    let mut width = head.clone().map(|h| h.chars().count());
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    for r in std::iter::once(&head).chain(rows.iter()) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2]
        );
        writeln!(w, "{}", line.trim_end())?;
    }
    if let Some(d) = &inv.distro {
        writeln!(w, "\ndistro: {} {}", esc(&d.id), esc(&d.version_id))?;
    }
    if !inv.unknowns.is_empty() {
        writeln!(w, "\nunknowns ({}):", inv.unknowns.len())?;
        for u in &inv.unknowns {
            writeln!(w, "  {}: {}", esc(&u.location.path), esc(&u.reason))?;
        }
    }
    Ok(())
}
