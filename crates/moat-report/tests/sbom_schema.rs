//! CycloneDX and SPDX renderers on edge cases, validated against the official schemas
//! (../shared/schemas): duplicate PURLs, licence expressions and non-SPDX names, an
//! empty inventory, odd names.

#![allow(clippy::unwrap_used)]

use moat_model::{Distro, Ecosystem, Inventory, Location, Package};
use moat_report::{SbomMeta, cyclonedx, spdx};
use serde_json::Value;

const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/schemas");

fn schema(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{SCHEMAS}/{name}")).unwrap()).unwrap()
}

fn pkg(name: &str, purl: &str, path: &str, licenses: &[&str]) -> Package {
    Package {
        name: name.into(),
        version: "1.0".into(),
        ecosystem: Ecosystem::Npm,
        purl: moat_model::Purl::parse(purl).unwrap(),
        source_name: None,
        source_version: None,
        locations: vec![Location {
            path: path.into(),
            layer: Some("sha256:abc".into()),
        }],
        licenses: licenses.iter().map(|s| s.to_string()).collect(),
        found_by: "test".into(),
        cpes: Vec::new(),
    }
}

fn inventory() -> Inventory {
    Inventory {
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Default::default()
        }),
        packages: vec![
            pkg(
                "ms",
                "pkg:npm/ms@1.0",
                "/a/node_modules/ms/package.json",
                &["MIT"],
            ),
            pkg(
                "ms",
                "pkg:npm/ms@1.0",
                "/b/node_modules/ms/package.json",
                &["MIT"],
            ),
            pkg("dual", "pkg:npm/dual@1.0", "/x", &["MIT OR Apache-2.0"]),
            pkg(
                "many",
                "pkg:npm/many@1.0",
                "/y",
                &["GPL-2+", "BSD-3-Clause", "Some licence"],
            ),
            pkg("ünï côdé/ name", "pkg:npm/odd@1.0", "/z", &[]),
        ],
        unknowns: Vec::new(),
        // Edges to both copies of `ms`, and one to a package the inventory lacks.
        dependencies: moat_model::graph::normalize([
            (purl("pkg:npm/dual@1.0"), purl("pkg:npm/ms@1.0")),
            (purl("pkg:npm/dual@1.0"), purl("pkg:npm/many@1.0")),
            (purl("pkg:npm/many@1.0"), purl("pkg:npm/absent@1.0")),
        ]),
    }
}

fn purl(s: &str) -> moat_model::Purl {
    moat_model::Purl::parse(s).unwrap()
}

fn meta() -> SbomMeta {
    SbomMeta {
        source: "docker-archive:x.tar".into(),
        tool_version: "0.1.0".into(),
        timestamp: moat_report::rfc3339(1_700_000_000),
    }
}

fn validate_cdx(doc: &Value) {
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            schema("spdx.SNAPSHOT.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            schema("jsf-0.82.SNAPSHOT.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let v = jsonschema::options()
        .with_registry(&registry)
        .build(&schema("bom-1.6.SNAPSHOT.schema.json"))
        .unwrap();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn validate_spdx(doc: &Value) {
    let v = jsonschema::validator_for(&schema("spdx-2.3-schema.json")).unwrap();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn cyclonedx_edge_cases() {
    let doc = cyclonedx::document(&inventory(), &meta());
    validate_cdx(&doc);
    let comps = doc["components"].as_array().unwrap();
    let refs: Vec<&str> = comps
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            "os:debian@12",
            "pkg:npm/ms@1.0",
            "pkg:npm/ms@1.0#2",
            "pkg:npm/dual@1.0",
            "pkg:npm/many@1.0",
            "pkg:npm/odd@1.0"
        ]
    );
    assert_eq!(
        comps[3]["licenses"],
        serde_json::json!([{ "expression": "MIT OR Apache-2.0" }])
    );
    assert_eq!(
        comps[1]["licenses"],
        serde_json::json!([{ "license": { "id": "MIT" } }])
    );
    assert_eq!(
        comps[4]["licenses"][2],
        serde_json::json!({ "license": { "name": "Some licence" } })
    );
    // The graph, by bom-ref: an edge to a package the inventory lacks is left out.
    assert_eq!(
        doc["dependencies"],
        serde_json::json!([
            { "ref": "pkg:npm/dual@1.0", "dependsOn": ["pkg:npm/many@1.0", "pkg:npm/ms@1.0"] }
        ])
    );
    let empty = cyclonedx::document(&Inventory::default(), &meta());
    validate_cdx(&empty);
    assert!(empty.get("dependencies").is_none());
}

#[test]
fn spdx_edge_cases() {
    let doc = spdx::document(&inventory(), &meta());
    validate_spdx(&doc);
    let pkgs = doc["packages"].as_array().unwrap();
    let ids: std::collections::BTreeSet<&str> =
        pkgs.iter().map(|p| p["SPDXID"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), pkgs.len(), "SPDX ids are unique");
    let many = pkgs.iter().find(|p| p["name"] == "many").unwrap();
    assert_eq!(
        many["licenseDeclared"],
        "LicenseRef-GPL-2- AND BSD-3-Clause AND LicenseRef-Some-licence"
    );
    let extracted = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    assert_eq!(extracted.len(), 2);
    let depends: Vec<(&str, &str)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["relationshipType"] == "DEPENDS_ON")
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap(),
                r["relatedSpdxElement"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        depends,
        [
            ("SPDXRef-Package-npm-3-dual", "SPDXRef-Package-npm-4-many"),
            ("SPDXRef-Package-npm-3-dual", "SPDXRef-Package-npm-1-ms")
        ]
    );
    validate_spdx(&spdx::document(&Inventory::default(), &meta()));
}

#[test]
fn identifiers_follow_content() {
    let a = cyclonedx::document(&inventory(), &meta());
    let b = cyclonedx::document(&inventory(), &meta());
    assert_eq!(a["serialNumber"], b["serialNumber"]);
    let mut other = inventory();
    other.packages.pop();
    let c = cyclonedx::document(&other, &meta());
    assert_ne!(a["serialNumber"], c["serialNumber"]);
    let s1 = spdx::document(&inventory(), &meta());
    let s2 = spdx::document(&other, &meta());
    assert_ne!(s1["documentNamespace"], s2["documentNamespace"]);
}
