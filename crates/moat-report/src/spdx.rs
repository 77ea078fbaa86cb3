//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).

use crate::{ReportError, SbomMeta, content_uuid, is_spdx_expression};
use moat_model::{Inventory, Package};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;

/// `[A-Za-z0-9.-]` only, as SPDX identifiers require.
fn idstring(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `licenseDeclared`: the entries joined with AND when each is valid SPDX; an entry that
/// is not becomes a `LicenseRef-` recorded in `extracted`.
fn declared(p: &Package, extracted: &mut BTreeMap<String, String>) -> String {
    if p.licenses.is_empty() {
        return "NOASSERTION".into();
    }
    let parts: Vec<String> = p
        .licenses
        .iter()
        .map(|l| {
            if is_spdx_expression(l) {
                if p.licenses.len() > 1 && l.contains(' ') {
                    format!("({l})")
                } else {
                    l.clone()
                }
            } else {
                let id = format!("LicenseRef-{}", idstring(l));
                extracted.insert(id.clone(), l.clone());
                id
            }
        })
        .collect();
    parts.join(" AND ")
}

pub fn document(inv: &Inventory, meta: &SbomMeta) -> Value {
    let uuid = content_uuid(inv, meta);
    let mut extracted = BTreeMap::new();
    let mut packages = vec![json!({
        "name": meta.source,
        "SPDXID": "SPDXRef-Source",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
    })];
    let mut rels = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Source",
    })];
    if let Some(d) = &inv.distro {
        packages.push(json!({
            "name": d.id,
            "SPDXID": "SPDXRef-OperatingSystem",
            "versionInfo": d.version_id,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "OPERATING_SYSTEM",
            "description": d.pretty_name,
        }));
        rels.push(json!({
            "spdxElementId": "SPDXRef-Source",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": "SPDXRef-OperatingSystem",
        }));
    }
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    for (i, p) in inv.packages.iter().enumerate() {
        let id = format!(
            "SPDXRef-Package-{}-{}-{}",
            p.ecosystem,
            i + 1,
            idstring(&p.name)
        );
        let locs: Vec<String> = p.locations.iter().map(|l| l.path.clone()).collect();
        let mut pkg = json!({
            "name": p.name,
            "SPDXID": id,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared(p, &mut extracted),
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "LIBRARY",
            "sourceInfo": format!("found by moat {} in: {}", p.found_by, locs.join(", ")),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }],
        });
        if let Some(refs) = pkg["externalRefs"].as_array_mut() {
            for cpe in &p.cpes {
                refs.push(json!({
                    "referenceCategory": "SECURITY",
                    "referenceType": "cpe23Type",
                    "referenceLocator": cpe,
                }));
            }
        }
        if let (Some(s), Some(o)) = (&p.source_name, pkg.as_object_mut()) {
            o.insert(
                "sourceInfo".into(),
                json!(format!(
                    "source package {s}{}; found by moat {} in: {}",
                    p.source_version
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default(),
                    p.found_by,
                    locs.join(", ")
                )),
            );
        }
        packages.push(pkg);
        rels.push(json!({
            "spdxElementId": "SPDXRef-Source",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
        ids.entry(p.purl.as_str()).or_insert(id);
    }
    // The dependency graph: `A DEPENDS_ON B`, by each PURL's first package.
    for d in &inv.dependencies {
        let Some(from) = ids.get(d.package.as_str()) else {
            continue;
        };
        for t in &d.depends_on {
            if let Some(to) = ids.get(t.as_str()) {
                rels.push(json!({
                    "spdxElementId": from,
                    "relationshipType": "DEPENDS_ON",
                    "relatedSpdxElement": to,
                }));
            }
        }
    }
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": meta.source,
        "documentNamespace": format!("https://moat.invalid/spdx/{}-{uuid}", idstring(&meta.source)),
        "creationInfo": {
            "created": meta.timestamp,
            "creators": [format!("Tool: moat-{}", meta.tool_version)],
        },
        "documentDescribes": ["SPDXRef-Source"],
        "packages": packages,
        "relationships": rels,
    });
    if !extracted.is_empty()
        && let Some(o) = doc.as_object_mut()
    {
        o.insert(
                "hasExtractedLicensingInfos".into(),
                Value::Array(
                    extracted
                        .into_iter()
                        .map(|(id, text)| json!({ "licenseId": id, "extractedText": text, "name": text }))
                        .collect(),
                ),
            );
    }
    doc
}

pub fn render(inv: &Inventory, meta: &SbomMeta, w: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *w, &document(inv, meta))?;
    writeln!(w)?;
    Ok(())
}
