//! `moat verify` end to end through the binary, against a real docker-registry on
//! loopback with images, keys and signatures made at test time
//! (crates/moat-verify/tests/support/sigfix.py): exit codes 0/1/2, JSON shape, table,
//! SARIF, Dockerfile and compose sources, policy errors naming line and key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use moat_testkit::registry::Registry;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

struct Env {
    host: String,
    dir: tempfile::TempDir,
    out: PathBuf,
    cases: serde_json::Value,
    _reg: Registry,
}

fn env() -> &'static Env {
    static E: OnceLock<Env> = OnceLock::new();
    E.get_or_init(|| {
        let reg = Registry::start();
        let dir = tempfile::tempdir().unwrap();
        let host = reg.host();
        let out = dir.path().join("fx");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../moat-verify/tests/support/sigfix.py");
        let o = Command::new("python3")
            .arg(script)
            .arg(&host)
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        Env {
            host,
            out,
            cases: serde_json::from_slice(&o.stdout).unwrap(),
            dir,
            _reg: reg,
        }
    })
}

fn case(name: &str, field: &str) -> String {
    env().cases[name][field].as_str().unwrap().to_string()
}

fn moat(args: &[&str]) -> Output {
    let e = env();
    Command::new(env!("CARGO_BIN_EXE_moat"))
        .arg("--cache-dir")
        .arg(e.dir.path().join("cache"))
        .arg("verify")
        .args(["--insecure-registry", &e.host])
        .args(args)
        .env("DOCKER_CONFIG", e.dir.path().join("no-docker-config"))
        .output()
        .unwrap()
}

fn key(name: &str) -> String {
    env().out.join(format!("{name}.pub")).display().to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn signed_image_passes_with_exit_0_and_the_json_shape() {
    let src = format!("registry:{}", case("valid-p256", "ref"));
    let o = moat(&[&src, "--key", &key("p256"), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], true);
    let img = &v["images"][0];
    assert_eq!(img["reference"], src);
    assert_eq!(img["digest"], case("valid-p256", "digest"));
    assert_eq!(img["checks"][0]["rule"], "signature");
    assert_eq!(img["checks"][0]["passed"], true);
    let s = &img["signatures"][0];
    assert_eq!(s["kind"], "cosign");
    assert_eq!(s["verified"], true);
    assert!(
        s["key_id"].as_str().unwrap().contains("p256.pub (sha256:"),
        "{s}"
    );
    assert!(
        s["reason"]
            .as_str()
            .unwrap()
            .contains("payload names this digest")
    );
    assert!(img["attestations"].as_array().unwrap().is_empty());
}

#[test]
fn unsigned_and_wrong_key_exit_1_with_reasons() {
    let o = moat(&[
        &format!("registry:{}", case("unsigned", "ref")),
        "--key",
        &key("p256"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let t = text(&o.stdout);
    assert!(t.starts_with("FAIL registry:"), "{t}");
    assert!(t.contains("unsigned"), "{t}");
    let o = moat(&[
        &format!("registry:{}", case("wrong-key", "ref")),
        "--key",
        &key("p256"),
        "-f",
        "sarif",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "verify/signature");
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("none of the 1 signature(s) found verifies"),
        "{r}"
    );
}

#[test]
fn dockerfile_and_compose_sources_check_every_image() {
    let e = env();
    let df = e.dir.path().join("Dockerfile");
    std::fs::write(
        &df,
        format!(
            "FROM {} AS build\nFROM build AS test\nFROM {}\n",
            case("valid-p256", "pinned"),
            case("unsigned", "ref")
        ),
    )
    .unwrap();
    let policy = e.dir.path().join("ci.yml");
    std::fs::write(
        &policy,
        format!(
            "version: 1\nrules:\n  - images: [\"{}/t/**\"]\n    require_digest: true\n    signatures:\n      - key: {}\n",
            e.host,
            key("p256")
        ),
    )
    .unwrap();
    let o = moat(&[
        df.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let imgs = v["images"].as_array().unwrap();
    assert_eq!(imgs.len(), 2, "{v}");
    let passed = |i: &serde_json::Value| {
        i["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true)
    };
    assert!(passed(&imgs[0]), "{v}");
    assert!(!passed(&imgs[1]), "{v}");
    let pin = imgs[1]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "pinned")
        .unwrap();
    assert!(
        pin["evidence"].as_str().unwrap().contains("pin it as"),
        "{pin}"
    );

    let compose = e.dir.path().join("compose.yml");
    std::fs::write(
        &compose,
        format!(
            "services:\n  web:\n    image: {}\n",
            case("valid-p256", "pinned")
        ),
    )
    .unwrap();
    let o = moat(&[
        compose.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(
        text(&o.stdout).contains("compose.yml:3 (service web)"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn bad_policy_key_or_registry_exit_2_naming_the_input() {
    let e = env();
    let policy = e.dir.path().join("bad.yml");
    std::fs::write(
        &policy,
        "version: 1\nrules:\n  - images: \"**\"\n    max_age_days: soon\n",
    )
    .unwrap();
    let src = format!("registry:{}", case("valid-p256", "ref"));
    let o = moat(&[&src, "--policy", policy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("bad.yml:4: rules[0].max_age_days: expected a whole number of days"),
        "{err}"
    );
    let o = moat(&[&src, "--key", "/nonexistent/k.pub"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("/nonexistent/k.pub"),
        "{}",
        text(&o.stderr)
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = moat(&[
        &format!("registry:127.0.0.1:{port}/x:1"),
        "--key",
        &key("p256"),
        "--insecure-registry",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).starts_with("moat: error: "),
        "{}",
        text(&o.stderr)
    );
}
