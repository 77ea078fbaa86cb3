//! The human table: findings grouped by package, with the layer that brought each
//! package in, then a summary by severity.

use crate::ScanReport;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use moat_match::VulnFinding;
use std::collections::BTreeMap;
use std::io::{self, Write};

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn table(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    let target = match &r.distro {
        Some(d) if !d.pretty_name.is_empty() => format!("{} ({})", r.source, d.pretty_name),
        Some(d) => format!("{} ({} {})", r.source, d.id, d.version_id),
        None => r.source.clone(),
    };
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
        writeln!(w, "warning: {warn}")?;
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
        writeln!(w, "{name} {version} ({}) {path}", first.package.ecosystem)?;
        if !first.layer.is_empty() {
            let by = r.layer_created_by(&first.layer).unwrap_or("");
            writeln!(
                w,
                "  layer {} {}",
                short(&first.layer, 19),
                short(by.trim(), 70)
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
                v.fixed_versions.join(", ")
            };
            t.add_row(vec![
                v.id.clone(),
                v.severity.to_string(),
                fixed,
                short(&v.title, 60),
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
                m.path.clone(),
                short(&m.message, 70),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    Ok(())
}
