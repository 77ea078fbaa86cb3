//! `moat monitor`'s renderers: an alert as a terminal line, as JSON, as an RFC 5424 syslog
//! message; the stored records of `moat monitor query` as a table or JSON; the rules of
//! `moat monitor rules` as a table.

use crate::table::esc;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use moat_model::Severity;
use moat_model::runtime::{Alert, QueryRow};
use serde::Serialize;
use std::io::{self, Write};

/// Unix nanoseconds as `2026-12-03T18:00:00.123Z` (UTC, milliseconds).
pub fn time_ms(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let ms = ns.rem_euclid(1_000_000_000) / 1_000_000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// One alert on one line: time, severity, rule, output (control characters escaped).
pub fn alert_line(a: &Alert) -> String {
    format!(
        "{} {:<8} {}: {}",
        time_ms(a.time_ns),
        a.severity.as_str(),
        esc(&a.rule),
        esc(&a.output)
    )
}

/// One alert as one line of JSON.
pub fn alert_json(a: &Alert) -> String {
    serde_json::to_string(a).unwrap_or_else(|_| "{}".to_string())
}

/// The syslog severity of an alert severity (RFC 5424 numbers).
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Unknown => 6,
    }
}

/// Facility of moat's syslog messages: local0.
pub const SYSLOG_FACILITY: u8 = 16;

fn sd_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            o.push('\\');
        }
        o.push(c);
    }
    esc(&o)
}

fn header_token(s: &str, max: usize) -> String {
    let t: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if t.is_empty() { "-".to_string() } else { t }
}

/// An alert as an RFC 5424 message: `<PRI>1 TIMESTAMP HOST moat PID alert [moat@32473
/// rule=".." severity=".." container=".." image=".." pid=".."] OUTPUT`.
pub fn syslog_5424(a: &Alert, hostname: &str, procid: u32) -> String {
    let pri = u16::from(SYSLOG_FACILITY) * 8 + u16::from(syslog_severity(a.severity));
    let mut sd = format!(
        "[moat@32473 rule=\"{}\" severity=\"{}\"",
        sd_escape(&a.rule),
        a.severity.as_str()
    );
    if let Some(c) = &a.container {
        sd.push_str(&format!(
            " container=\"{}\" container_name=\"{}\" image=\"{}\"",
            sd_escape(&c.id),
            sd_escape(&c.name),
            sd_escape(&c.image)
        ));
    }
    if let Some(p) = &a.process
        && p.pid > 0
    {
        sd.push_str(&format!(" pid=\"{}\"", p.pid));
    }
    sd.push(']');
    format!(
        "<{pri}>1 {} {} moat {procid} alert {sd} {}",
        time_ms(a.time_ns),
        header_token(hostname, 255),
        esc(&a.output)
    )
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn detail(r: &QueryRow) -> String {
    if r.kind == "alert" {
        return r
            .body
            .get("output")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
    }
    let b = &r.body;
    let s = |p: &[&str]| {
        let mut cur = b;
        for k in p {
            match cur.get(*k) {
                Some(v) => cur = v,
                None => return String::new(),
            }
        }
        match cur {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        }
    };
    let kind = s(&["type"]);
    let mut out = kind.clone();
    let extra = match s(&["source"]).as_str() {
        "docker" => s(&["docker", "action"]),
        "proc" => format!(
            "pid {} {}",
            s(&["process", "pid"]),
            s(&["process", "cmdline"])
        ),
        "net" if kind == "listen" => {
            format!("{} port {}", s(&["net", "proto"]), s(&["net", "sport"]))
        }
        "net" => format!(
            "{} {}:{} pid {}",
            s(&["net", "proto"]),
            s(&["net", "dip"]),
            s(&["net", "dport"]),
            s(&["process", "pid"])
        ),
        "file" => format!("{} {}", s(&["file", "op"]), s(&["file", "path"])),
        "cgroup" => format!(
            "memory {} / {} oom_kills {}",
            s(&["resource", "memory_bytes"]),
            s(&["resource", "memory_limit"]),
            s(&["resource", "oom_kills"])
        ),
        _ => s(&["note"]),
    };
    if !extra.is_empty() && extra != kind {
        out.push(' ');
        out.push_str(&extra);
    }
    out
}

fn container_label(r: &QueryRow) -> String {
    let name = r
        .body
        .get("container")
        .and_then(|c| c.get("name"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    match (&r.container, name.is_empty()) {
        (Some(id), false) => format!("{name} ({})", short_id(id)),
        (Some(id), true) => short_id(id).to_string(),
        (None, _) => String::new(),
    }
}

/// Stored records as a table, oldest first, and a count line.
pub fn query_table(rows: &[QueryRow], w: &mut dyn Write) -> io::Result<()> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec![
            "Time",
            "Kind",
            "Severity",
            "Rule",
            "Container",
            "Detail",
        ]);
    for r in rows {
        t.add_row(vec![
            time_ms(r.time_ns),
            esc(&r.kind),
            esc(r.severity.as_deref().unwrap_or("")),
            esc(r.rule.as_deref().unwrap_or("")),
            esc(&container_label(r)),
            esc(&detail(r)),
        ]);
    }
    if !rows.is_empty() {
        writeln!(w, "{t}")?;
    }
    let alerts = rows.iter().filter(|r| r.kind == "alert").count();
    writeln!(
        w,
        "{} records ({} alerts, {} events)",
        rows.len(),
        alerts,
        rows.len() - alerts
    )
}

/// Stored records as a JSON array.
pub fn query_json(rows: &[QueryRow], w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, rows).map_err(io::Error::other)?;
    writeln!(w)
}

/// A rule as `moat monitor rules` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRow {
    pub name: String,
    pub severity: Severity,
    pub desc: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub origin: String,
}

/// Rules as a table.
pub fn rules_table(rules: &[RuleRow], w: &mut dyn Write) -> io::Result<()> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(140)
        .set_header(vec!["Rule", "Severity", "Tags", "Description"]);
    for r in rules {
        t.add_row(vec![
            esc(&r.name),
            r.severity.as_str().to_string(),
            esc(&r.tags.join(",")),
            esc(&r.desc),
        ]);
    }
    writeln!(w, "{t}")?;
    writeln!(w, "{} rules", rules.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_syslog() {
        assert_eq!(time_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            time_ms(1_764_784_800_123_456_789),
            "2025-12-03T18:00:00.123Z"
        );
        let a = Alert {
            time_ns: 1_764_784_800_000_000_000,
            rule: "Shell \"x\"".into(),
            severity: Severity::High,
            output: "shell\nin c1".into(),
            container: None,
            process: None,
            evidence: Default::default(),
            tags: vec![],
            action: None,
        };
        let m = syslog_5424(&a, "host one", 42);
        assert_eq!(
            m,
            "<131>1 2025-12-03T18:00:00.000Z hostone moat 42 alert [moat@32473 rule=\"Shell \\\"x\\\"\" severity=\"HIGH\"] shell\\nin c1"
        );
    }
}
