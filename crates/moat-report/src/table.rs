//! The human table: findings grouped by package, with the layer that brought each
//! package in, then a summary by severity.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use moat_model::Report as ScanReport;
use moat_model::VulnFinding;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Input-controlled text made safe for a terminal (control characters escaped).
pub(crate) fn esc(s: &str) -> String {
    moat_model::escape_control(s).into_owned()
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The scan report as a table.
pub fn scan(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    let target = match &r.distro {
        Some(d) if !d.pretty_name.is_empty() => format!("{} ({})", r.source, d.pretty_name),
        Some(d) => format!("{} ({} {})", r.source, d.id, d.version_id),
        None => r.source.clone(),
    };
    let target = esc(&target);
    writeln!(w, "{target}")?;
    writeln!(
        w,
        "Packages: {}   Vulnerabilities: {} (CRITICAL: {}, HIGH: {}, MEDIUM: {}, LOW: {}, UNKNOWN: {})   Ignored: {}",
        r.summary.packages,
        r.summary.total,
        r.summary.critical,
        r.summary.high,
        r.summary.medium,
        r.summary.low,
        r.summary.unknown,
        r.summary.ignored
    )?;
    for warn in &r.warnings {
        writeln!(w, "warning: {}", esc(warn))?;
    }

    // Group by (package, version, path).
    let mut groups: BTreeMap<(String, String, String), Vec<&VulnFinding>> = BTreeMap::new();
    for v in &r.vulnerabilities {
        groups
            .entry((
                v.package.name.clone(),
                v.package.version.clone(),
                v.path.clone(),
            ))
            .or_default()
            .push(v);
    }
    for ((name, version, path), vs) in &groups {
        let first = vs[0];
        writeln!(w)?;
        writeln!(
            w,
            "{} {} ({}) {}",
            esc(name),
            esc(version),
            first.package.ecosystem,
            esc(path)
        )?;
        if !first.layer.is_empty() {
            let by = r.layer_created_by(&first.layer).unwrap_or("");
            writeln!(
                w,
                "  layer {} {}",
                short(&first.layer, 19),
                short(&esc(by.trim()), 70)
            )?;
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(120)
            .set_header(vec!["Vulnerability", "Severity", "Fixed in", "Title"]);
        let mut vs = vs.clone();
        vs.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        for v in vs {
            let fixed = if v.fixed_versions.is_empty() {
                "(no fix)".to_string()
            } else {
                esc(&v.fixed_versions.join(", "))
            };
            t.add_row(vec![
                esc(&v.id),
                v.severity.to_string(),
                fixed,
                short(&esc(&v.title), 60),
            ]);
        }
        writeln!(w, "{t}")?;
    }

    if !r.misconfigurations.is_empty() {
        writeln!(w)?;
        writeln!(w, "Misconfigurations: {}", r.misconfigurations.len())?;
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(120)
            .set_header(vec!["Rule", "Severity", "Where", "Message"]);
        for m in &r.misconfigurations {
            t.add_row(vec![
                m.rule.clone(),
                m.severity.to_string(),
                esc(&m.path),
                short(&esc(&m.message), 70),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    Ok(())
}

/// Configuration findings (`moat lint`) as a table, then a count by severity.
pub fn config_findings(
    findings: &[moat_model::ConfigFinding],
    files: usize,
    w: &mut dyn Write,
) -> io::Result<()> {
    if findings.is_empty() {
        writeln!(w, "{files} file(s) linted: no findings")?;
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header(["LOCATION", "RULE", "SEVERITY", "MESSAGE"]);
    for f in findings {
        let rule = if f.aliases.is_empty() {
            f.rule.clone()
        } else {
            format!("{} ({})", f.rule, f.aliases.join(", "))
        };
        t.add_row([
            esc(&format!("{}:{}:{}", f.path, f.line, f.column)),
            rule,
            f.severity.to_string(),
            esc(&f.message),
        ]);
    }
    writeln!(w, "{t}")?;
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts
            .entry(std::cmp::Reverse(f.severity))
            .or_insert(0usize) += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{} {n}", s.0)).collect();
    writeln!(
        w,
        "{files} file(s) linted, {} finding(s): {}",
        findings.len(),
        summary.join(", ")
    )
}

/// Rule metadata (`moat rules`) as a table.
pub fn rules(metas: &[&moat_model::RuleMeta], w: &mut dyn Write) -> io::Result<()> {
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header([
        "CODE",
        "SEVERITY",
        "TARGET",
        "TITLE",
        "REFERENCES",
        "ALIASES",
    ]);
    for m in metas {
        t.add_row([
            m.code.to_string(),
            m.severity.to_string(),
            m.target.as_str().to_string(),
            m.title.to_string(),
            m.references.join(", "),
            m.aliases.join(", "),
        ]);
    }
    writeln!(w, "{t}")
}
