//! Binary classifiers on the real binaries of Debian packages (scripts/fetch-classifier-debs),
//! each extracted with `dpkg-deb -x` into a tree without a package database, as software
//! copied into an image is: the classifier names it from the version string inside,
//! which must equal the Debian package's upstream version.

#![allow(clippy::unwrap_used)]

use moat_catalog::{Options, catalog};
use moat_fs::DirResolver;
use moat_model::Ecosystem;
use std::path::{Path, PathBuf};
use std::process::Command;

fn debs() -> PathBuf {
    let dir = std::env::var_os("MOAT_CLASSIFIER_DEBS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/classifier-debs")
        });
    assert!(
        dir.is_dir(),
        "{} missing: run scripts/fetch-classifier-debs",
        dir.display()
    );
    dir
}

/// The `.deb` of `pkg` and its upstream version (`5:7.0.15-1~deb12u10` -> `7.0.15`).
fn deb(pkg: &str) -> (PathBuf, String) {
    let dir = debs();
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{pkg}_")) && n.ends_with(".deb"))
        })
        .unwrap_or_else(|| {
            panic!(
                "{pkg}_*.deb missing in {}: run scripts/fetch-classifier-debs",
                dir.display()
            )
        });
    let out = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(&path)
        .arg("Version")
        .output()
        .unwrap();
    let v = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let v = v.split_once(':').map(|(_, v)| v).unwrap_or(&v).to_string();
    // `3.0.22` of `3.0.22-1~deb12u2`, `17.0.21.1+2` of openjdk's, `18.20.4` of
    // `18.20.4+dfsg-1~deb12u3` (Debian's repacking suffix is not upstream's).
    let upstream = v.rsplit_once('-').map(|(u, _)| u).unwrap_or(&v);
    let upstream = ["+dfsg", "+ds", "+repack"]
        .iter()
        .find_map(|s| upstream.split_once(s).map(|(u, _)| u))
        .unwrap_or(upstream);
    (path, upstream.to_string())
}

/// Extract `pkg` under `/opt/<pkg>` of a fresh tree and catalog it.
fn classify(pkg: &str) -> (Vec<(String, String, String, String)>, String) {
    let (path, upstream) = deb(pkg);
    let t = tempfile::tempdir().unwrap();
    let dest = t.path().join("opt").join(pkg);
    std::fs::create_dir_all(&dest).unwrap();
    let ok = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&path)
        .arg(&dest)
        .status()
        .unwrap()
        .success();
    assert!(ok, "dpkg-deb -x {}", path.display());
    let inv = catalog(&DirResolver::new(t.path()).unwrap(), &Options::default());
    let got = inv
        .packages
        .iter()
        .filter(|p| p.found_by == "binary-classifier")
        .map(|p| {
            assert_eq!(p.ecosystem, Ecosystem::Generic);
            assert!(p.purl.starts_with("pkg:generic/"), "{}", p.purl);
            assert!(!p.cpes.is_empty() && p.cpes.iter().all(|c| c.starts_with("cpe:2.3:a:")));
            (
                p.name.clone(),
                p.version.clone(),
                p.locations[0].path.clone(),
                p.purl.to_string(),
            )
        })
        .collect();
    (got, upstream)
}

fn check(pkg: &str, name: &str, files: &[&str]) {
    let (got, upstream) = classify(pkg);
    let want: Vec<(String, String, String, String)> = files
        .iter()
        .map(|f| {
            (
                name.to_string(),
                upstream.clone(),
                format!("/opt/{pkg}{f}"),
                format!("pkg:generic/{name}@{}", upstream.replace('+', "%2B")),
            )
        })
        .collect();
    assert_eq!(got, want, "{pkg}");
}

#[test]
fn python_binary_and_library() {
    check("python3.11-minimal", "python", &["/usr/bin/python3.11"]);
    check(
        "libpython3.11",
        "python",
        &["/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"],
    );
}

#[test]
fn node_library() {
    check(
        "libnode108",
        "node",
        &["/usr/lib/x86_64-linux-gnu/libnode.so.108"],
    );
}

#[test]
fn redis() {
    // Debian ships the one binary twice (redis-server links to redis-check-rdb).
    check(
        "redis-tools",
        "redis",
        &["/usr/bin/redis-check-aof", "/usr/bin/redis-check-rdb"],
    );
}

#[test]
fn nginx_and_httpd() {
    check("nginx", "nginx", &["/usr/sbin/nginx"]);
    check("apache2-bin", "httpd", &["/usr/sbin/apache2"]);
}

#[test]
fn postgres() {
    check(
        "postgresql-15",
        "postgresql",
        &["/usr/lib/postgresql/15/bin/postgres"],
    );
}

#[test]
fn openssl_binary_and_libcrypto() {
    check("openssl", "openssl", &["/usr/bin/openssl"]);
    check(
        "libssl3",
        "openssl",
        &["/usr/lib/x86_64-linux-gnu/libcrypto.so.3"],
    );
}

#[test]
fn curl_and_libcurl() {
    check("curl", "curl", &["/usr/bin/curl"]);
    check(
        "libcurl4",
        "libcurl",
        &["/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0"],
    );
}

#[test]
fn busybox_memcached_java() {
    check("busybox-static", "busybox", &["/bin/busybox"]);
    check("memcached", "memcached", &["/usr/bin/memcached"]);
    // The launcher names the full Debian build (`17.0.21.1+2-1-deb12u1-Debian`).
    let (got, upstream) = classify("openjdk-17-jre-headless");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "java");
    assert!(
        got[0].1.starts_with(&upstream),
        "{} vs {upstream}",
        got[0].1
    );
    assert!(got[0].2.ends_with("/bin/java"));
}

/// A file with a classifier's name but no version evidence is not a package, and a
/// classified binary that a dpkg database lists as installed is the OS package's.
#[test]
fn no_evidence_no_package_and_os_owned_binaries_are_left_out() {
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A real ELF (coreutils' true) under a classifier's name.
    std::fs::copy("/bin/true", bin.join("nginx")).unwrap();
    let inv = catalog(&DirResolver::new(t.path()).unwrap(), &Options::default());
    assert!(
        inv.packages
            .iter()
            .all(|p| p.found_by != "binary-classifier"),
        "{:?}",
        inv.packages
    );

    let (path, _) = deb("memcached");
    let t = tempfile::tempdir().unwrap();
    assert!(
        Command::new("dpkg-deb")
            .arg("-x")
            .arg(&path)
            .arg(t.path())
            .status()
            .unwrap()
            .success()
    );
    std::fs::create_dir_all(t.path().join("var/lib/dpkg/info")).unwrap();
    std::fs::write(
        t.path().join("var/lib/dpkg/status"),
        "Package: memcached\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.6.18-1+deb12u1\n\n",
    )
    .unwrap();
    std::fs::write(
        t.path().join("var/lib/dpkg/info/memcached.list"),
        "/usr/bin/memcached\n",
    )
    .unwrap();
    let inv = catalog(&DirResolver::new(t.path()).unwrap(), &Options::default());
    let names: Vec<String> = inv
        .packages
        .iter()
        .map(|p| format!("{}:{}", p.ecosystem, p.name))
        .collect();
    assert_eq!(names, ["deb:memcached"]);
}
