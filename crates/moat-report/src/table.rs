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

/// (package name, version, path): the findings of one installed package.
type PackageKey = (String, String, String);

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
    // Groups in priority order of their most pressing finding (KEV, severity, score,
    // fix available), findings in the same order inside.
    let mut groups: Vec<(PackageKey, Vec<&VulnFinding>)> = groups
        .into_iter()
        .map(|(k, mut vs)| {
            vs.sort_by(|a, b| a.priority_cmp(b));
            (k, vs)
        })
        .collect();
    groups.sort_by(|(ka, a), (kb, b)| a[0].priority_cmp(b[0]).then_with(|| ka.cmp(kb)));
    let with_baseline = r.baseline.is_some();
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
        let mut header = vec!["Vulnerability", "Severity", "Score", "Fixed in", "Title"];
        if with_baseline {
            header.insert(0, "Baseline");
        }
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(120)
            .set_header(header);
        for v in vs {
            let fixed = if v.fixed_versions.is_empty() {
                "(no fix)".to_string()
            } else {
                esc(&v.fixed_versions.join(", "))
            };
            let severity = if v.kev.is_some() {
                format!("{} KEV", v.severity)
            } else {
                v.severity.to_string()
            };
            let mut row = vec![
                esc(&v.id),
                severity,
                v.score().map_or_else(String::new, |s| format!("{s:.1}")),
                fixed,
                short(&esc(&v.title), 60),
            ];
            if with_baseline {
                row.insert(
                    0,
                    match v.baseline {
                        Some(moat_model::remediation::BaselineStatus::New) => "new".into(),
                        Some(moat_model::remediation::BaselineStatus::Unchanged) => {
                            "unchanged".into()
                        }
                        None => String::new(),
                    },
                );
            }
            t.add_row(row);
        }
        writeln!(w, "{t}")?;
    }

    remediation(r, w)?;
    if let Some(b) = &r.baseline {
        writeln!(w)?;
        writeln!(
            w,
            "Baseline {}: {} new, {} unchanged, {} fixed",
            esc(&b.source),
            b.new,
            b.unchanged,
            b.fixed.len()
        )?;
        for f in &b.fixed {
            writeln!(
                w,
                "  fixed {} {} {} {} ({})",
                esc(&f.id),
                esc(&f.package),
                esc(&f.version),
                esc(&f.path),
                f.severity
            )?;
        }
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
    crate::content::table(r, w)?;
    Ok(())
}

/// The remediation plan: packages with a fix (the version that fixes all their fixable
/// findings, the layer and instruction that installed them, base or application), then
/// packages whose findings have no fix.
fn remediation(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    if r.remediations.is_empty() {
        return Ok(());
    }
    let origin = |o: moat_model::remediation::LayerOrigin| match o {
        moat_model::remediation::LayerOrigin::Base => "base image",
        moat_model::remediation::LayerOrigin::Application => "application",
        moat_model::remediation::LayerOrigin::Unknown => "",
    };
    let fixable: Vec<_> = r
        .remediations
        .iter()
        .filter(|m| m.fixed_version.is_some())
        .collect();
    if !fixable.is_empty() {
        writeln!(w)?;
        writeln!(w, "Remediation: {} package(s) to upgrade", fixable.len())?;
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(120)
            .set_header(vec!["Package", "Upgrade", "Fixes", "From", "Installed by"]);
        for m in fixable {
            let mut fixes = m.fixes_summary();
            if m.kev {
                fixes.push_str(" (KEV)");
            }
            if !m.unfixed.is_empty() {
                fixes.push_str(&format!("; {} without fix", m.unfixed.len()));
            }
            t.add_row(vec![
                esc(&m.package.name),
                format!(
                    "{} → {}",
                    esc(&m.package.version),
                    esc(m.fixed_version.as_deref().unwrap_or(""))
                ),
                fixes,
                origin(m.origin).to_string(),
                short(&esc(&m.created_by), 50),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    let unfixable: Vec<_> = r
        .remediations
        .iter()
        .filter(|m| m.fixed_version.is_none())
        .collect();
    if !unfixable.is_empty() {
        writeln!(w)?;
        writeln!(w, "No fix yet: {} package(s)", unfixable.len())?;
        for m in unfixable {
            writeln!(
                w,
                "  {} {}{}: {} finding(s) without a fix",
                esc(&m.package.name),
                esc(&m.package.version),
                match origin(m.origin) {
                    "" => String::new(),
                    o => format!(" ({o})"),
                },
                m.unfixed.len()
            )?;
        }
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
