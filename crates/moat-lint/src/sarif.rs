//! SARIF 2.1.0 for configuration findings.

use moat_model::{ConfigFinding, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// The SARIF document for these findings; every rule that appears is described in
/// `tool.driver.rules` from the registry.
pub fn document(findings: &[ConfigFinding]) -> Value {
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        let n = used.len();
        used.entry(f.rule.as_str()).or_insert(n);
    }
    let mut order: Vec<(&str, usize)> = used.iter().map(|(k, v)| (*k, *v)).collect();
    order.sort_by_key(|x| x.1);
    let rules: Vec<Value> = order
        .iter()
        .map(|(code, _)| {
            let meta = crate::rules::find(code).map(|r| r.meta());
            let title = meta.map(|m| m.title).unwrap_or(code);
            let mut tags: Vec<String> = vec!["security".into()];
            if let Some(m) = meta {
                tags.extend(m.references.iter().map(|s| s.to_string()));
                tags.extend(m.aliases.iter().map(|s| s.to_string()));
            }
            json!({
                "id": code,
                "name": code,
                "shortDescription": {"text": title},
                "fullDescription": {"text": title},
                "defaultConfiguration": {"level": meta.map(|m| level(m.severity)).unwrap_or("warning")},
                "properties": {"tags": tags, "severity": meta.map(|m| m.severity.as_str()).unwrap_or("UNKNOWN")},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": used.get(f.rule.as_str()).copied().unwrap_or(0),
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path.trim_start_matches("./")},
                        "region": {"startLine": f.line.max(1), "startColumn": f.column.max(1)}
                    }
                }],
                "properties": {"severity": f.severity.as_str(), "aliases": f.aliases},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "moat-lint",
                "informationUri": "https://example.invalid/moat",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

/// Write the SARIF document.
pub fn write(findings: &[ConfigFinding], w: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &document(findings))?;
    w.write_all(b"\n")
}
