//! The SARIF output validates against the official SARIF 2.1.0 schema.

#![allow(clippy::unwrap_used)] // tests

use moat_lint::{Kind, lint_source};

#[test]
fn sarif_validates_against_the_schema() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/schemas/sarif-schema-2.1.0.json"
    );
    let Ok(schema_text) = std::fs::read_to_string(schema_path) else {
        eprintln!("skipping: {schema_path} not present");
        return;
    };
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/DF009.Dockerfile"
    ))
    .unwrap();
    let findings = lint_source(Kind::Dockerfile, "DF009.Dockerfile", &text).unwrap();
    assert!(!findings.is_empty());
    let doc = moat_lint::sarif::document(&findings);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        doc["runs"][0]["results"].as_array().unwrap().len(),
        findings.len()
    );
    // Empty result sets are valid too.
    assert!(validator.is_valid(&moat_lint::sarif::document(&[])));
}
