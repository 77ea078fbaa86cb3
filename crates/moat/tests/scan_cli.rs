//! `moat scan` end to end on the real `full` test image (scripts/build-test-images)
//! with a database imported from ../shared/vulndata by `moat db import`.
//! Expectations are derived from the scan's own JSON and the data, never hard-coded
//! findings; the independent oracle check lives in moat-scan's correctness test.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{SHARED, full_image as image};

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

fn scan_json(extra: &[&str]) -> Value {
    let img = image();
    let mut args = vec!["scan", img.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = moat(&args);
    assert_eq!(code, 0, "stderr: {err}");
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn json_report_has_the_documented_keys() {
    let r = scan_json(&[]);
    let vulns = r["vulnerabilities"].as_array().unwrap();
    assert!(!vulns.is_empty());
    for v in vulns {
        for k in [
            "id",
            "aliases",
            "fixed_versions",
            "severity",
            "layer",
            "path",
        ] {
            assert!(!v[k].is_null(), "{k} missing in {v}");
        }
        for k in ["name", "version", "ecosystem", "purl"] {
            assert!(v["package"][k].is_string(), "package.{k} missing in {v}");
        }
        assert!(v["layer"].as_str().unwrap().starts_with("sha256:"));
    }
    // OS findings are matched by source package in Debian:12 only.
    for v in vulns.iter().filter(|v| v["package"]["ecosystem"] == "deb") {
        assert_eq!(v["matched_by"]["namespace"], "Debian:12");
        assert!(v["id"].as_str().unwrap().starts_with("DEBIAN-"));
    }
    let pkgs = r["packages"].as_array().unwrap();
    assert!(
        pkgs.iter()
            .any(|p| p["ecosystem"] == "deb" && p["source_name"].is_string())
    );
    // ../shared/vulndata has npm advisories: the image's npm packages are matched, so
    // no "no data" warning names npm (the warning itself is tested below).
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!warnings.iter().any(|w| w.contains("npm")), "{warnings:?}");
    assert!(
        vulns.iter().any(|v| v["package"]["ecosystem"] == "npm"),
        "no npm finding although the data has npm advisories"
    );
}

/// A namespace without data is a clear warning, never a silent clean result: a database
/// that holds only the Debian advisories warns about every language ecosystem of the
/// image that it cannot match (npm among them).
#[test]
fn an_ecosystem_without_data_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("debian-only.db");
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args([
            "db",
            "import",
            &format!("{SHARED}/vulndata/osv/Debian/all.zip"),
        ])
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(["scan", &image(), "--format", "json"])
        .arg("--db")
        .arg(&db)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for eco in ["npm", "pypi", "crates.io"] {
        assert!(
            warnings.iter().any(|w| w.to_lowercase().contains(eco)),
            "no warning for {eco}: {warnings:?}"
        );
    }
    // Debian has data: it is matched, not warned about.
    assert!(
        !warnings.iter().any(|w| w.contains("Debian")),
        "{warnings:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("npm"),
        "the warning also reaches stderr: {stderr}"
    );
}

