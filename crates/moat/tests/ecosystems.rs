//! Matching in Ubuntu, RubyGems and Packagist, end to end: a tree is scanned with a
//! database imported from ../shared/vulndata, and the findings must equal what an
//! independent oracle (tests/oracle/osv_eval.py) computes straight from the osv.dev
//! zips with each ecosystem's real version tool (`dpkg --compare-versions`, Ruby's
//! `Gem::Version`, Composer's `Comparator` in PHP).
//!
//! Ubuntu's archive is not reachable here, so the Ubuntu tree is built in the test: an
//! os-release and a dpkg status as Ubuntu 18.04 LTS writes them, with the package
//! versions of bionic's release pocket. The gemspecs are written by Ruby itself
//! (`Gem::Specification#to_ruby`), as `gem install` writes them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vulndata() -> PathBuf {
    repo().join("../shared/vulndata")
}

fn db() -> PathBuf {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moat.db");
        let osv = vulndata().join("osv");
        let out = Command::new(env!("CARGO_BIN_EXE_moat"))
            .arg("db")
            .arg("import")
            .arg("--db")
            .arg(&path)
            .arg(osv.join("Ubuntu/all.zip"))
            .arg(osv.join("RubyGems/all.zip"))
            .arg(osv.join("Packagist/all.zip"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, path)
    })
    .1
    .clone()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Scan a root filesystem (`rootfs:`, installed packages) or a project tree (`dir:`,
/// lockfiles too: as in Trivy, lockfiles count in project trees, not in images).
fn scan_as(kind: &str, root: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .arg("scan")
        .arg(format!("{kind}:{}", root.display()))
        .args(["--format", "json", "--offline", "--db"])
        .arg(db())
        .env("MOAT_CACHE_DIR", root.join("../cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scan(root: &Path) -> Value {
    scan_as("rootfs", root)
}

/// moat's findings in `namespace`: (id, package, version).
fn found(report: &Value, namespace: &str) -> BTreeSet<(String, String, String)> {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["matched_by"]["namespace"] == namespace)
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["matched_by"]["searched_name"]
                    .as_str()
                    .unwrap()
                    .to_lowercase(),
                v["matched_by"]["searched_version"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

fn oracle(zip: &str, namespace: &str, pkgs: &[(&str, &str)]) -> BTreeSet<(String, String, String)> {
    let mut child = Command::new("python3")
        .arg(repo().join("crates/moat/tests/oracle/osv_eval.py"))
        .arg(vulndata().join(zip))
        .arg(namespace)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = pkgs.iter().map(|(n, v)| format!("{n}\t{v}\n")).collect();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].to_lowercase(), f[2].to_string())
        })
        .collect()
}

const UBUNTU: &[(&str, &str)] = &[
    ("curl", "7.58.0-2ubuntu3"),
    ("sudo", "1.8.21p2-3ubuntu1"),
    ("openssl", "1.1.1-1ubuntu2.1~18.04.5"),
    ("bash", "4.4.18-2ubuntu1"),
];

#[test]
fn ubuntu_lts_packages_match_their_release_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    write(
        &root,
        "etc/os-release",
        "NAME=\"Ubuntu\"\nVERSION=\"18.04.5 LTS (Bionic Beaver)\"\nID=ubuntu\nID_LIKE=debian\n\
         PRETTY_NAME=\"Ubuntu 18.04.5 LTS\"\nVERSION_ID=\"18.04\"\nVERSION_CODENAME=bionic\n",
    );
    let mut status = String::new();
    for (name, version) in UBUNTU {
        // Binary package names differ from the source where Ubuntu's do (libssl1.1).
        let bin = if *name == "openssl" {
            "libssl1.1"
        } else {
            name
        };
        status.push_str(&format!(
            "Package: {bin}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n\
             Source: {name}\nVersion: {version}\nDescription: {name}\n\n"
        ));
    }
    write(&root, "var/lib/dpkg/status", &status);
    let report = scan(&root);
    let got = found(&report, "Ubuntu:18.04:LTS");
    let want = oracle("osv/Ubuntu/all.zip", "Ubuntu:18.04:LTS", UBUNTU);
    assert!(
        !want.is_empty(),
        "the data has advisories for these packages"
    );
    assert_eq!(got, want);
    // The Ubuntu priority rates them (the distribution's own rating comes first).
    let by_ubuntu = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["severity_source"] == "ubuntu")
        .count();
    assert!(
        by_ubuntu > 0,
        "some findings are rated by Ubuntu's priority"
    );
}

const GEMS: &[(&str, &str)] = &[
    ("rack", "2.0.4"),
    ("nokogiri", "1.8.1"),
    ("actionpack", "5.1.4"),
    ("loofah", "2.2.2"),
];

fn gemspec(name: &str, version: &str) -> String {
    let script = format!(
        "s = Gem::Specification.new {{ |s| s.name = {name:?}; s.version = {version:?}; \
         s.summary = 'x'; s.authors = ['x']; s.files = []; s.licenses = ['MIT'] }}; puts s.to_ruby"
    );
    let out = Command::new("ruby").args(["-e", &script]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rubygems_from_gemspecs_and_gemfile_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    for (n, v) in &GEMS[..3] {
        write(
            &root,
            &format!("usr/local/bundle/specifications/{n}-{v}.gemspec"),
            &gemspec(n, v),
        );
    }
    let (n, v) = GEMS[3];
    let project = dir.path().join("project");
    write(
        &project,
        "Gemfile.lock",
        &format!(
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    {n} ({v})\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  {n}\n"
        ),
    );
    let mut got = found(&scan(&root), "RubyGems");
    got.extend(found(&scan_as("dir", &project), "RubyGems"));
    let want = oracle("osv/RubyGems/all.zip", "RubyGems", GEMS);
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

const COMPOSER: &[(&str, &str)] = &[
    ("symfony/http-kernel", "v4.1.0"),
    ("twig/twig", "v2.4.0"),
    ("guzzlehttp/guzzle", "6.3.0"),
];

#[test]
fn packagist_from_installed_json_and_composer_lock() {
    if Command::new("php").arg("--version").output().is_err() {
        panic!("php is missing: scripts/install-deps installs php-cli and php-composer-semver");
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let pkg = |n: &str, v: &str| serde_json::json!({"name": n, "version": v, "type": "library", "license": ["MIT"]});
    let installed = serde_json::json!({
        "packages": [pkg(COMPOSER[0].0, COMPOSER[0].1), pkg(COMPOSER[1].0, COMPOSER[1].1)],
        "dev": false
    });
    write(
        &root,
        "var/www/vendor/composer/installed.json",
        &installed.to_string(),
    );
    let lock =
        serde_json::json!({"packages": [pkg(COMPOSER[2].0, COMPOSER[2].1)], "packages-dev": []});
    let project = dir.path().join("project");
    write(&project, "composer.lock", &lock.to_string());
    let mut got = found(&scan(&root), "Packagist");
    got.extend(found(&scan_as("dir", &project), "Packagist"));
    let want = oracle("osv/Packagist/all.zip", "Packagist", COMPOSER);
    assert!(!want.is_empty());
    assert_eq!(got, want);
}
