//! `moat scan --scanners secret,malware,file,integrity` end to end (issue 14):
//! - the planted image of scripts/build-content-image (Debian's real packages plus
//!   generated credentials, EICAR, a miner script, a reverse shell, a setuid shell
//!   copy, a replaced dpkg binary; some deleted or overwritten in a later layer, some in
//!   the config): every planted item is found, in the right layer, and no planted
//!   secret is ever printed;
//! - the clean test images (Debian, Alpine, the language image; as archives and as
//!   rootfs directories): zero content findings.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::test_images_dir as images;

struct Planted {
    _dir: tempfile::TempDir,
    tar: PathBuf,
    expected: Value,
}

/// The planted image, built once per test binary.
fn planted() -> &'static Planted {
    static P: OnceLock<Planted> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-content-image");
        let out = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .env("MOAT_TEST_IMAGES", images())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "build-content-image: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("expected.json")).unwrap())
                .unwrap();
        Planted {
            tar: dir.path().join("planted.tar"),
            _dir: dir,
            expected,
        }
    })
}

fn moat(args: &[&str], cache: &Path) -> (i32, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONTENT: &str = "secret,malware,file,integrity";

fn scan(source: &str, format: &str, extra: &[&str]) -> Vec<u8> {
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["scan", source, "--scanners", CONTENT, "--format", format];
    args.extend_from_slice(extra);
    let (code, out, err) = moat(&args, cache.path());
    assert_eq!(code, 0, "{source}: {err}");
    out
}

fn list<'a>(r: &'a Value, key: &str) -> &'a [Value] {
    r[key].as_array().map(Vec::as_slice).unwrap_or(&[])
}

#[test]
fn every_planted_item_is_found_in_its_layer() {
    let p = planted();
    let src = format!("docker-archive:{}", p.tar.display());
    let r: Value = serde_json::from_slice(&scan(&src, "json", &[])).unwrap();
    let layers: Vec<&str> = r["image"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diff_id"].as_str().unwrap())
        .collect();
    assert_eq!(layers.len(), 3, "base + 2 planted layers");
    let key = |s: &str| match s {
        "secret" => "secrets",
        "malware" => "malware",
        "file" => "files",
        _ => "integrity",
    };
    let mut missing = Vec::new();
    for e in p.expected["expected"].as_array().unwrap() {
        let want_layer = e["layer"].as_u64().map_or("", |i| layers[i as usize]);
        let want_deleted = e["deleted_in"].as_u64().map(|i| layers[i as usize]);
        let found = list(&r, key(e["scanner"].as_str().unwrap()))
            .iter()
            .any(|f| {
                f["rule"] == e["rule"]
                    && f["location"]["path"] == e["path"]
                    && f["location"]["layer"].as_str() == Some(want_layer)
                    && f["deleted_in"].as_str() == want_deleted
            });
        if !found {
            missing.push(e.clone());
        }
    }
    assert!(missing.is_empty(), "not found: {missing:#?}\nreport: {r:#}");
    // Nothing else: every finding is a planted one (no noise from the Debian base).
    let planted_paths: Vec<&str> = p.expected["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for k in ["secrets", "malware", "files", "integrity"] {
        for f in list(&r, k) {
            let path = f["location"]["path"].as_str().unwrap();
            assert!(
                planted_paths.contains(&path),
                "unplanted {k} finding: {f:#}"
            );
        }
    }
}

#[test]
fn planted_secrets_are_never_printed() {
    let p = planted();
    let src = format!("docker-archive:{}", p.tar.display());
    for format in ["json", "table", "sarif", "html"] {
        let out = String::from_utf8(scan(&src, format, &[])).unwrap();
        for raw in p.expected["raw"].as_array().unwrap() {
            let raw = raw.as_str().unwrap();
            assert!(!out.contains(raw), "{format} output prints a secret");
        }
        assert!(
            out.contains("AKIA"),
            "{format}: the redacted prefix is shown"
        );
    }
}

#[test]
fn fail_on_and_severity_apply_to_content_findings() {
    let p = planted();
    let src = format!("docker-archive:{}", p.tar.display());
    let cache = tempfile::tempdir().unwrap();
    let (code, _, err) = moat(
        &[
            "scan",
            &src,
            "--scanners",
            "secret",
            "--fail-on",
            "critical",
            "--format",
            "json",
        ],
        cache.path(),
    );
    assert_eq!(code, 1, "{err}");
    let (code, out, err) = moat(
        &[
            "scan",
            &src,
            "--scanners",
            "secret",
            "--severity",
            "LOW",
            "--format",
            "json",
        ],
        cache.path(),
    );
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        list(&r, "secrets").is_empty(),
        "--severity LOW keeps no secret"
    );
}

