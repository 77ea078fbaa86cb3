//! `moat scan --server` against a real `moat serve` over HTTPS (a private CA and a
//! server certificate made here with the openssl CLI): the same findings and the same
//! `--fail-on` exit code as a local scan of the same SBOM; the server's certificate is
//! refused without `--ca-cert`; a bad certificate or key file stops `serve` with a
//! message naming the file; a server that never runs the job gives a clear timeout.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
const MOAT: &str = env!("CARGO_BIN_EXE_moat");

mod common;
use common::serve::MoatProc;

fn moat(args: &[&str], token: Option<&str>) -> Output {
    let mut c = Command::new(MOAT);
    c.args(args);
    if let Some(t) = token {
        c.env("MOAT_TOKEN", t);
    }
    c.output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = moat(args, None);
    assert!(
        out.status.success(),
        "moat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (id, package, version, severity) of every vulnerability of a JSON report.
fn vulns(json: &[u8]) -> BTreeSet<(String, String, String, String)> {
    let v: Value = serde_json::from_slice(json).unwrap();
    v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["package"]["name"].as_str().unwrap().to_string(),
                f["package"]["version"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A private CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key).
fn certificates(dir: &Path) -> (String, String, String) {
    let c = moat_testkit::tls::private_ca(dir, "moat test CA");
    let p = |f: &Path| f.display().to_string();
    (p(&c.ca), p(&c.cert), p(&c.key))
}

#[test]
fn scan_server_over_tls_finds_what_a_local_scan_finds() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("scan_server_cli: skipped, openssl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let adb = dir.path().join("advisories.db").display().to_string();
    for eco in ["npm", "PyPI"] {
        ok(&[
            "db",
            "import",
            &format!("{SHARED}/vulndata/osv/{eco}/all.zip"),
            "--db",
            &adb,
        ]);
    }
    let cache = dir.path().join("cache").display().to_string();
    // An SBOM of real lockfiles (npm package-lock v3, pip requirements with Flask 2.0.0).
    let tree = dir.path().join("app");
    std::fs::create_dir_all(&tree).unwrap();
    let f = format!("{SHARED}/fixtures/lockfile-parsers");
    std::fs::copy(
        format!("{f}/nodejs/npm/testdata/package-lock_v3.json"),
        tree.join("package-lock.json"),
    )
    .unwrap();
    std::fs::copy(
        format!("{f}/python/pip/testdata/requirements_flask.txt"),
        tree.join("requirements.txt"),
    )
    .unwrap();
    let sbom = dir.path().join("app.cdx.json").display().to_string();
    ok(&[
        "--cache-dir",
        &cache,
        "sbom",
        &format!("dir:{}", tree.display()),
        "--format",
        "cyclonedx-json",
        "-o",
        &sbom,
    ]);
    let source = format!("sbom:{sbom}");

    let (ca, cert, key) = certificates(dir.path());
    let database = format!("sqlite:{}", dir.path().join("serve.db").display());
    let token = ok(&[
        "serve",
        "--database",
        &database,
        "--create-token",
        "acme:submitter",
    ])
    .trim()
    .to_string();
    let serve = MoatProc::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &database,
        "--db",
        &adb,
        "--cache-dir",
        &cache,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let url = serve.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let local = moat(
        &[
            "--db",
            &adb,
            "--cache-dir",
            &cache,
            "scan",
            &source,
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
        None,
    );
    let remote = moat(
        &[
            "--cache-dir",
            &cache,
            "scan",
            &source,
            "--format",
            "json",
            "--fail-on",
            "high",
            "--server",
            &url,
            "--ca-cert",
            &ca,
        ],
        Some(&token),
    );
    assert_eq!(
        remote.status.code(),
        local.status.code(),
        "remote: {}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(
        local.status.code(),
        Some(1),
        "Flask 2.0.0 has a HIGH finding"
    );
    let (l, r) = (vulns(&local.stdout), vulns(&remote.stdout));
    assert!(!l.is_empty());
    assert_eq!(r, l, "the same findings");
    // The table renders too, with the same gate.
    let table = moat(
        &[
            "scan",
            &source,
            "--server",
            &url,
            "--ca-cert",
            &ca,
            "--fail-on",
            "critical",
        ],
        Some(&token),
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Werkzeug"), "{text}");
    let local_table = moat(
        &[
            "--db",
            &adb,
            "--cache-dir",
            &cache,
            "scan",
            &source,
            "--fail-on",
            "critical",
        ],
        None,
    );
    assert_eq!(table.status.code(), local_table.status.code());

    // The certificate is private: without --ca-cert the client refuses it.
    let out = moat(&["scan", &source, "--server", &url], Some(&token));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // A wrong token is the server's 401, said plainly.
    let out = moat(
        &["scan", &source, "--server", &url, "--ca-cert", &ca],
        Some("moat_0000000000000000_00"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    // Flags the server cannot honour are refused, not ignored.
    let out = moat(
        &["scan", &source, "--server", &url, "--ignore-unfixed"],
        Some(&token),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--ignore-unfixed is not supported with --server")
    );
}

#[test]
fn bad_tls_files_are_named_and_a_stuck_job_times_out() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("scan_server_cli: skipped, openssl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = certificates(dir.path());
    let database = format!("sqlite:{}", dir.path().join("serve.db").display());
    let missing = dir.path().join("nope.pem").display().to_string();
    for (c, k, named) in [
        (cert.as_str(), cert.as_str(), format!("--tls-key {cert}")),
        (key.as_str(), key.as_str(), format!("--tls-cert {key}")),
        (
            missing.as_str(),
            key.as_str(),
            format!("--tls-cert {missing}"),
        ),
    ] {
        let out = moat(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                &database,
                "--tls-cert",
                c,
                "--tls-key",
                k,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&named), "{named}: {err}");
    }
    // Another key than the certificate's.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, _, other_key) = certificates(&other);
    let out = moat(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &database,
            "--tls-cert",
            &cert,
            "--tls-key",
            &other_key,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&other_key), "{err}");

    // No worker: the job stays queued; the client gives up when told, saying so.
    let token = ok(&[
        "serve",
        "--database",
        &database,
        "--create-token",
        "acme:submitter",
    ])
    .trim()
    .to_string();
    let serve = MoatProc::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &database,
        "--workers",
        "0",
    ]);
    let url = serve.url();
    let out = moat(
        &[
            "scan",
            "registry:example.invalid/app:1",
            "--server",
            &url,
            "--server-timeout",
            "2",
        ],
        Some(&token),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("still queued after 2 s"), "{err}");
}

/// A dead server, one that answers garbage (with control characters) and one that never
/// answers: exit 2 with one line naming the URL, nothing of the garbage echoed raw, and
/// the silent one bounded by `--server-timeout`.
#[test]
fn dead_garbage_and_silent_servers_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let sbom = dir.path().join("bom.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}"#,
    )
    .unwrap();
    let src = format!("sbom:{}", sbom.display());
    let run = |url: &str| {
        moat(
            &["scan", "--server", url, "--server-timeout", "3", &src],
            Some("t"),
        )
    };
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let out = run(&dead_url);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&dead_url));

    let garbage = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let garbage_url = format!("http://{}", garbage.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for c in garbage.incoming().take(1) {
            let mut c = c.unwrap();
            let mut buf = [0u8; 65536];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n\x1b[31mgarb\x07");
        }
    });
    let out = run(&garbage_url);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&garbage_url) && !err.contains('\u{1b}'),
        "{err:?}"
    );

    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let t = std::time::Instant::now();
    let out = run(&silent_url);
    drop(silent);
    assert_eq!(out.status.code(), Some(2));
    // Bounded by the timeout given (3 s), not by the server: a generous margin.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        t.elapsed()
    );
}
