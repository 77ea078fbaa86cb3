//! SARIF 2.1.0, as GitHub code scanning accepts it: one rule per vulnerability id
//! (with `security-severity`), one result per finding, located at the package's file.

use crate::ScanReport;
use moat_model::Severity;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// The numeric severity GitHub reads (`properties.security-severity`).
fn security_severity(s: Severity, score: Option<f64>) -> String {
    let v = score.unwrap_or(match s {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    });
    format!("{v:.1}")
}

pub fn sarif(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for v in &r.vulnerabilities {
        rules.entry(v.id.as_str()).or_insert_with(|| {
            let mut rule = json!({
                "id": v.id,
                "name": v.id.replace(['-', '.'], ""),
                "shortDescription": {"text": if v.title.is_empty() { v.id.clone() } else { v.title.clone() }},
                "fullDescription": {"text": if v.title.is_empty() { v.id.clone() } else { v.title.clone() }},
                "defaultConfiguration": {"level": level(v.severity)},
                "properties": {
                    "security-severity": security_severity(v.severity, v.cvss.as_ref().map(|c| c.score)),
                    "tags": ["vulnerability", "security", v.severity.as_str()],
                    "precision": "very-high"
                }
            });
            if !v.url.is_empty() {
                rule["helpUri"] = json!(v.url);
            }
            rule["help"] = json!({
                "text": format!("{}: {} ({})", v.id, v.title, v.severity),
                "markdown": format!("**{}** {}\n\nSeverity: {}", v.id, v.title, v.severity),
            });
            rule
        });
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let results: Vec<Value> = r
        .vulnerabilities
        .iter()
        .map(|v| {
            let fixed = if v.fixed_versions.is_empty() {
                "no fixed version".to_string()
            } else {
                format!("fixed in {}", v.fixed_versions.join(", "))
            };
            let uri = if v.path.is_empty() {
                r.source.clone()
            } else {
                v.path.trim_start_matches('/').to_string()
            };
            json!({
                "ruleId": v.id,
                "ruleIndex": index.get(v.id.as_str()).copied().unwrap_or(0),
                "level": level(v.severity),
                "message": {"text": format!(
                    "Package {} {} ({}) is affected by {} [{}]; {}.",
                    v.package.name, v.package.version, v.package.ecosystem, v.id, v.severity, fixed
                )},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
                    },
                    "message": {"text": format!("{} {}", v.package.purl, v.layer)}
                }],
                "partialFingerprints": {
                    "moat/v1": format!("{}|{}|{}", v.id, v.package.purl, v.path)
                }
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "moat",
                "version": r.tool.version,
                "informationUri": "https://example.invalid/moat",
                "rules": rules.into_values().collect::<Vec<_>>()
            }},
            "results": results,
            "properties": {"source": r.source}
        }]
    });
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    writeln!(w)
}
