//! Golden output of every format of `scan`, `sbom`, `lint` and `inspect` on the real test
//! images, the shared corpus and the rule fixtures (issue 11: the renderers moved into
//! moat-report without changing a byte, except the fixes listed in CHANGELOG.md).
//!
//! The expected bytes live in tests/golden/. Only the temporary database and cache paths
//! are normalised (`$DB`, `$CACHE`); everything else must be identical. When the data in
//! ../shared/vulndata or a rule changes on purpose, regenerate with
//! `MOAT_BLESS=1 cargo test -p moat --test golden` and review the diff.
//! (The audit's renderers are checked by tests/audit.rs against a live private engine.)

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::SHARED;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn images() -> String {
    // Relative to the repository root, so that the bytes do not depend on the checkout.
    let p = std::env::var("MOAT_TEST_IMAGES").unwrap_or_else(|_| "target/test-images".into());
    assert!(
        root().join(&p).join("full/docker-archive.tar").exists(),
        "{p}/full missing: run scripts/build-test-images"
    );
    p
}

struct Env {
    dir: tempfile::TempDir,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_moat"))
            .args(["db", "import", &format!("{SHARED}/vulndata")])
            .arg("--db")
            .arg(dir.path().join("moat.db"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Env { dir }
    })
}

/// Run `moat ARGS` from the repository root; return (exit code, normalised stdout).
fn moat(args: &[&str]) -> (i32, String) {
    let e = env();
    let db = e.dir.path().join("moat.db");
    let cache = e.dir.path().join("cache");
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .current_dir(root())
        .env("MOAT_DB", &db)
        .env("MOAT_CACHE_DIR", &cache)
        .env("SOURCE_DATE_EPOCH", "1764374400")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&db.display().to_string(), "$DB")
        .replace(&cache.display().to_string(), "$CACHE");
    (out.status.code().unwrap_or(-1), text)
}

fn check(name: &str, args: &[&str]) {
    let (code, got) = moat(args);
    let got = format!("# moat {}\n# exit {code}\n{got}", args.join(" "));
    // The bytes must not depend on where the repository is checked out.
    let abs = root().canonicalize().unwrap().display().to_string();
    assert!(
        !got.contains(&abs),
        "{name} names the checkout's absolute path {abs}: output would differ between checkouts"
    );
    let path = root().join("crates/moat/tests/golden").join(name);
    if std::env::var_os("MOAT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (MOAT_BLESS=1 writes it)", path.display()));
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(got.lines().count().min(want.lines().count()));
        panic!(
            "{name} differs from {} at line {}:\n got: {:?}\nwant: {:?}",
            path.display(),
            line + 1,
            got.lines().nth(line),
            want.lines().nth(line)
        );
    }
}

#[test]
fn scan_every_format() {
    let src = format!("docker-archive:{}/full/docker-archive.tar", images());
    for (f, ext) in [
        ("table", "txt"),
        ("json", "json"),
        ("sarif", "sarif"),
        ("cyclonedx-json", "cdx.json"),
        ("html", "html"),
    ] {
        check(&format!("scan-full.{ext}"), &["scan", &src, "--format", f]);
    }
    check(
        "scan-full-misconfig.txt",
        &[
            "scan",
            &src,
            "--scanners",
            "vuln,misconfig",
            "--format",
            "table",
        ],
    );
    let alpine = format!("oci-dir:{}/alpine/oci", images());
    if root().join(images()).join("alpine/oci").exists() {
        check("scan-alpine.json", &["scan", &alpine, "--format", "json"]);
    }
}

#[test]
fn sbom_every_format() {
    let src = format!("docker-archive:{}/full/docker-archive.tar", images());
    for (f, ext) in [
        ("cyclonedx-json", "cdx.json"),
        ("spdx-json", "spdx.json"),
        ("json", "json"),
        ("table", "txt"),
    ] {
        check(&format!("sbom-full.{ext}"), &["sbom", &src, "--format", f]);
    }
    check(
        "sbom-lockfiles.json",
        &[
            "sbom",
            "dir:../shared/fixtures/lockfile-parsers",
            "--format",
            "json",
        ],
    );
}

#[test]
fn lint_every_format() {
    for (f, ext) in [("table", "txt"), ("json", "json"), ("sarif", "sarif")] {
        check(
            &format!("lint-corpus.{ext}"),
            &[
                "lint",
                "../shared/corpus",
                "--shellcheck",
                "never",
                "--format",
                f,
            ],
        );
        check(
            &format!("lint-fixtures.{ext}"),
            &[
                "lint",
                "crates/moat-lint/tests/fixtures",
                "--shellcheck",
                "never",
                "--format",
                f,
            ],
        );
    }
}

#[test]
fn inspect_every_format() {
    let src = format!("docker-archive:{}/full/docker-archive.tar", images());
    for (f, ext) in [("table", "txt"), ("json", "json")] {
        check(
            &format!("inspect-full.{ext}"),
            &["inspect", &src, "--format", f],
        );
    }
}
