//! The dashboard: one server-rendered HTML page per tenant (images with their findings
//! by severity, every finding with its fix), inline CSS, no scripts, no external assets.
//! Everything from the database is HTML-escaped.

use serde_json::Value;
use std::fmt::Write;

const SEVERITIES: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// What agents report, as the API lists it (`/api/v1/hosts`, `/api/v1/affected`,
/// `/api/v1/alerts`).
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub hosts: Vec<Value>,
    /// Running containers whose image has findings.
    pub affected: Vec<Value>,
    /// The most recent alerts, newest first.
    pub alerts: Vec<Value>,
}

/// The page for `tenant` (`images` and `findings` as the API lists them).
pub fn render(tenant: &str, images: &[Value], findings: &[Value]) -> String {
    render_fleet(tenant, images, findings, &Fleet::default())
}

fn int(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn sev_class(s: &str) -> &'static str {
    SEVERITIES
        .iter()
        .find(|x| **x == s)
        .copied()
        .unwrap_or("UNKNOWN")
}

/// The fleet's sections: hosts, running affected containers, recent alerts.
fn fleet_sections(h: &mut String, fleet: &Fleet) {
    let _ = write!(
        h,
        "<h2>Hosts ({})</h2>\n<table id=\"hosts\"><tr><th>host</th><th>engine</th><th>os</th>\
         <th>containers</th><th>alerts</th><th>audit findings</th><th>last seen (unix ms)</th></tr>\n",
        fleet.hosts.len()
    );
    for x in &fleet.hosts {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(text(x, "name")),
            esc(text(x, "engine_version")),
            esc(text(x, "os")),
            int(x, "containers"),
            int(x, "alerts"),
            x.get("audit")
                .and_then(|a| a.get("findings"))
                .and_then(Value::as_i64)
                .map_or("—".to_string(), |n| n.to_string()),
            int(x, "last_seen_ms"),
        );
    }
    let _ = write!(
        h,
        "</table>\n<h2>Running affected containers ({})</h2>\n<table id=\"affected\"><tr><th>host</th>\
         <th>container</th><th>image</th>",
        fleet.affected.len()
    );
    for s in SEVERITIES {
        let _ = write!(h, "<th>{s}</th>");
    }
    h.push_str("<th>advisories</th></tr>\n");
    for x in &fleet.affected {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} <code>{}</code></td><td>{}</td>",
            esc(text(x, "host")),
            esc(text(x, "name")),
            esc(&text(x, "container").chars().take(12).collect::<String>()),
            esc(text(x, "image")),
        );
        for s in SEVERITIES {
            let n = x
                .get("findings")
                .and_then(|f| f.get(s))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let _ = write!(h, "<td>{n}</td>");
        }
        let ids: Vec<String> = x
            .get("advisories")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .take(10)
                    .map(|v| esc(text(v, "id")))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let _ = writeln!(h, "<td>{}</td></tr>", ids.join(", "));
    }
    let _ = write!(
        h,
        "</table>\n<h2>Recent alerts ({})</h2>\n<table id=\"alerts\"><tr><th>severity</th><th>rule</th>\
         <th>host</th><th>container</th><th>time (unix ns)</th></tr>\n",
        fleet.alerts.len()
    );
    for x in &fleet.alerts {
        let sev = text(x, "severity");
        let container = match text(x, "container_name") {
            "" => text(x, "container").chars().take(12).collect::<String>(),
            n => n.to_string(),
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            sev_class(sev),
            esc(sev),
            esc(text(x, "rule")),
            esc(text(x, "host")),
            esc(&container),
            int(x, "time_ns"),
        );
    }
    h.push_str("</table>\n");
}

