//! SARIF 2.1.0, as GitHub code scanning accepts it: the one SARIF writer of moat, for
//! scan (one rule per vulnerability id, with `security-severity`, one result per
//! finding located at the package's file) and for configuration findings (lint, audit,
//! the image-config scanner: one rule per rule code, described from its registry entry).

use moat_model::Report as ScanReport;
use moat_model::audit::AuditReport;
use moat_model::{ConfigFinding, RuleMeta, Severity};
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

/// The scan report as SARIF.
pub fn scan(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for v in &r.vulnerabilities {
        rules.entry(v.id.as_str()).or_insert_with(|| {
            let mut rule = json!({
                "id": v.id,
                "name": v.id.replace(['-', '.'], ""),
                "shortDescription": {"text": if v.title.is_empty() { v.id.to_string() } else { v.title.clone() }},
                "fullDescription": {"text": if v.title.is_empty() { v.id.to_string() } else { v.title.clone() }},
                "defaultConfiguration": {"level": level(v.severity)},
                "properties": {
                    "security-severity": security_severity(v.severity, v.score()),
                    "tags": ["vulnerability", "security", v.severity.as_str()],
                    "precision": "very-high"
                }
            });
            if !v.url.is_empty() {
                rule["helpUri"] = json!(v.url);
            }
            if let Some(k) = &v.kev {
                rule["properties"]["tags"] = json!(["vulnerability", "security", v.severity.as_str(), "kev"]);
                rule["properties"]["kev"] = json!({"cve": k.cve, "date_added": k.date_added});
            }
            rule["help"] = json!({
                "text": format!("{}: {} ({})", v.id, v.title, v.severity),
                "markdown": format!("**{}** {}\n\nSeverity: {}", v.id, v.title, v.severity),
            });
            rule
        });
    }
    crate::content::sarif_rules(r, &mut rules);
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut results: Vec<Value> = r
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
    results.extend(crate::content::sarif_results(r, &index));
    let driver = json!({
        "name": "moat",
        "version": r.tool.version,
        "informationUri": "https://example.invalid/moat",
        "rules": rules.into_values().collect::<Vec<_>>()
    });
    write(
        &envelope(driver, results, Some(json!({"source": r.source}))),
        w,
    )
}

/// A SARIF log with one run.
fn envelope(driver: Value, results: Vec<Value>, properties: Option<Value>) -> Value {
    let mut run = json!({
        "tool": {"driver": driver},
        "results": results,
    });
    if let Some(p) = properties {
        run["properties"] = p;
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
    })
}

/// Write a SARIF document, pretty-printed, with a final newline.
pub fn write(doc: &Value, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, doc).map_err(io::Error::other)?;
    writeln!(w)
}

/// The SARIF document for configuration findings (`tool` names the driver, e.g.
/// `moat-lint`); every rule that appears is described from `meta`, the rule registry
/// (moat-lint's or moat-audit's), in the order the rules first appear.
pub fn config_document(
    tool: &str,
    findings: &[ConfigFinding],
    meta: &dyn Fn(&str) -> Option<RuleMeta>,
) -> Value {
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
            let m = meta(code);
            let title = m.as_ref().map(|m| m.title).unwrap_or(code);
            let mut tags: Vec<String> = vec!["security".into()];
            if let Some(m) = &m {
                tags.extend(m.references.iter().map(|s| s.to_string()));
                tags.extend(m.aliases.iter().map(|s| s.to_string()));
            }
            json!({
                "id": code,
                "name": code,
                "shortDescription": {"text": title},
                "fullDescription": {"text": title},
                "defaultConfiguration": {"level": m.as_ref().map(|m| level(m.severity)).unwrap_or("warning")},
                "properties": {"tags": tags, "severity": m.as_ref().map(|m| m.severity.as_str()).unwrap_or("UNKNOWN")},
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
    let driver = json!({
        "name": tool,
        "informationUri": "https://example.invalid/moat",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    envelope(driver, results, None)
}

/// Write configuration findings as SARIF (see [`config_document`]).
pub fn config(
    tool: &str,
    findings: &[ConfigFinding],
    meta: &dyn Fn(&str) -> Option<RuleMeta>,
    w: &mut dyn Write,
) -> io::Result<()> {
    write(&config_document(tool, findings, meta), w)
}

/// The audit report as SARIF 2.1.0 (one run, every audit rule of `rules` in the driver).
/// Audited objects are not files: each result has a logical location (the object's
/// label and kind) instead of a physical one, and keeps the evidence in its properties.
pub fn audit_document(report: &AuditReport, rules: &[RuleMeta]) -> Value {
    let index_of = |code: &str| rules.iter().position(|r| r.code == code);
    let rules_json: Vec<Value> = rules
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
            let index = index_of(f.rule());
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
                    "rules": rules_json,
                }
            },
            "results": results,
        }]
    })
}

/// Write the audit report as SARIF (see [`audit_document`]).
pub fn audit(report: &AuditReport, rules: &[RuleMeta], w: &mut dyn Write) -> io::Result<()> {
    write(&audit_document(report, rules), w)
}
