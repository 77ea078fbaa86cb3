//! `moat scan sbom:FILE` end to end on the real `full` test image
//! (scripts/build-test-images) with a database imported from ../shared/vulndata:
//! - moat's own SBOMs (CycloneDX, SPDX) of the image give exactly the image scan's
//!   findings (the round trip);
//! - syft 1.18.1's SBOMs of the same image (tests/data/sbom, CycloneDX 1.6, SPDX 2.3
//!   JSON and tag-value) give the image scan's findings on every package syft lists;
//! - bad SBOMs fail with exit 2 and a message naming the file.
//!
//! Nothing here is a hard-coded finding: expectations come from the image scan.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::full_image as image;

/// One database and one cache for the whole test binary.
fn env() -> &'static common::ImportedDb {
    static ENV: OnceLock<common::ImportedDb> = OnceLock::new();
    ENV.get_or_init(common::import_vulndata)
}

fn moat(args: &[&str]) -> (i32, Vec<u8>, String) {
    let e = env();
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .arg("--db")
        .arg(&e.db)
        .arg("--cache-dir")
        .arg(&e.cache)
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scan(source: &str) -> Value {
    let (code, out, err) = moat(&["scan", source, "--scanners", "vuln", "--format", "json"]);
    assert_eq!(code, 0, "scan {source}: {err}");
    serde_json::from_slice(&out).unwrap()
}

/// The image's scan, once.
fn image_scan() -> &'static Value {
    static R: OnceLock<Value> = OnceLock::new();
    R.get_or_init(|| scan(&image()))
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A finding as a comparable line: everything a user reads, `layer` optional.
fn finding(v: &Value, with_layer: bool) -> String {
    let p = &v["package"];
    format!(
        "{} {} {}@{} purl={} src={}@{} at {}{} fixed={} sev={} path={}",
        s(&v["id"]),
        s(&p["ecosystem"]),
        s(&p["name"]),
        s(&p["version"]),
        s(&p["purl"]),
        s(&p["source_name"]),
        s(&p["source_version"]),
        s(&v["path"]),
        if with_layer {
            format!(" layer={}", s(&v["layer"]))
        } else {
            String::new()
        },
        s(&v["fixed_versions"]),
        s(&v["severity"]),
        s(&v["dependency_path"]),
    )
}

fn findings(r: &Value, with_layer: bool) -> Vec<String> {
    let mut v: Vec<String> = r["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| finding(f, with_layer))
        .collect();
    v.sort();
    v
}

fn write_sbom(format: &str, name: &str) -> PathBuf {
    let path = env().dir.path().join(name);
    let img = image();
    let (code, _, err) = moat(&[
        "sbom",
        &img,
        "--format",
        format,
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "sbom: {err}");
    path
}

#[test]
fn moat_cyclonedx_round_trip_gives_the_image_findings() {
    let want = findings(image_scan(), true);
    assert!(
        want.len() > 50,
        "the full image has findings: {}",
        want.len()
    );
    let cdx = write_sbom("cyclonedx-json", "full.cdx.json");
    let got = scan(&format!("sbom:{}", cdx.display()));
    assert_eq!(findings(&got, true), want);
    // The inventory and its graph read back whole.
    assert_eq!(got["packages"], image_scan()["packages"]);
    assert_eq!(got["dependencies"], image_scan()["dependencies"]);
    // CycloneDX's operating-system component has no field for the codename.
    for k in ["id", "version_id", "pretty_name"] {
        assert_eq!(got["distro"][k], image_scan()["distro"][k], "{k}");
    }
}

#[test]
fn moat_spdx_round_trip_gives_the_image_findings() {
    // SPDX has no field for a package's layer: everything else is equal.
    let want = findings(image_scan(), false);
    let spdx = write_sbom("spdx-json", "full.spdx.json");
    let got = scan(&format!("sbom:{}", spdx.display()));
    assert_eq!(findings(&got, false), want);
}

/// A gzipped fixture, unpacked into the test's directory.
fn fixture(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/sbom/{name}.gz"));
    let out = env().dir.path().join(name);
    let data = Command::new("gzip").arg("-dc").arg(&src).output().unwrap();
    assert!(data.status.success(), "gzip -dc {}", src.display());
    std::fs::write(&out, data.stdout).unwrap();
    out
}

/// (ecosystem, name, version) of each package.
fn package_keys(r: &Value) -> BTreeSet<(String, String, String)> {
    r["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p["ecosystem"]), pkg_name(p), s(&p["version"])))
        .collect()
}

/// A package's name as its ecosystem compares it (PyPI: PEP 503; syft writes
/// `flask` where the dist-info says `Flask`).
fn pkg_name(p: &Value) -> String {
    let n = s(&p["name"]);
    if p["ecosystem"] == "pypi" {
        n.to_ascii_lowercase().replace(['_', '.'], "-")
    } else {
        n
    }
}

/// A finding by what it is about, for tools that locate packages differently (syft
/// lists a deb package at its `info/*` files first, moat at the status file).
fn finding_key(v: &Value) -> String {
    let p = &v["package"];
    format!(
        "{} {} {}@{} fixed={} sev={}",
        s(&v["id"]),
        s(&p["ecosystem"]),
        pkg_name(p),
        s(&p["version"]),
        s(&v["fixed_versions"]),
        s(&v["severity"]),
    )
}

#[test]
fn syft_sboms_give_the_image_findings_on_the_packages_syft_lists() {
    let img = image_scan();
    for name in [
        "full.syft.cdx.json",
        "full.syft.spdx.json",
        "full.syft.spdx",
    ] {
        let path = fixture(name);
        let got = scan(&format!("sbom:{}", path.display()));
        assert_eq!(got["distro"]["id"], "debian", "{name}");
        assert_eq!(got["distro"]["version_id"], "12", "{name}");
        let listed = package_keys(&got);
        let want: BTreeSet<String> = img["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| {
                let p = &v["package"];
                listed.contains(&(s(&p["ecosystem"]), pkg_name(p), s(&p["version"])))
            })
            .map(finding_key)
            .collect();
        let have: BTreeSet<String> = got["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(finding_key)
            .collect();
        assert!(want.len() > 50, "{name}: {} findings expected", want.len());
        assert_eq!(
            have.difference(&want).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{name}: findings the image scan does not have"
        );
        assert_eq!(
            want.difference(&have).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{name}: image findings the SBOM scan misses"
        );
        // syft's packages are moat's, but for the Cargo.lock crates syft does not read in
        // images (docs/syft-comparison.md).
        let moat_pkgs = package_keys(img);
        // syft also lists the application's own package.json (not an installed
        // package; moat leaves it out).
        let extra: Vec<_> = listed
            .difference(&moat_pkgs)
            .filter(|k| k.1 != "moat-test-node-app")
            .collect();
        assert!(
            extra.is_empty(),
            "{name}: packages moat does not find: {extra:?}"
        );
        // Its dependency graph (dpkg Depends, as syft records it) is read.
        assert!(
            got["dependencies"].as_array().is_some_and(|d| d.len() > 20),
            "{name}: no dependency graph"
        );
    }
}

#[test]
fn transitive_findings_carry_the_path_from_a_top_level_package() {
    let vulns = image_scan()["vulnerabilities"].as_array().unwrap();
    let with_path: Vec<&Value> = vulns
        .iter()
        .filter(|v| v["dependency_path"].is_array())
        .collect();
    assert!(!with_path.is_empty(), "no finding has a dependency path");
    let deps = image_scan()["dependencies"].as_array().unwrap();
    let edge = |a: &str, b: &str| {
        deps.iter().any(|d| {
            d["package"] == a && d["depends_on"].as_array().unwrap().iter().any(|t| t == b)
        })
    };
    let depended: BTreeSet<&str> = deps
        .iter()
        .flat_map(|d| d["depends_on"].as_array().unwrap().iter())
        .filter_map(Value::as_str)
        .collect();
    for v in with_path {
        let path: Vec<&str> = v["dependency_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(path.len() >= 2, "{v}");
        // It ends at the vulnerable package, starts at one nothing depends on, and
        // every step is an edge of the graph.
        assert_eq!(path.last().copied(), v["package"]["purl"].as_str());
        assert!(
            !depended.contains(path[0]),
            "{path:?} starts at a dependency"
        );
        for w in path.windows(2) {
            assert!(edge(w[0], w[1]), "{} -> {} is not an edge", w[0], w[1]);
        }
    }
    // Findings in a top-level package have no path.
    assert!(vulns.iter().any(|v| v["dependency_path"].is_null()));
}

#[test]
fn bad_sboms_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.cdx.json");
    let (code, _, err) = moat(&[
        "scan",
        &format!("sbom:{}", missing.display()),
        "--scanners",
        "vuln",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.cdx.json"), "{err}");

    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"hello\": \"world\"}").unwrap();
    let (code, _, err) = moat(&[
        "scan",
        &format!("sbom:{}", junk.display()),
        "--scanners",
        "vuln",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("junk.json") && err.contains("not a CycloneDX or SPDX SBOM"),
        "{err}"
    );
}

#[test]
fn scanners_that_need_files_are_skipped_with_a_warning() {
    let cdx = write_sbom("cyclonedx-json", "warn.cdx.json");
    let (code, out, err) = moat(&[
        "scan",
        &format!("sbom:{}", cdx.display()),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("an SBOM holds no files"), "{warnings}");
    assert!(err.contains("an SBOM holds no files"), "{err}");
}

#[test]
fn an_sbom_converts_to_another_format() {
    let cdx = write_sbom("cyclonedx-json", "conv.cdx.json");
    let (code, out, err) = moat(&[
        "sbom",
        &format!("sbom:{}", cdx.display()),
        "--format",
        "spdx-json",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_slice(&out).unwrap();
    common::validate_spdx(&doc);
    let n = image_scan()["packages"].as_array().unwrap().len();
    // The source package and the OS besides every package.
    assert_eq!(doc["packages"].as_array().unwrap().len(), n + 2);
}
