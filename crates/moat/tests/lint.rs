//! `moat lint` and `moat rules` end to end: exit codes, JSON shape, formats, filters,
//! suppressions, directory walking.

#![allow(clippy::unwrap_used)] // tests

use std::path::Path;
use std::process::{Command, Output};

fn moat(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const BAD_DOCKERFILE: &str =
    "FROM ubuntu:latest\nRUN curl -fsSL https://x.example/i.sh | sh\nUSER root\n";

#[test]
fn json_findings_have_the_documented_fields_and_fail_on_sets_exit_code() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile", BAD_DOCKERFILE);
    let out = moat(&["lint", "--format", "json", "Dockerfile"], d.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = doc["findings"].as_array().unwrap();
    let root = f.iter().find(|x| x["rule"] == "DF001").unwrap();
    for k in [
        "rule", "aliases", "severity", "message", "path", "line", "column",
    ] {
        assert!(root.get(k).is_some(), "missing {k}");
    }
    assert_eq!(root["line"], 3);
    assert!(
        root["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "DL3002")
    );
    assert!(f.iter().any(|x| x["rule"] == "DF009" && x["line"] == 2));

    let out = moat(&["lint", "--fail-on", "high", "Dockerfile"], d.path());
    assert_eq!(out.status.code(), Some(1));
    let out = moat(&["lint", "--fail-on", "critical", "Dockerfile"], d.path());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn select_ignore_accept_codes_aliases_and_prefixes() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile", BAD_DOCKERFILE);
    let rules = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["lint", "--format", "json"];
        a.extend_from_slice(args);
        a.push("Dockerfile");
        let out = moat(&a, d.path());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rules(&["--select", "DL3002"]), ["DF001"]);
    assert_eq!(rules(&["--select", "DF009,DF001"]), ["DF009", "DF001"]);
    assert!(
        !rules(&["--ignore", "DF0"])
            .iter()
            .any(|r| r.starts_with("DF0"))
    );
}

#[test]
fn unreadable_and_unparseable_inputs_exit_2_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yml", "services: [\n");
    write(d.path(), "Dockerfile", "FROM debian:12.8\n");
    let out = moat(&["lint", "compose.yml", "Dockerfile"], d.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("compose.yml: invalid YAML"), "{err}");
    let out = moat(&["lint", "missing-file"], d.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing-file"));
}

#[test]
fn directories_are_walked_and_kinds_detected() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "app/Dockerfile", BAD_DOCKERFILE);
    write(
        d.path(),
        "app/docker-compose.yml",
        "services:\n  db:\n    image: postgres:17\n    privileged: true\n",
    );
    write(
        d.path(),
        "etc/daemon.json",
        "{\"insecure-registries\": [\"r:5000\"]}\n",
    );
    write(d.path(), "app/README.md", "FROM x\n");
    write(d.path(), "node_modules/x/Dockerfile", "FROM ignored\n");
    let out = moat(&["lint", "--format", "json", "."], d.path());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["files"], 3);
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"DF001") && rules.contains(&"DC001") && rules.contains(&"DD006"));
}

#[test]
fn suppressions_inline_and_config_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Dockerfile",
        "FROM ubuntu:latest\n# moat:ignore DF009 vendor installer, checked manually\nRUN curl -fsSL https://x.example/i.sh | sh\nUSER root\n",
    );
    write(
        d.path(),
        ".moat-lint.toml",
        "ignore = [\"DL3007\"]\n[[suppress]]\nrules = [\"DF001\"]\npaths = [\"Dockerfile\"]\nreason = \"test\"\n",
    );
    let out = moat(&["lint", "--format", "json", "Dockerfile"], d.path());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for gone in ["DF009", "DF004", "DF001"] {
        assert!(!rules.contains(&gone), "{gone} in {rules:?}");
    }
    write(d.path(), "bad.toml", "nope = [\n");
    let out = moat(&["lint", "--config", "bad.toml", "Dockerfile"], d.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sarif_and_table_formats() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "Dockerfile", BAD_DOCKERFILE);
    let out = moat(&["lint", "--format", "sarif", "Dockerfile"], d.path());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert!(!doc["runs"][0]["results"].as_array().unwrap().is_empty());
    let out = moat(&["lint", "Dockerfile"], d.path());
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("Dockerfile:3:1") && t.contains("DF001"), "{t}");
}

#[test]
fn rules_lists_every_rule_with_metadata() {
    let d = tempfile::tempdir().unwrap();
    let out = moat(&["rules", "--format", "json"], d.path());
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = doc.as_array().unwrap();
    assert!(rules.len() >= 80, "{}", rules.len());
    let df001 = rules.iter().find(|r| r["code"] == "DF001").unwrap();
    assert_eq!(df001["target"], "dockerfile");
    assert!(
        df001["references"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "CIS-4.1")
    );
    // Audit rules are listed too, each code once.
    for prefix in ["DF", "DC", "DD", "IC", "CC", "DH", "DV"] {
        assert!(
            rules
                .iter()
                .any(|r| r["code"].as_str().unwrap().starts_with(prefix)),
            "{prefix}"
        );
    }
    let mut codes: Vec<&str> = rules.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let n = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), n, "duplicate rule codes or unsorted output");
}

#[test]
fn compose_reads_dotenv_and_extends_from_another_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env", "DB_PORT=5432\n");
    write(
        d.path(),
        "common.yml",
        "services:\n  base:\n    image: postgres:17\n    privileged: true\n",
    );
    write(
        d.path(),
        "compose.yaml",
        "services:\n  db:\n    extends:\n      file: common.yml\n      service: base\n    ports:\n      - \"${DB_PORT}:${DB_PORT:-1}\"\n",
    );
    let out = moat(&["lint", "--format", "json", "compose.yaml"], d.path());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = doc["findings"].as_array().unwrap();
    assert!(f.iter().any(|x| x["rule"] == "DC001"), "extends: {f:?}");
    assert!(
        f.iter().any(|x| x["rule"] == "DC008"
            && x["line"] == 7
            && x["message"].as_str().unwrap().contains("5432")),
        "interpolation: {f:?}"
    );
}