/// The page for `tenant` with the fleet's sections.
pub fn render_fleet(tenant: &str, images: &[Value], findings: &[Value], fleet: &Fleet) -> String {
    let mut h = String::new();
    let mut totals = [0i64; 5];
    for f in findings {
        if let Some(i) = SEVERITIES.iter().position(|s| *s == text(f, "severity")) {
            totals[i] += 1;
        }
    }
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>moat — {t}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}\
         th{{background:#f3f3f3}}.CRITICAL{{background:#7a0014;color:#fff}}.HIGH{{background:#d1342f;color:#fff}}\
         .MEDIUM{{background:#f0a500}}.LOW{{background:#9cc}}.UNKNOWN{{background:#ddd}}\
         .cards span{{display:inline-block;padding:.5em 1em;margin-right:.5em;border-radius:4px}}\
         </style></head><body>\n<h1>moat — tenant {t}</h1>\n<p class=\"cards\">",
        t = esc(tenant)
    );
    for (s, n) in SEVERITIES.iter().zip(totals) {
        let _ = write!(h, "<span class=\"{s}\" id=\"total-{s}\">{s}: {n}</span>");
    }
    h.push_str("</p>\n");
    // What runs affected comes first (when agents report); then images and findings.
    if !(fleet.hosts.is_empty() && fleet.affected.is_empty() && fleet.alerts.is_empty()) {
        fleet_sections(&mut h, fleet);
    }
    let _ = write!(
        h,
        "<h2>Images ({})</h2>\n<table id=\"images\"><tr><th>id</th><th>image</th><th>digest</th>",
        images.len()
    );
    for s in SEVERITIES {
        let _ = write!(h, "<th>{s}</th>");
    }
    h.push_str("</tr>\n");
    for i in images {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td>",
            i.get("id").and_then(Value::as_i64).unwrap_or(0),
            esc(text(i, "reference")),
            esc(text(i, "digest"))
        );
        for s in SEVERITIES {
            let n = i
                .get("findings")
                .and_then(|f| f.get(s))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let _ = write!(h, "<td>{n}</td>");
        }
        h.push_str("</tr>\n");
    }
    let _ = write!(
        h,
        "</table>\n<h2>Findings ({})</h2>\n<table id=\"findings\"><tr><th>severity</th><th>advisory</th>\
         <th>package</th><th>version</th><th>fixed in</th><th>image</th><th>title</th></tr>\n",
        findings.len()
    );
    for f in findings {
        let sev = text(f, "severity");
        let fixed = text(f, "fixed");
        let _ = writeln!(
            h,
            "<tr><td class=\"{c}\">{s}</td><td>{id}</td><td>{p}</td><td>{v}</td><td>{fx}</td><td>{img}</td><td>{ti}</td></tr>",
            c = if SEVERITIES.contains(&sev) {
                sev
            } else {
                "UNKNOWN"
            },
            s = esc(sev),
            id = esc(text(f, "id")),
            p = esc(text(f, "package")),
            v = esc(text(f, "version")),
            fx = if fixed.is_empty() {
                "no fix".to_string()
            } else {
                esc(fixed)
            },
            img = esc(text(f, "reference")),
            ti = esc(text(f, "title")),
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            esc("<a href='x'>&\u{1b}"),
            "&lt;a href=&#39;x&#39;&gt;&amp;\\u{1b}"
        );
        let page = render(
            "t",
            &[serde_json::json!({"id": 1, "reference": "<script>", "findings": {"HIGH": 2}})],
            &[],
        );
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(
            !page.contains("id=\"affected\""),
            "no fleet sections without agents"
        );
    }

    #[test]
    fn fleet_sections_escape_what_agents_post() {
        let fleet = Fleet {
            hosts: vec![
                serde_json::json!({"name": "<b>h</b>", "containers": 1, "audit": {"findings": 3}}),
            ],
            affected: vec![
                serde_json::json!({"host": "h", "name": "<img src=x>", "container": "0123456789abcdef",
                "image": "i", "findings": {"HIGH": 2}, "advisories": [{"id": "GHSA-<x>"}]}),
            ],
            alerts: vec![
                serde_json::json!({"severity": "HIGH\"><script>", "rule": "r", "host": "h"}),
            ],
        };
        let page = render_fleet("t", &[], &[], &fleet);
        for bad in ["<b>", "<img", "GHSA-<x>", "<script>"] {
            assert!(!page.contains(bad), "{bad}");
        }
        let affected = &page[page.find("id=\"affected\"").unwrap()..];
        assert!(affected.contains("&lt;img src=x&gt; <code>0123456789ab</code>"));
        assert!(affected.contains("<td>2</td>"));
        assert!(page.contains("<td>3</td>"), "the audit's findings");
    }
}
