//! Minimal SARIF 2.1.0 for audit findings. Objects are not files, so each result has a
//! logical location (the object's label) instead of a physical one.

use crate::AuditReport;
use crate::rules::RULES;
use moat_model::Severity;
use serde_json::{Value, json};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// The report as a SARIF 2.1.0 log (one run; every rule in the driver).
pub fn to_sarif(report: &AuditReport) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.code,
                "shortDescription": { "text": r.title },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "severity": r.severity.as_str(),
                    "target": r.target.as_str(),
                    "references": r.references,
                    "aliases": r.aliases,
                }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = RULES.iter().position(|r| r.code == f.rule());
            let mut v = json!({
                "ruleId": f.rule(),
                "level": level(f.severity()),
                "message": { "text": format!("{}: {}", f.path(), f.message()) },
                "locations": [{
                    "logicalLocations": [{
                        "name": f.path(),
                        "kind": f.object.kind_str(),
                    }]
                }],
                "properties": {
                    "severity": f.severity().as_str(),
                    "evidence": f.evidence,
                    "object": f.object,
                }
            });
            if let (Some(i), Some(obj)) = (index, v.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
            }
            v
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "moat",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://example.invalid/moat",
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}
