//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).

use crate::{ReportError, SbomMeta, content_uuid, is_spdx_expression};
use moat_model::{Inventory, Package};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

/// The `licenses` array: one expression, or one `license` object per entry (an SPDX
/// id where the entry is one, a name otherwise). The schema forbids mixing the two.
fn licenses(p: &Package) -> Option<Value> {
    match p.licenses.as_slice() {
        [] => None,
        [one] if ::spdx::license_id(one).is_none() && is_spdx_expression(one) => {
            Some(json!([{ "expression": one }]))
        }
        many => Some(Value::Array(
            many.iter()
                .map(|l| match ::spdx::license_id(l) {
                    Some(id) => json!({ "license": { "id": id.name } }),
                    None => json!({ "license": { "name": l } }),
                })
                .collect(),
        )),
    }
}

/// Unique, stable `bom-ref`s: the PURL, suffixed where one PURL occurs twice.
pub(crate) fn refs(inv: &Inventory) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    inv.packages
        .iter()
        .map(|p| {
            let n = seen.entry(p.purl.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 {
                p.purl.to_string()
            } else {
                format!("{}#{}", p.purl, n)
            }
        })
        .collect()
}

fn component(p: &Package, bom_ref: &str) -> Value {
    let mut props =
        vec![json!({ "name": "moat:package:ecosystem", "value": p.ecosystem.to_string() })];
    if !p.found_by.is_empty() {
        props.push(json!({ "name": "moat:package:foundBy", "value": p.found_by }));
    }
    if let Some(s) = &p.source_name {
        props.push(json!({ "name": "moat:package:sourceName", "value": s }));
    }
    if let Some(s) = &p.source_version {
        props.push(json!({ "name": "moat:package:sourceVersion", "value": s }));
    }
    for (i, l) in p.locations.iter().enumerate() {
        props.push(json!({ "name": format!("moat:location:{i}:path"), "value": l.path }));
        if let Some(layer) = &l.layer {
            props.push(json!({ "name": format!("moat:location:{i}:layer"), "value": layer }));
        }
    }
    let mut c = json!({
        "bom-ref": bom_ref,
        "type": "library",
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
        "properties": props,
    });
    if let (Some(l), Some(o)) = (licenses(p), c.as_object_mut()) {
        o.insert("licenses".into(), l);
    }
    if let (Some(cpe), Some(o)) = (p.cpes.first(), c.as_object_mut()) {
        o.insert("cpe".into(), json!(cpe));
    }
    c
}

/// The document as a JSON value.
pub fn document(inv: &Inventory, meta: &SbomMeta) -> Value {
    let refs = refs(inv);
    let mut components: Vec<Value> = Vec::new();
    if let Some(d) = &inv.distro {
        let mut os = json!({
            "bom-ref": format!("os:{}@{}", d.id, d.version_id),
            "type": "operating-system",
            "name": d.id,
            "version": d.version_id,
        });
        if let Some(o) = os.as_object_mut()
            && !d.pretty_name.is_empty()
        {
            o.insert("description".into(), json!(d.pretty_name));
        }
        components.push(os);
    }
    components.extend(inv.packages.iter().zip(&refs).map(|(p, r)| component(p, r)));
    let dependencies = dependencies(inv, &refs);
    let mut doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", content_uuid(inv, meta)),
        "version": 1,
        "metadata": {
            "timestamp": meta.timestamp,
            "tools": {
                "components": [
                    { "type": "application", "author": "moat", "name": "moat", "version": meta.tool_version }
                ]
            },
            "component": {
                "bom-ref": "source",
                "type": "container",
                "name": meta.source,
            }
        },
        "components": components,
    });
    if !dependencies.is_empty() {
        doc["dependencies"] = Value::Array(dependencies);
    }
    doc
}

/// The `dependencies` section: each component that depends on others, by `bom-ref`.
/// A PURL listed twice (two locations) gets its edges at each of its refs; an edge to
/// a package the inventory does not hold is left out.
fn dependencies(inv: &Inventory, refs: &[String]) -> Vec<Value> {
    if inv.dependencies.is_empty() {
        return Vec::new();
    }
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    for (p, r) in inv.packages.iter().zip(refs) {
        first.entry(p.purl.as_str()).or_insert(r.as_str());
    }
    let by_purl: BTreeMap<&str, &moat_model::Dependency> = inv
        .dependencies
        .iter()
        .map(|d| (d.package.as_str(), d))
        .collect();
    let mut out = Vec::new();
    for (p, r) in inv.packages.iter().zip(refs) {
        let Some(d) = by_purl.get(p.purl.as_str()) else {
            continue;
        };
        let mut on: Vec<&str> = d
            .depends_on
            .iter()
            .filter_map(|t| first.get(t.as_str()).copied())
            .collect();
        on.sort_unstable();
        on.dedup();
        if !on.is_empty() {
            out.push(json!({ "ref": r, "dependsOn": on }));
        }
    }
    out
}

pub fn render(inv: &Inventory, meta: &SbomMeta, w: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *w, &document(inv, meta))?;
    writeln!(w)?;
    Ok(())
}

/// CycloneDX 1.6 of a scan report: the inventory's components plus a `vulnerabilities`
/// section pointing at them.
pub fn scan(r: &moat_model::Report, meta: &SbomMeta, w: &mut dyn Write) -> Result<(), ReportError> {
    let inv = Inventory {
        distro: r.distro.clone(),
        packages: r.packages.clone(),
        unknowns: r.unknowns.clone(),
        dependencies: r.dependencies.clone(),
    };
    let mut doc = document(&inv, meta);
    let vulns: Vec<Value> = r
        .vulnerabilities
        .iter()
        .map(|v| {
            let mut ratings: Vec<Value> = Vec::new();
            let rated_by_cvss = v.cvss.iter().any(|c| c.source == v.severity_source);
            if !rated_by_cvss {
                let mut r = json!({"severity": v.severity.as_str().to_ascii_lowercase()});
                if !v.severity_source.is_empty() {
                    r["method"] = json!("other");
                    r["source"] = json!({"name": v.severity_source});
                }
                ratings.push(r);
            }
            for c in &v.cvss {
                let sev = if c.source == v.severity_source {
                    v.severity
                } else if c.version == "2.0" {
                    moat_model::Severity::from_cvss_v2_score(c.score)
                } else {
                    moat_model::Severity::from_cvss_score(c.score)
                };
                let mut r = json!({
                    "source": {"name": c.source},
                    "score": c.score,
                    "severity": sev.as_str().to_ascii_lowercase(),
                    "method": match c.version.as_str() {
                        "2.0" => "CVSSv2",
                        "3.0" => "CVSSv3",
                        "4.0" => "CVSSv4",
                        _ => "CVSSv31",
                    },
                });
                if !c.vector.is_empty() {
                    r["vector"] = json!(c.vector);
                }
                ratings.push(r);
            }
            let mut out = json!({
                "bom-ref": format!("{}@{}", v.id, v.package.purl),
                "id": v.id,
                "source": {"name": v.data_source},
                "ratings": ratings,
                "description": v.title,
                "affects": [{"ref": v.package.purl}],
            });
            if !v.url.is_empty() {
                out["source"]["url"] = json!(v.url);
            }
            if !v.fixed_versions.is_empty() {
                out["recommendation"] = json!(format!(
                    "Upgrade {} to {}",
                    v.package.name,
                    v.fixed_versions.join(" or ")
                ));
            }
            out
        })
        .collect();
    doc["vulnerabilities"] = Value::Array(vulns);
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)?;
    Ok(())
}
