//! Helpers shared by the binary's integration tests: the official JSON schemas in
//! ../shared/schemas and validators built from them.

#![allow(dead_code, clippy::unwrap_used)]

pub mod hostile;

use serde_json::Value;

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

pub fn schema(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{SHARED}/schemas/{name}")).unwrap())
        .unwrap()
}

pub fn validate_cyclonedx(doc: &Value) {
    // The bom schema refers to its neighbours by relative URI; wire them locally.
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
    assert!(errors.is_empty(), "CycloneDX schema errors: {errors:#?}");
}

pub fn validate_spdx(doc: &Value) {
    let v = jsonschema::validator_for(&schema("spdx-2.3-schema.json")).unwrap();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SPDX schema errors: {errors:#?}");
}

pub fn validate_sarif(doc: &Value) {
    let v = jsonschema::validator_for(&schema("sarif-schema-2.1.0.json")).unwrap();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
}
