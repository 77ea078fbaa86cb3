//! Helpers shared by the binary's integration tests: the official JSON schemas in
//! ../shared/schemas and validators built from them.

#![allow(dead_code, clippy::unwrap_used)]

pub mod hostile;
pub mod serve;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

/// Where scripts/build-test-images put the test images (`$MOAT_TEST_IMAGES` overrides).
pub fn test_images_dir() -> PathBuf {
    std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-images"))
}

/// The real `full` test image as a `docker-archive:` source.
pub fn full_image() -> String {
    let p = test_images_dir().join("full/docker-archive.tar");
    assert!(
        p.exists(),
        "{} missing: run scripts/build-test-images",
        p.display()
    );
    format!("docker-archive:{}", p.display())
}

/// A database imported from ../shared/vulndata by `moat db import`, and a cache
/// directory, in a temporary directory (one per test binary, kept in a `OnceLock`).
pub struct ImportedDb {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub cache: PathBuf,
}

/// Imports ../shared/vulndata with the binary under test.
pub fn import_vulndata() -> ImportedDb {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let cache = dir.path().join("cache");
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(["db", "import", &format!("{SHARED}/vulndata")])
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "db import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ImportedDb { dir, db, cache }
}

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
