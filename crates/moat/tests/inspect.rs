//! `moat inspect` on the real test images, checked against skopeo (the oracle): the
//! manifest digest, config fields, diff_ids and history must agree.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn images() -> PathBuf {
    let p = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/test-images"
            ))
        });
    assert!(
        p.join("full/oci").is_dir(),
        "test images missing under {}: run `bash scripts/build-test-images` first",
        p.display()
    );
    p
}

fn moat(cache: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .arg("inspect")
        .args(args)
        .env("MOAT_CACHE_DIR", cache)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is needed (scripts/deps/apt.txt)");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sha256(b: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b)?;
            c.wait_with_output()
        })
        .unwrap();
    format!(
        "sha256:{}",
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
    )
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// Our JSON against skopeo's view of the same image.
fn check(ours: &Value, transport: &str) {
    let cfg: Value = serde_json::from_slice(&skopeo(&["inspect", "--config", transport])).unwrap();
    let c = &cfg["config"];
    assert_eq!(ours["os"], cfg["os"]);
    assert_eq!(ours["architecture"], cfg["architecture"]);
    assert_eq!(
        ours["config"]["user"],
        c.get("User").cloned().unwrap_or(Value::from(""))
    );
    assert_eq!(strings(&ours["config"]["env"]), strings(&c["Env"]));
    assert_eq!(
        strings(&ours["config"]["entrypoint"]),
        strings(&c["Entrypoint"])
    );
    assert_eq!(strings(&ours["config"]["cmd"]), strings(&c["Cmd"]));
    assert_eq!(
        strings(&ours["config"]["exposed_ports"]),
        keys(&c["ExposedPorts"])
    );
    assert_eq!(keys(&ours["config"]["labels"]), keys(&c["Labels"]));
    let diff_ids: Vec<String> = ours["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["diff_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(diff_ids, strings(&cfg["rootfs"]["diff_ids"]));
    let history: Vec<String> = ours["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["created_by"].as_str().unwrap().to_string())
        .collect();
    let theirs: Vec<String> = cfg["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["created_by"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(history, theirs);
    let sizes: u64 = ours["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    assert_eq!(ours["total_size"].as_u64().unwrap(), sizes);
    assert!(sizes > 100 << 20);
}

#[test]
fn json_agrees_with_skopeo_for_every_format() {
    let base = images();
    let cache = tempfile::tempdir().unwrap();
    for (ours, theirs, manifest_digest) in [
        ("oci-dir:full/oci:full", "oci:full/oci:full", true),
        (
            "oci-archive:full/oci-archive.tar",
            "oci-archive:full/oci-archive.tar",
            true,
        ),
        (
            "docker-archive:full/docker-archive.tar",
            "docker-archive:full/docker-archive.tar",
            false,
        ),
        (
            "docker-archive:debian/docker-archive.tar.gz",
            "docker-archive:debian/docker-archive.tar.gz",
            false,
        ),
        ("oci-dir:debian/oci-zstd", "oci:debian/oci-zstd", true),
    ] {
        let abs = |s: &str| {
            let (scheme, rel) = s.split_once(':').unwrap();
            format!("{scheme}:{}", base.join(rel).display())
        };
        let (src, transport) = (abs(ours), abs(theirs));
        let (code, out, err) = moat(cache.path(), &["--format", "json", &src]);
        assert_eq!(code, 0, "{src}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        for k in [
            "digest",
            "os",
            "architecture",
            "config",
            "history",
            "layers",
            "total_size",
        ] {
            assert!(v.get(k).is_some(), "{src}: key {k} missing");
        }
        for k in [
            "user",
            "env",
            "exposed_ports",
            "entrypoint",
            "cmd",
            "working_dir",
            "labels",
        ] {
            assert!(
                v["config"].get(k).is_some(),
                "{src}: key config.{k} missing"
            );
        }
        check(&v, &transport);
        if manifest_digest {
            let raw = skopeo(&["inspect", "--raw", &transport]);
            assert_eq!(v["digest"].as_str().unwrap(), sha256(&raw), "{src}");
        } else {
            // docker-archive: no manifest; the config digest stands for the image.
            assert_eq!(v["digest"], v["config_digest"], "{src}");
            let raw_cfg = skopeo(&["inspect", "--raw", "--config", &transport]);
            assert_eq!(
                v["config_digest"].as_str().unwrap(),
                sha256(&raw_cfg),
                "{src}"
            );
            assert!(!strings(&v["repo_tags"]).is_empty());
        }
    }
}

#[test]
fn table_shows_config_layers_and_history() {
    let base = images();
    let cache = tempfile::tempdir().unwrap();
    let src = format!("{}:full", base.join("full/oci").display());
    let (code, out, err) = moat(cache.path(), &[&src]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "Digest:",
        "Platform:      linux/amd64",
        "User:          1000:1000",
        "Exposed ports: 8080/tcp",
        "Working dir:   /app",
        "Layers (5):",
        "History (5):",
        "APP_ENV=test",
        "org.opencontainers.image.title=moat-test-full",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    // The same output twice (deterministic), warm cache.
    let (_, again, _) = moat(cache.path(), &[&src]);
    assert_eq!(out, again);
}

#[test]
fn unknown_sources_fail_with_one_line() {
    let cache = tempfile::tempdir().unwrap();
    let (code, out, err) = moat(cache.path(), &["/nonexistent/image.tar"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/nonexistent/image.tar: no such file or directory"),
        "{err}"
    );
}