#[test]
fn fail_on_gates_the_pipeline() {
    let r = scan_json(&[]);
    let sev_rank = |s: &str| {
        ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let max = r["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| sev_rank(v["severity"].as_str().unwrap()))
        .max()
        .unwrap();
    let names = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
    let img = image();
    let (code, _, _) = moat(&["scan", &img, "--format", "json", "--fail-on", names[max]]);
    assert_eq!(
        code, 1,
        "a finding at {} must fail --fail-on {}",
        names[max], names[max]
    );
    if max < 4 {
        let (code, _, _) = moat(&[
            "scan",
            &img,
            "--format",
            "json",
            "--fail-on",
            names[max + 1],
        ]);
        assert_eq!(code, 0);
    }
    // Filtering by severity removes what --fail-on would see.
    let keep = names[0];
    let (code, out, _) = moat(&[
        "scan",
        &img,
        "--format",
        "json",
        "--severity",
        keep,
        "--fail-on",
        "LOW",
    ]);
    let filtered: Value = serde_json::from_slice(&out).unwrap();
    let any_low_or_more = filtered["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["severity"] != "UNKNOWN");
    assert!(!any_low_or_more);
    assert_eq!(code, 0);
    assert!(!filtered["ignored"].as_array().unwrap().is_empty() || max == 0);
}

#[test]
fn ignore_file_vex_and_ignore_unfixed() {
    let r = scan_json(&[]);
    let vulns = r["vulnerabilities"].as_array().unwrap();
    let first = &vulns[0];
    let id = first["id"].as_str().unwrap();
    let other = vulns.iter().find(|v| v["id"] != first["id"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        format!(
            "ignore:\n  - id: {id}\n    reason: accepted for the test\n  - id: {}\n    expires: 2020-01-01\n    reason: old\n",
            other["id"].as_str().unwrap()
        ),
    )
    .unwrap();
    let vex = dir.path().join("vex.json");
    std::fs::write(
        &vex,
        serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.invalid/vex/test",
            "author": "test", "timestamp": "2026-11-29T00:00:00Z", "version": 1,
            "statements": [{
                "vulnerability": {"name": other["id"]},
                "products": [{"@id": other["package"]["purl"]}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path"
            }]
        })
        .to_string(),
    )
    .unwrap();
    let filtered = scan_json(&[
        "--ignore-file",
        ignore.to_str().unwrap(),
        "--vex",
        vex.to_str().unwrap(),
    ]);
    let ids: Vec<&str> = filtered["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert!(!ids.contains(&id), "ignored id still reported");
    let ignored = filtered["ignored"].as_array().unwrap();
    assert!(
        ignored
            .iter()
            .any(|i| i["id"] == id && i["suppressed_by"]["reason"] == "accepted for the test")
    );
    assert!(ignored.iter().any(|i| i["id"] == other["id"]
        && i["suppressed_by"]["kind"] == "vex"
        && i["suppressed_by"]["source"] == "https://example.invalid/vex/test"));
    let warnings = filtered["warnings"].to_string();
    assert!(warnings.contains("expired"), "{warnings}");

    let unfixed = scan_json(&["--ignore-unfixed"]);
    for v in unfixed["vulnerabilities"].as_array().unwrap() {
        assert!(!v["fixed_versions"].as_array().unwrap().is_empty(), "{v}");
    }
}

#[test]
fn sarif_and_cyclonedx_validate_against_the_official_schemas() {
    let img = image();
    let (code, out, err) = moat(&["scan", &img, "--format", "sarif"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_slice(&out).unwrap();
    common::validate_sarif(&doc);
    assert!(!doc["runs"][0]["results"].as_array().unwrap().is_empty());

    let (code, out, err) = moat(&["scan", &img, "--format", "cyclonedx-json"]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_slice(&out).unwrap();
    common::validate_cyclonedx(&doc);
    let refs: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    for v in doc["vulnerabilities"].as_array().unwrap() {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        assert!(refs.contains(&r), "dangling ref {r}");
    }
}

#[test]
fn explain_says_why_reported_and_why_dropped() {
    let r = scan_json(&[]);
    let v = &r["vulnerabilities"][0];
    let img = image();
    let (code, out, _) = moat(&["scan", &img, "--explain", v["id"].as_str().unwrap()]);
    assert_eq!(code, 0);
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains("REPORTED"), "{s}");
    assert!(
        s.contains(v["matched_by"]["namespace"].as_str().unwrap()),
        "{s}"
    );
}

#[test]
fn the_same_scan_renders_the_same_bytes() {
    let img = image();
    let a = moat(&["scan", &img, "--format", "json"]).1;
    let b = moat(&["scan", &img, "--format", "json", "--no-cache"]).1;
    assert_eq!(a, b);
}

#[test]
fn concurrent_scans_share_the_cache() {
    let img = image();
    let cache = tempfile::tempdir().unwrap();
    let e = env();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_moat"))
            .args(["scan", &img, "--format", "json"])
            .arg("--db")
            .arg(&e.db)
            .arg("--cache-dir")
            .arg(cache.path())
            .env("SOURCE_DATE_EPOCH", "1764374400")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let kids: Vec<_> = (0..3).map(|_| spawn()).collect();
    let outs: Vec<_> = kids
        .into_iter()
        .map(|k| k.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert!(o.status.success());
        assert_eq!(o.stdout, outs[0].stdout);
    }
    // And a warm rescan agrees with them.
    let o = spawn().wait_with_output().unwrap();
    assert_eq!(o.stdout, outs[0].stdout);
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"this is not a tar archive at all").unwrap();
    let src = format!("docker-archive:{}", junk.display());
    let (code, _, err) = moat(&["scan", &src]);
    assert_eq!(code, 2);
    assert!(err.contains("junk.tar"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let img = image();
    let (code, _, err) = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(["scan", &img, "--db"])
        .arg(dir.path().join("none.db"))
        .arg("--cache-dir")
        .arg(dir.path())
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                o.stdout,
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 2);
    assert!(err.contains("none.db") && err.contains("moat db"), "{err}");

    let bad_ignore = dir.path().join("bad.yaml");
    std::fs::write(&bad_ignore, "ignore: [ {idd: 1} ]").unwrap();
    let (code, _, err) = moat(&["scan", &img, "--ignore-file", bad_ignore.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.yaml"), "{err}");

    let (code, _, err) = moat(&["scan", &img, "--scanners", "bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("bogus"), "{err}");
}

#[test]
fn misconfig_scanner_reports_image_config_findings() {
    let img = image();
    let (code, out, err) = moat(&[
        "scan",
        &img,
        "--format",
        "json",
        "--scanners",
        "vuln,misconfig",
    ]);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    let m = r["misconfigurations"].as_array().unwrap();
    assert!(!m.is_empty());
    for f in m {
        assert!(f["rule"].as_str().unwrap().starts_with("IC"), "{f}");
    }
    // The `full` image has a setuid file added in layer 2 (scripts/build-test-images).
    assert!(
        m.iter()
            .any(|f| f["message"].as_str().unwrap().contains("setuid")),
        "{m:#?}"
    );
    // Without the scanner, none.
    let r = scan_json(&[]);
    assert!(r["misconfigurations"].as_array().unwrap().is_empty());
}

/// A second image sharing the base layer reads only its new layers: the base layer's
/// cached tar (keyed by diff_id) is reused as it is, not unpacked again.
#[test]
fn a_second_image_reuses_the_shared_base_layer() {
    let full = image();
    let base = full.replace("full/docker-archive.tar", "debian/docker-archive.tar");
    let cache = tempfile::tempdir().unwrap();
    let e = env();
    let scan = |src: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_moat"))
            .args(["scan", src, "--format", "json"])
            .arg("--db")
            .arg(&e.db)
            .arg("--cache-dir")
            .arg(cache.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let r = scan(&base);
    let base_layer = r["image"]["layers"][0]["diff_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cached = cache
        .path()
        .join("layers/sha256")
        .join(format!("{}.tar", base_layer.trim_start_matches("sha256:")));
    let before = std::fs::metadata(&cached).unwrap();
    let r = scan(&full);
    assert_eq!(r["image"]["layers"][0]["diff_id"], base_layer.as_str());
    let after = std::fs::metadata(&cached).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );
    // The full image's own layers were unpacked next to it.
    let n = std::fs::read_dir(cache.path().join("layers/sha256"))
        .unwrap()
        .count();
    assert!(n >= r["image"]["layers"].as_array().unwrap().len(), "{n}");
}
