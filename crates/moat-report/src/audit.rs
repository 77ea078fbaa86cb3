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

/// The verdict of one benchmark item in the CIS-report view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CisStatus {
    /// Checked, nothing found.
    Pass,
    /// Checked, not met (the benchmark's WARN).
    Warn,
    /// Not met where the benchmark only informs, or not evaluated here (why in `note`).
    Info,
    /// For the auditor to check by hand: `command` says how.
    Manual,
}

impl CisStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CisStatus::Pass => "PASS",
            CisStatus::Warn => "WARN",
            CisStatus::Info => "INFO",
            CisStatus::Manual => "MANUAL",
        }
    }
}

/// How many items of a section (or the whole benchmark) have each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CisCounts {
    pub pass: usize,
    pub warn: usize,
    pub info: usize,
    pub manual: usize,
}

impl CisCounts {
    pub fn add(&mut self, s: CisStatus) {
        match s {
            CisStatus::Pass => self.pass += 1,
            CisStatus::Warn => self.warn += 1,
            CisStatus::Info => self.info += 1,
            CisStatus::Manual => self.manual += 1,
        }
    }

    fn line(&self) -> String {
        format!(
            "pass {}, warn {}, info {}, manual {}",
            self.pass, self.warn, self.info, self.manual
        )
    }
}

/// A finding as the CIS-report view lists it under its item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CisFinding {
    pub rule: String,
    pub severity: String,
    pub object: String,
    pub message: String,
}

/// One benchmark item with its verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CisItem {
    pub number: String,
    pub title: String,
    /// 1 or 2 (CIS profile level).
    pub level: u8,
    /// Automated (scored) or manual, as the benchmark assesses it.
    pub automated: bool,
    pub status: CisStatus,
    /// moat's rules for the item.
    pub rules: Vec<String>,
    pub findings: Vec<CisFinding>,
    /// Why it was not evaluated, or context for the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What an auditor runs to check it by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// A section (or subsection) of the benchmark.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CisSection {
    pub number: String,
    pub title: String,
    pub counts: CisCounts,
    pub items: Vec<CisItem>,
}

/// The audit as a CIS benchmark report: every item of every section with its verdict,
/// then the findings that belong to no benchmark item (the isolation proof).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CisView {
    /// `CIS Docker Benchmark v1.6.0`
    pub benchmark: String,
    pub host: String,
    pub engine_version: Option<String>,
    pub totals: CisCounts,
    pub sections: Vec<CisSection>,
    /// Findings of rules that check no benchmark item.
    pub beyond: Vec<CisFinding>,
}

/// The CIS-report view as text: per section, one line per item with its verdict, its
/// findings under it, then the counts.
pub fn cis_table(v: &CisView, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "{} - engine {} (Docker {})",
        v.benchmark,
        esc(&v.host),
        v.engine_version.as_deref().unwrap_or("?")
    )?;
    for s in &v.sections {
        writeln!(w)?;
        writeln!(w, "{} {}  [{}]", s.number, esc(&s.title), s.counts.line())?;
        for i in &s.items {
            writeln!(
                w,
                "[{:<6}] {} {} (L{}, {})",
                i.status.as_str(),
                i.number,
                esc(&i.title),
                i.level,
                if i.automated { "automated" } else { "manual" }
            )?;
            for f in &i.findings {
                writeln!(
                    w,
                    "         * {} {} {}: {}",
                    f.rule,
                    f.severity,
                    esc(&f.object),
                    esc(&f.message)
                )?;
            }
            if let Some(n) = &i.note {
                writeln!(w, "         * {}", esc(n))?;
            }
            if i.status == CisStatus::Manual
                && let Some(c) = &i.command
            {
                writeln!(w, "         * run: {}", esc(c))?;
            }
        }
    }
    if !v.beyond.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "beyond the benchmark (isolation proof and other checks):"
        )?;
        for f in &v.beyond {
            writeln!(
                w,
                "         * {} {} {}: {}",
                f.rule,
                f.severity,
                esc(&f.object),
                esc(&f.message)
            )?;
        }
    }
    writeln!(w)?;
    writeln!(w, "total: {}", v.totals.line())?;
    Ok(())
}

