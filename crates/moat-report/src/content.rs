//! The content scanners' sections (secrets, malware, risky files, integrity) of the
//! scan's table, SARIF and HTML renderers. Matched secrets appear only redacted.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use moat_model::Report as ScanReport;
use moat_model::Severity;
use moat_model::report::{FindingHeader, FindingKind, FindingLocation};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Input-controlled text made safe for a terminal (control characters escaped).
fn esc(s: &str) -> String {
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

fn place(l: &FindingLocation) -> String {
    if l.line > 0 {
        format!("{}:{}", l.path, l.line)
    } else {
        l.path.clone()
    }
}

fn layer(l: &str, deleted_in: Option<&str>) -> String {
    let mut s = short(l.strip_prefix("sha256:").unwrap_or(l), 12);
    if let Some(d) = deleted_in {
        s.push_str(&format!(
            " (removed in {})",
            short(d.strip_prefix("sha256:").unwrap_or(d), 12)
        ));
    }
    s
}

fn section(
    w: &mut dyn Write,
    title: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "{title}: {}", rows.len())?;
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(header.to_vec());
    for r in rows {
        t.add_row(r);
    }
    writeln!(w, "{t}")
}

/// The table sections, after the vulnerabilities and misconfigurations.
pub fn table(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    section(
        w,
        "Secrets",
        &["Rule", "Severity", "Where", "Layer", "Match"],
        r.secrets
            .iter()
            .map(|s| {
                vec![
                    s.rule.clone(),
                    s.severity.to_string(),
                    short(&esc(&place(&s.location)), 50),
                    layer(&s.location.layer, s.deleted_in.as_deref()),
                    format!("{} ({} bytes)", esc(&s.redacted), s.length),
                ]
            })
            .collect(),
    )?;
    section(
        w,
        "Malware",
        &["Rule", "Severity", "Path", "Layer", "Evidence"],
        r.malware
            .iter()
            .map(|m| {
                let ev: Vec<String> = m
                    .matches
                    .iter()
                    .take(3)
                    .map(|s| format!("{}@{}", s.id, s.offset))
                    .collect();
                vec![
                    m.rule.clone(),
                    m.severity.to_string(),
                    short(&esc(&m.location.path), 50),
                    layer(&m.location.layer, m.deleted_in.as_deref()),
                    format!("sha256:{} {}", short(&m.sha256, 12), ev.join(" ")),
                ]
            })
            .collect(),
    )?;
    section(
        w,
        "Risky files",
        &["Rule", "Severity", "Path", "Layer", "Detail"],
        r.files
            .iter()
            .map(|f| {
                vec![
                    f.rule.clone(),
                    f.severity.to_string(),
                    short(&esc(&f.location.path), 50),
                    layer(&f.location.layer, None),
                    short(&esc(&f.title), 60),
                ]
            })
            .collect(),
    )?;
    section(
        w,
        "Integrity",
        &["Rule", "Severity", "Path", "Package", "Layer"],
        r.integrity
            .iter()
            .map(|f| {
                vec![
                    f.rule.clone(),
                    f.severity.to_string(),
                    short(&esc(&f.location.path), 50),
                    esc(&f.package),
                    layer(&f.location.layer, None),
                ]
            })
            .collect(),
    )
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

fn score(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Unknown => "0.0",
    }
}

fn kind_tag(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Secret => "secret",
        FindingKind::Malware => "malware",
        FindingKind::File => "file",
        FindingKind::Integrity => "integrity",
        _ => "finding",
    }
}

/// The content findings' headers with a message each.
fn headers(r: &ScanReport) -> Vec<(FindingHeader<'_>, String)> {
    let mut out = Vec::new();
    for s in &r.secrets {
        let mut m = format!("{}: {} ({} bytes)", s.title, s.redacted, s.length);
        if let Some(d) = &s.deleted_in {
            m.push_str(&format!("; removed in layer {d} but still in the image"));
        }
        out.push((s.header(), m));
    }
    for x in &r.malware {
        out.push((x.header(), format!("{} (sha256 {})", x.title, x.sha256)));
    }
    for f in &r.files {
        out.push((f.header(), f.title.clone()));
    }
    for f in &r.integrity {
        out.push((
            f.header(),
            format!(
                "{}: expected {} {}, found {}",
                f.title, f.algorithm, f.expected, f.actual
            ),
        ));
    }
    out
}

