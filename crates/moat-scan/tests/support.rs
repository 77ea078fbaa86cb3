//! Shared by the scan tests: the real test images and a database built from
//! ../shared/vulndata (once per test binary, in a temporary directory).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn vulndata() -> PathBuf {
    repo_root().join("../shared/vulndata")
}

/// `target/test-images` (or `MOAT_TEST_IMAGES`); panics with the fix when missing.
pub fn test_images() -> PathBuf {
    let dir = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/test-images"));
    assert!(
        dir.join("full/docker-archive.tar").exists(),
        "test images missing in {}: run scripts/build-test-images",
        dir.display()
    );
    dir
}

/// A database with all of ../shared/vulndata, built once per test process.
pub fn database() -> PathBuf {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, p) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moat.db");
        let mut w = moat_db::Writer::begin(&path).unwrap();
        w.import_path(&vulndata()).unwrap();
        w.commit().unwrap();
        (dir, path)
    });
    p.clone()
}