const CIS_TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ v.benchmark }} - {{ v.host }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.pass{background:#e6f4ea}.warn{background:#fde7e9}.info{background:#e8f0fe}.manual{background:#fff4e5}
.counts span{margin-right:1em}
code{font-size:90%}
</style></head><body>
<h1>{{ v.benchmark }}</h1>
<p>engine {{ v.host }} (Docker {{ v.engine_version or "?" }})</p>
<p class="counts" id="totals"><span>pass {{ v.totals.pass }}</span><span>warn {{ v.totals.warn }}</span><span>info {{ v.totals.info }}</span><span>manual {{ v.totals.manual }}</span></p>
{% for s in v.sections %}
<h2 id="section-{{ s.number }}">{{ s.number }} {{ s.title }}</h2>
<p class="counts"><span>pass {{ s.counts.pass }}</span><span>warn {{ s.counts.warn }}</span><span>info {{ s.counts.info }}</span><span>manual {{ s.counts.manual }}</span></p>
<table><thead><tr><th>item</th><th>title</th><th>level</th><th>assessment</th><th>verdict</th><th>rules</th><th>findings</th></tr></thead><tbody>
{% for i in s.items %}<tr class="{{ i.status }}" id="item-{{ i.number }}"><td>{{ i.number }}</td><td>{{ i.title }}</td><td>L{{ i.level }}</td><td>{% if i.automated %}automated{% else %}manual{% endif %}</td><td>{{ i.status | upper }}</td><td>{{ i.rules | join(", ") }}</td><td>{% for f in i.findings %}<div>{{ f.rule }} {{ f.severity }} <code>{{ f.object }}</code>: {{ f.message }}</div>{% endfor %}{% if i.note %}<div>{{ i.note }}</div>{% endif %}{% if i.status == "manual" and i.command %}<div>run: <code>{{ i.command }}</code></div>{% endif %}</td></tr>
{% endfor %}</tbody></table>
{% endfor %}
{% if v.beyond %}<h2>Beyond the benchmark</h2>
<table><thead><tr><th>rule</th><th>severity</th><th>object</th><th>message</th></tr></thead><tbody>
{% for f in v.beyond %}<tr><td>{{ f.rule }}</td><td>{{ f.severity }}</td><td><code>{{ f.object }}</code></td><td>{{ f.message }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
</body></html>
"#;

/// The CIS-report view as one self-contained HTML page (escaped by the template engine).
pub fn cis_html(v: &CisView, w: &mut dyn Write) -> io::Result<()> {
    let mut env = minijinja::Environment::new();
    env.add_template("cis.html", CIS_TEMPLATE)
        .map_err(io::Error::other)?;
    let tmpl = env.get_template("cis.html").map_err(io::Error::other)?;
    let out = tmpl
        .render(minijinja::context! { v => v })
        .map_err(io::Error::other)?;
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod cis_tests {
    use super::*;

    fn view() -> CisView {
        let item = |n: &str, s: CisStatus| CisItem {
            number: n.into(),
            title: "Ensure <x> & y".into(),
            level: 1,
            automated: true,
            status: s,
            rules: vec!["CC101".into()],
            findings: if s == CisStatus::Warn {
                vec![CisFinding {
                    rule: "CC101".into(),
                    severity: "CRITICAL".into(),
                    object: "container:/<b>".into(),
                    message: "privileged".into(),
                }]
            } else {
                vec![]
            },
            note: None,
            command: (s == CisStatus::Manual).then(|| "docker ps".into()),
        };
        let mut counts = CisCounts::default();
        for s in [CisStatus::Pass, CisStatus::Warn, CisStatus::Manual] {
            counts.add(s);
        }
        CisView {
            benchmark: "CIS Docker Benchmark v1.6.0".into(),
            host: "unix:///x.sock".into(),
            engine_version: Some("20.10.24".into()),
            totals: counts,
            sections: vec![CisSection {
                number: "5".into(),
                title: "Container Runtime".into(),
                counts,
                items: vec![
                    item("5.4", CisStatus::Pass),
                    item("5.5", CisStatus::Warn),
                    item("5.24", CisStatus::Manual),
                ],
            }],
            beyond: vec![],
        }
    }

    #[test]
    fn text_and_html_show_items_counts_and_escape() {
        let v = view();
        let mut t = Vec::new();
        cis_table(&v, &mut t).unwrap();
        let t = String::from_utf8(t).unwrap();
        assert!(
            t.contains("[WARN  ] 5.5 Ensure <x> & y (L1, automated)"),
            "{t}"
        );
        assert!(
            t.contains("* CC101 CRITICAL container:/<b>: privileged"),
            "{t}"
        );
        assert!(t.contains("* run: docker ps"), "{t}");
        assert!(t.contains("total: pass 1, warn 1, info 0, manual 1"), "{t}");
        let mut h = Vec::new();
        cis_html(&v, &mut h).unwrap();
        let h = String::from_utf8(h).unwrap();
        assert!(h.contains("Ensure &lt;x&gt; &amp; y"), "escaped");
        assert!(!h.contains("<b>"), "object escaped");
        assert!(h.contains(r#"<tr class="warn" id="item-5.5">"#), "{h}");
        assert!(h.contains("<span>manual 1</span>"));
    }
}