/// Add the content rules to a SARIF driver's rules (by id).
pub fn sarif_rules<'a>(r: &'a ScanReport, rules: &mut BTreeMap<&'a str, Value>) {
    for (h, _) in headers(r) {
        let tag = kind_tag(h.kind);
        rules.entry(h.id).or_insert_with(|| {
            json!({
                "id": h.id,
                "name": h.id.replace(['-', '.', '_'], ""),
                "shortDescription": {"text": h.title},
                "fullDescription": {"text": h.title},
                "defaultConfiguration": {"level": level(h.severity)},
                "help": {"text": format!("{}: {} ({})", h.id, h.title, h.severity)},
                "properties": {
                    "security-severity": score(h.severity),
                    "tags": [tag, "security", h.severity.as_str()],
                    "precision": "high"
                }
            })
        });
    }
}

/// The content findings as SARIF results (`index`: rule id → index in the driver).
pub fn sarif_results(r: &ScanReport, index: &BTreeMap<&str, usize>) -> Vec<Value> {
    headers(r)
        .into_iter()
        .map(|(h, msg)| {
            let uri = h.location.path.trim_start_matches('/').to_string();
            let line = h.location.line.max(1);
            json!({
                "ruleId": h.id,
                "ruleIndex": index.get(h.id).copied().unwrap_or(0),
                "level": level(h.severity),
                "message": {"text": msg},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": line, "startColumn": h.location.column.max(1)}
                    },
                    "message": {"text": h.location.layer}
                }],
                "partialFingerprints": {
                    "moat/v1": format!("{}|{}|{}|{}", h.id, h.location.path, h.location.line, h.location.layer)
                }
            })
        })
        .collect()
}

const HTML: &str = r#"{% for s in sections %}{% if s.rows %}
<h2>{{ s.title }} ({{ s.rows | length }})</h2>
<table><thead><tr><th>Rule</th><th>Severity</th><th>Where</th><th>Layer</th><th>Detail</th></tr></thead><tbody>
{% for x in s.rows %}<tr><td>{{ x.id }}</td><td><span class="sev {{ x.severity }}">{{ x.severity }}</span></td><td>{{ x.place }}</td><td class="muted">{{ x.layer }}</td><td>{{ x.detail }}</td></tr>{% endfor %}
</tbody></table>
{% endif %}{% endfor %}"#;

/// The HTML sections (already escaped), for the page template's `content` slot.
pub fn html(r: &ScanReport) -> io::Result<String> {
    let row = |h: FindingHeader<'_>, msg: String, deleted: Option<&str>| {
        BTreeMap::from([
            ("id", h.id.to_string()),
            ("severity", h.severity.to_string()),
            ("place", place(&h.location)),
            ("layer", layer(&h.location.layer, deleted)),
            ("detail", msg),
        ])
    };
    let all = headers(r);
    let mut it = all.into_iter();
    let mut take = |n: usize, deleted: &dyn Fn(usize) -> Option<String>| {
        (0..n)
            .filter_map(|i| it.next().map(|(h, m)| row(h, m, deleted(i).as_deref())))
            .collect::<Vec<_>>()
    };
    let secrets = take(r.secrets.len(), &|i| r.secrets[i].deleted_in.clone());
    let malware = take(r.malware.len(), &|i| r.malware[i].deleted_in.clone());
    let files = take(r.files.len(), &|_| None);
    let integrity = take(r.integrity.len(), &|_| None);
    let sections = json!([
        {"title": "Secrets", "rows": secrets},
        {"title": "Malware", "rows": malware},
        {"title": "Risky files", "rows": files},
        {"title": "Integrity", "rows": integrity},
    ]);
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("content", HTML)
        .map_err(io::Error::other)?;
    env.get_template("content")
        .and_then(|t| t.render(minijinja::context! { sections => sections }))
        .map_err(io::Error::other)
}
