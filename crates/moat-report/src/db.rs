//! Text output of `moat db import` and `moat db status`. The binary turns moat-db's
//! reports into these views (moat-report sits beside moat-db, not above it); JSON output
//! is the reports serialised as they are.

use moat_model::escape_control;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One input of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportView {
    /// The input as given (path or URL).
    pub location: String,
    /// Advisories stored, per source (`osv`, `alpine-secdb`).
    pub stored: BTreeMap<String, usize>,
    /// Advisories stored in all.
    pub total: usize,
    pub withdrawn: usize,
    pub git_ranges: usize,
    /// Advisories skipped whole.
    pub skipped: Vec<SkippedView>,
    /// CVE records stored, per format.
    pub other_records: BTreeMap<String, usize>,
    /// Per source: records read and skipped by reason.
    pub sources: BTreeMap<String, SourceView>,
}

/// An advisory skipped whole.
#[derive(Debug, Clone, Default)]
pub struct SkippedView {
    /// The file (or `archive.zip!entry`) it came from.
    pub location: String,
    pub id: Option<String>,
    pub reason: String,
}

/// What one source of an import gave.
#[derive(Debug, Clone, Default)]
pub struct SourceView {
    pub records: usize,
    /// Records skipped, per reason.
    pub skipped: BTreeMap<String, usize>,
}

/// `moat db import`'s table output: one summary per input (with `verbose`, every skipped
/// advisory under its source), then the database's total.
pub fn import_text(
    out: &mut dyn Write,
    imports: &[ImportView],
    verbose: bool,
    database: &str,
    advisories: i64,
) -> io::Result<()> {
    for r in imports {
        import_one(out, r, verbose)?;
    }
    writeln!(out, "database {database}: {advisories} advisories")
}

fn import_one(out: &mut dyn Write, r: &ImportView, verbose: bool) -> io::Result<()> {
    let per: Vec<String> = r.stored.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        out,
        "{}: stored {} ({}), skipped {}, withdrawn {}, git ranges ignored {}",
        r.location,
        r.total,
        if per.is_empty() {
            "none".into()
        } else {
            per.join(", ")
        },
        r.skipped.len(),
        r.withdrawn,
        r.git_ranges
    )?;
    if !r.other_records.is_empty() {
        let other: Vec<String> = r
            .other_records
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(out, "  CVE records (ratings, KEV): {}", other.join(", "))?;
    }
    // One line per source: records, and skipped records by reason.
    for (source, sum) in &r.sources {
        let mut line = format!("  {source}: {} records", sum.records);
        if !sum.skipped.is_empty() {
            let reasons: Vec<String> = sum
                .skipped
                .iter()
                .map(|(why, n)| format!("{why} {n}"))
                .collect();
            line.push_str(&format!(
                ", skipped {} ({})",
                sum.skipped.values().sum::<usize>(),
                reasons.join(", ")
            ));
        }
        writeln!(out, "{}", escape_control(&line))?;
        if verbose {
            for s in r.skipped.iter().filter(|s| {
                s.location == *source
                    || s.location
                        .strip_prefix(source.as_str())
                        .is_some_and(|rest| rest.starts_with('!') || rest.starts_with('/'))
            }) {
                let line = format!(
                    "    skipped {} ({}): {}",
                    s.id.as_deref().unwrap_or("-"),
                    s.location,
                    s.reason
                );
                writeln!(out, "{}", escape_control(&line))?;
            }
        }
    }
    Ok(())
}

/// The database as `moat db status` shows it, times already formatted.
#[derive(Debug, Clone, Default)]
pub struct StatusView {
    pub path: String,
    pub schema_version: i64,
    pub size_bytes: u64,
    /// (when, how long ago), formatted; `None`: never updated.
    pub last_update: Option<(String, String)>,
    pub advisories: i64,
    pub withdrawn: i64,
    pub sources: BTreeMap<String, i64>,
    pub ecosystems: BTreeMap<String, i64>,
    pub cve_records: BTreeMap<String, i64>,
    pub origins: Vec<OriginView>,
}

/// Where the database's content came from.
#[derive(Debug, Clone, Default)]
pub struct OriginView {
    pub location: String,
    pub kind: String,
    pub records: i64,
    pub skipped: i64,
    /// When it was last fetched, formatted.
    pub fetched: String,
}

/// `moat db status`'s table output.
pub fn status_text(out: &mut dyn Write, s: &StatusView) -> io::Result<()> {
    writeln!(out, "path:           {}", s.path)?;
    writeln!(out, "schema version: {}", s.schema_version)?;
    writeln!(out, "size:           {} bytes", s.size_bytes)?;
    match &s.last_update {
        Some((t, age)) => writeln!(out, "last update:    {t} ({age} ago)")?,
        None => writeln!(out, "last update:    never")?,
    }
    writeln!(
        out,
        "advisories:     {} ({} withdrawn)",
        s.advisories, s.withdrawn
    )?;
    writeln!(out, "sources:")?;
    for (k, v) in &s.sources {
        writeln!(out, "  {k:<28} {v:>8}")?;
    }
    writeln!(out, "ecosystems:")?;
    for (k, v) in &s.ecosystems {
        writeln!(out, "  {k:<28} {v:>8}")?;
    }
    if !s.cve_records.is_empty() {
        writeln!(out, "CVE records (ratings, KEV):")?;
        for (k, v) in &s.cve_records {
            writeln!(out, "  {k:<28} {v:>8}")?;
        }
    }
    writeln!(out, "origins:")?;
    for o in &s.origins {
        writeln!(
            out,
            "  {} ({}): {} records, {} skipped, fetched {}",
            o.location, o.kind, o.records, o.skipped, o.fetched
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_summary_and_verbose_skips() {
        let r = ImportView {
            location: "all.zip".into(),
            stored: [("osv".to_string(), 2)].into(),
            total: 2,
            withdrawn: 1,
            git_ranges: 3,
            skipped: vec![SkippedView {
                location: "all.zip!GO-1.json".into(),
                id: Some("GO-1".into()),
                reason: "bad\u{1b}[31m".into(),
            }],
            other_records: BTreeMap::new(),
            sources: [(
                "all.zip".to_string(),
                SourceView {
                    records: 3,
                    skipped: [("invalid version".to_string(), 1)].into(),
                },
            )]
            .into(),
        };
        let mut out = Vec::new();
        import_text(&mut out, &[r], true, "/db", 2).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "all.zip: stored 2 (osv 2), skipped 1, withdrawn 1, git ranges ignored 3\n\
             \x20 all.zip: 3 records, skipped 1 (invalid version 1)\n\
             \x20   skipped GO-1 (all.zip!GO-1.json): bad\\x1b[31m\n\
             database /db: 2 advisories\n"
        );
    }

    #[test]
    fn status_never_updated() {
        let s = StatusView {
            path: "/db".into(),
            schema_version: 3,
            size_bytes: 10,
            ..Default::default()
        };
        let mut out = Vec::new();
        status_text(&mut out, &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("last update:    never\n"), "{text}");
        assert!(text.ends_with("origins:\n"), "{text}");
    }
}