#[test]
fn user_rules_hash_list_and_ignore_file() {
    let p = planted();
    let src = format!("docker-archive:{}", p.tar.display());
    let dir = tempfile::tempdir().unwrap();
    // A custom secret rule, an allow-list entry and a disabled bundled rule.
    let cfg = dir.path().join("secrets.yaml");
    std::fs::write(
        &cfg,
        "rules:\n  - id: corp-tenant\n    category: Custom\n    title: tenant id\n    severity: LOW\n    keywords: [corp-]\n    regex: '(corp-[0-9a-f]{10})'\n\
         disable: [jwt]\nallow:\n  paths: ['^/app/config/']\n",
    )
    .unwrap();
    // A user YARA rule and the sha256 of the planted setuid shell (a copy of bash).
    let rules = dir.path().join("yara");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("mine.yar"),
        "rule Planted_Notify { strings: $a = \"hooks.slack.com\" condition: $a }\n",
    )
    .unwrap();
    let bash = std::fs::read(images().join("debian/rootfs/usr/bin/bash")).unwrap();
    let sha = {
        use std::io::Write;
        let mut c = Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(&bash).unwrap();
        let o = c.wait_with_output().unwrap();
        String::from_utf8(o.stdout).unwrap()[..64].to_string()
    };
    let hashes = dir.path().join("bad.txt");
    std::fs::write(&hashes, format!("# known bad\n{sha} bash-copy\n")).unwrap();
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: git-directory\n    reason: test\n",
    )
    .unwrap();
    let out = scan(
        &src,
        "json",
        &[
            "--secret-config",
            cfg.to_str().unwrap(),
            "--yara-rules",
            rules.to_str().unwrap(),
            "--malware-hashes",
            hashes.to_str().unwrap(),
            "--ignore-file",
            ignore.to_str().unwrap(),
        ],
    );
    let r: Value = serde_json::from_slice(&out).unwrap();
    let has = |k: &str, rule: &str, path: &str| {
        list(&r, k)
            .iter()
            .any(|f| f["rule"] == rule && f["location"]["path"] == path)
    };
    assert!(has("secrets", "corp-tenant", "/app/.env"));
    assert!(!list(&r, "secrets").iter().any(|f| f["rule"] == "jwt"));
    assert!(!has(
        "secrets",
        "stripe-secret-key",
        "/app/config/settings.py"
    ));
    assert!(has("malware", "Planted_Notify", "/app/notify.sh"));
    // The bash copy in the planted layer and /usr/bin/bash of the base.
    assert!(has("malware", "known-bad-hash", "/usr/local/bin/rootsh"));
    assert!(has("malware", "known-bad-hash", "/usr/bin/bash"));
    assert!(
        !list(&r, "files")
            .iter()
            .any(|f| f["rule"] == "git-directory")
    );
    // A broken rules file fails before the image is opened, naming the file.
    std::fs::write(rules.join("bad.yar"), "rule x { condition: $nope }\n").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (code, _, err) = moat(
        &[
            "scan",
            &src,
            "--scanners",
            "malware",
            "--yara-rules",
            rules.to_str().unwrap(),
        ],
        cache.path(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("bad.yar") && err.contains("$nope"), "{err}");
}

/// Noise makes users turn content scanners off: the clean real images give nothing
/// (but what the language image plants on purpose).
#[test]
fn clean_images_have_no_content_findings() {
    let dir = images();
    let mut sources = Vec::new();
    for name in ["debian", "alpine", "full"] {
        sources.push(format!(
            "docker-archive:{}",
            dir.join(name).join("docker-archive.tar").display()
        ));
    }
    sources.push(format!("rootfs:{}", dir.join("debian/rootfs").display()));
    sources.push(format!("rootfs:{}", dir.join("alpine/rootfs").display()));
    for src in sources {
        let r: Value = serde_json::from_slice(&scan(&src, "json", &[])).unwrap();
        for k in ["secrets", "malware", "files", "integrity"] {
            let mut got: Vec<String> = list(&r, k)
                .iter()
                .map(|f| {
                    format!(
                        "{} {}",
                        f["rule"].as_str().unwrap(),
                        f["location"]["path"].as_str().unwrap()
                    )
                })
                .collect();
            got.sort();
            // The language image carries a setuid and a setgid copy of /usr/bin/true on
            // purpose (docs/test-images.md, layer 2): true positives, and the only ones.
            let want: Vec<&str> = if k == "files" && src.contains("/full/") {
                vec![
                    "setgid-unowned /usr/local/bin/moat-sgid",
                    "setuid-unowned /usr/local/bin/moat-suid",
                ]
            } else {
                vec![]
            };
            assert_eq!(got, want, "{src}: {k}");
        }
    }
}
