//! `moat sbom` end to end on fixture trees: documents
//! valid against the official CycloneDX 1.6 and SPDX 2.3 JSON schemas, byte-identical
//! with SOURCE_DATE_EPOCH, and the `packages[]` keys the scan contract names.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::process::Command;

mod common;
use common::{validate_cyclonedx, validate_spdx};

use common::SHARED;

fn moat(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env(
            "MOAT_CACHE_DIR",
            std::env::temp_dir().join("moat-sbom-cli-test"),
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A tree with an OS database and language packages, licences included.
fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let fix = format!("{SHARED}/fixtures/ospkg-db-parsing");
    let w = |p: &str, c: &[u8]| {
        let path = t.path().join(p.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    };
    w(
        "/var/lib/dpkg/status",
        &std::fs::read(format!("{fix}/dpkg/valid-ubuntu1804/var/lib/dpkg/status")).unwrap(),
    );
    w(
        "/etc/os-release",
        b"ID=ubuntu\nVERSION_ID=\"18.04\"\nPRETTY_NAME=\"Ubuntu 18.04\"\n",
    );
    w(
        "/usr/lib/python3/site-packages/Django-3.2.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: Django\nVersion: 3.2\nLicense: BSD-3-Clause\n",
    );
    w(
        "/usr/lib/python3/site-packages/odd-1.0.dist-info/METADATA",
        b"Name: odd\nVersion: 1.0\nLicense: Some custom licence, see file\n",
    );
    w(
        "/app/node_modules/@babel/core/package.json",
        br#"{"name":"@babel/core","version":"7.0.0","license":"MIT"}"#,
    );
    w(
        "/app/node_modules/a/node_modules/ms/package.json",
        br#"{"name":"ms","version":"2.0.0","license":"MIT OR Apache-2.0"}"#,
    );
    w(
        "/app/node_modules/ms/package.json",
        br#"{"name":"ms","version":"2.0.0"}"#,
    );
    w("/app/node_modules/broken/package.json", b"{");
    t
}

#[test]
fn cyclonedx_is_schema_valid_and_reproducible() {
    let t = tree();
    let src = format!("rootfs:{}", t.path().display());
    let (code, out, err) = moat(&["sbom", &src, "--format", "cyclonedx-json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_slice(&out).unwrap();
    validate_cyclonedx(&doc);
    let comps = doc["components"].as_array().unwrap();
    // 90 dpkg + 2 pypi + 3 npm + the operating system.
    assert_eq!(comps.len(), 96);
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let (_, again, _) = moat(&["sbom", &src, "--format", "cyclonedx-json"]);
    assert_eq!(out, again, "same input, same bytes");
}

#[test]
fn spdx_is_schema_valid_and_reproducible() {
    let t = tree();
    let src = format!("rootfs:{}", t.path().display());
    let out_file = t.path().join("out.spdx.json");
    let (code, _, err) = moat(&[
        "sbom",
        &src,
        "--format",
        "spdx-json",
        "--output",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let out = std::fs::read(&out_file).unwrap();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    validate_spdx(&doc);
    let (_, again, _) = moat(&["sbom", &src, "--format", "spdx-json"]);
    assert_eq!(out, again, "same input, same bytes");
    let pkgs = doc["packages"].as_array().unwrap();
    assert!(
        pkgs.iter()
            .any(|p| p["licenseDeclared"] == "LicenseRef-Some-custom-licence--see-file")
    );
}

#[test]
fn sbom_json_carries_packages_with_locations_and_unknowns() {
    // The same `packages[]` objects `moat scan --format json` carries (the scan's own
    // tests cover its wrapper, which needs an advisory database).
    let t = tree();
    let src = format!("rootfs:{}", t.path().display());
    let (code, out, err) = moat(&["sbom", &src, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let pkgs = doc["packages"].as_array().unwrap();
    let libc = pkgs.iter().find(|p| p["name"] == "libc6").unwrap();
    assert_eq!(libc["ecosystem"], "deb");
    assert_eq!(libc["source_name"], "glibc");
    assert_eq!(libc["locations"][0]["path"], "/var/lib/dpkg/status");
    assert!(
        libc["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/ubuntu/libc6@2.27-3ubuntu1?arch=amd64&distro=ubuntu-18.04"),
        "{}",
        libc["purl"]
    );
    let ms: Vec<_> = pkgs.iter().filter(|p| p["name"] == "ms").collect();
    assert_eq!(ms.len(), 2, "one per install location");
    let unknowns = doc["unknowns"].as_array().unwrap();
    assert_eq!(unknowns.len(), 1);
    assert_eq!(
        unknowns[0]["location"]["path"],
        "/app/node_modules/broken/package.json"
    );
    assert_eq!(doc["distro"]["id"], "ubuntu");
}

#[test]
fn missing_source_is_a_one_line_error() {
    let (code, _, err) = moat(&["sbom", "rootfs:/nonexistent/x", "--format", "json"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("moat: error: rootfs:/nonexistent/x"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
}

#[test]
fn dir_scans_read_lockfiles_rootfs_scans_do_not() {
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{SHARED}/fixtures/lockfile-parsers/nodejs/npm/testdata/package-lock_v3.json"),
        t.path().join("package-lock.json"),
    )
    .unwrap();
    let count = |src: String| {
        let (code, out, err) = moat(&["sbom", &src, "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let doc: Value = serde_json::from_slice(&out).unwrap();
        doc["packages"].as_array().unwrap().len()
    };
    assert!(count(format!("dir:{}", t.path().display())) > 0);
    assert_eq!(count(format!("rootfs:{}", t.path().display())), 0);
    // A bare directory is a source tree.
    assert!(count(t.path().display().to_string()) > 0);
}
