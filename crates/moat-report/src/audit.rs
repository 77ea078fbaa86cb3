//! `moat audit`'s table.

use crate::table::esc;
use moat_model::audit::{AuditFinding, AuditReport};
use std::io::{self, Write};

fn new_table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t
}

/// The audit report as tables: findings (most severe first), isolation proofs,
/// components, notes, then a count by severity.
pub fn table(r: &AuditReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "engine {} (Docker {}, API {}): {} container(s), {} image(s) in use",
        r.host,
        r.engine_version.as_deref().unwrap_or("?"),
        r.api_version.as_deref().unwrap_or("?"),
        r.containers,
        r.images
    )?;
    let mut findings: Vec<&AuditFinding> = r.findings.iter().collect();
    findings.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    if findings.is_empty() {
        writeln!(w, "no findings")?;
    } else {
        let mut t = new_table();
        t.set_header(["OBJECT", "RULE", "SEVERITY", "MESSAGE", "EVIDENCE"]);
        for f in &findings {
            t.add_row([
                esc(f.path()),
                format!("{} ({})", f.rule(), f.references.join(", ")),
                f.severity().to_string(),
                esc(f.message()),
                f.evidence
                    .iter()
                    .map(|e| esc(e))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    if !r.isolation.is_empty() {
        writeln!(w, "isolation proof (kernel view of running containers):")?;
        let mut t = new_table();
        t.set_header([
            "CONTAINER",
            "PID",
            "HOST NAMESPACES",
            "CAPS BEYOND DEFAULT",
            "SECCOMP",
            "NO_NEW_PRIVS",
            "MEMORY",
            "CPU",
            "PIDS",
        ]);
        let lim = |v: &Option<moat_model::audit::LimitView>| match v {
            Some(v) if v.limited => v.values.join(" "),
            Some(_) => "none".to_string(),
            None => "?".to_string(),
        };
        for (name, p) in &r.isolation {
            let shared: Vec<&str> = p
                .namespaces
                .iter()
                .filter(|(_, n)| n.shared)
                .map(|(k, _)| k.as_str())
                .collect();
            t.add_row([
                esc(name),
                p.pid.to_string(),
                if shared.is_empty() {
                    "none".into()
                } else {
                    shared.join(",")
                },
                if p.cap_eff_beyond_default.is_empty() {
                    "none".into()
                } else {
                    p.cap_eff_beyond_default.join(",")
                },
                match p.seccomp {
                    Some(0) => "off".into(),
                    Some(1) => "strict".into(),
                    Some(2) => "filter".into(),
                    _ => "?".into(),
                },
                match p.no_new_privs {
                    Some(true) => "on".into(),
                    Some(false) => "off".into(),
                    None => "?".into(),
                },
                lim(&p.memory),
                lim(&p.cpu),
                lim(&p.pids),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    if !r.components.is_empty() {
        let mut t = new_table();
        t.set_header([
            "COMPONENT",
            "VERSION",
            "API REPORTS",
            "BINARY",
            "GO",
            "PACKAGE",
        ]);
        for c in &r.components {
            t.add_row([
                c.name.clone(),
                c.version.clone().unwrap_or_else(|| "?".into()),
                c.api_version.clone().unwrap_or_default(),
                match (&c.binary, &c.binary_version) {
                    (Some(b), Some(v)) => format!("{b} ({v})"),
                    (Some(b), None) => b.clone(),
                    _ => String::new(),
                },
                c.go_version.clone().unwrap_or_default(),
                c.package
                    .as_ref()
                    .map(|p| format!("{} {} ({})", p.name, p.version, p.manager))
                    .unwrap_or_default(),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    for n in &r.notes {
        writeln!(w, "note: {}", esc(n))?;
    }
    let mut counts = std::collections::BTreeMap::new();
    for f in &r.findings {
        *counts
            .entry(std::cmp::Reverse(f.severity()))
            .or_insert(0usize) += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(s, n)| format!("{} {n}", s.0)).collect();
    writeln!(
        w,
        "{} finding(s){}{}",
        r.findings.len(),
        if summary.is_empty() { "" } else { ": " },
        summary.join(", ")
    )?;
    Ok(())
}
