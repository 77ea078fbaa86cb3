//! OS package databases and os-release files from Trivy's, syft's and go-rpmdb's test
//! suites (../shared/fixtures/ospkg-db-parsing), with their upstream expectations.

#![allow(clippy::unwrap_used)]

use moat_catalog::{Mode, Options, catalog};
use moat_fs::{DirResolver, MemResolver};
use moat_model::Ecosystem;
use std::collections::BTreeSet;

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/ospkg-db-parsing"
);

fn tsv(path: &str) -> Vec<Vec<String>> {
    let s = std::fs::read_to_string(format!("{FIX}/{path}")).unwrap();
    s.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn dpkg_ubuntu1804_status_matches_trivy() {
    let r = DirResolver::new(format!("{FIX}/dpkg/valid-ubuntu1804")).unwrap();
    let inv = catalog(&r, &Options::default());
    let got: BTreeSet<(String, String, String)> = inv
        .packages
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.source_name.clone().unwrap_or_else(|| p.name.clone()),
            )
        })
        .collect();
    // Trivy splits "1:4.5-1ubuntu1" into epoch/version/release; join them back.
    let join = |v: &str, e: &str, r: &str| {
        let mut s = String::new();
        if !e.is_empty() && e != "0" {
            s.push_str(e);
            s.push(':');
        }
        s.push_str(v);
        if !r.is_empty() {
            s.push('-');
            s.push_str(r);
        }
        s
    };
    let want: BTreeSet<(String, String, String)> = tsv("dpkg/valid-ubuntu1804.expected.tsv")
        .iter()
        .map(|f| (f[1].clone(), join(&f[2], &f[3], &f[4]), f[5].clone()))
        .collect();
    assert_eq!(want.len(), 90);
    assert_eq!(got, want);
    assert!(inv.packages.iter().all(|p| p.ecosystem == Ecosystem::Deb));
    // Source versions that differ are recorded (trivy: src_version columns).
    let libgcc = inv.packages.iter().find(|p| p.name == "libgcc1").unwrap();
    assert_eq!(libgcc.source_name.as_deref(), Some("gcc-8"));
}

#[test]
fn distroless_status_d() {
    let r = MemResolver::new()
        .file(
            "/var/lib/dpkg/status.d/base-files",
            "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nSource: base-files\n",
        )
        .file(
            "/var/lib/dpkg/status.d/base-files.md5sums",
            "abc  etc/debian_version\n",
        )
        .file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
    let inv = catalog(&r, &Options::default());
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(
        inv.packages[0].purl,
        "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12"
    );
}

#[test]
fn apk_installed_matches_trivy() {
    let data = std::fs::read(format!("{FIX}/apk/installed")).unwrap();
    let r = MemResolver::new().file("/lib/apk/db/installed", data);
    let inv = catalog(&r, &Options::default());
    let got: BTreeSet<(String, String, String)> = inv
        .packages
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.source_name.clone().unwrap_or_default(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = tsv("apk/installed.expected.tsv")
        .iter()
        .map(|f| (f[1].clone(), f[2].clone(), f[3].clone()))
        .collect();
    assert_eq!(want.len(), 15);
    assert_eq!(got, want);
}

fn rpm_inv(file: &str, at: &str) -> moat_model::Inventory {
    let data = std::fs::read(format!("{FIX}/rpm/{file}")).unwrap();
    let r = MemResolver::new().file(at, data);
    catalog(
        &r,
        &Options {
            mode: Mode::Image,
            ..Default::default()
        },
    )
}

#[test]
fn rpm_ndb_matches_go_rpmdb() {
    let inv = rpm_inv("sle15-bci.Packages.db", "/var/lib/rpm/Packages.db");
    assert!(inv.unknowns.is_empty(), "{:?}", inv.unknowns);
    let got: BTreeSet<(String, String, String)> = inv
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.licenses.join(",")))
        .collect();
    let want: BTreeSet<(String, String, String)> = tsv("rpm/sle15-bci.Packages.db.expected.tsv")
        .iter()
        .filter(|f| f[1] != "gpg-pubkey")
        .map(|f| {
            let v = if f[0].is_empty() {
                format!("{}-{}", f[2], f[3])
            } else {
                format!("{}:{}-{}", f[0], f[2], f[3])
            };
            (f[1].clone(), v, f[7].clone())
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn rpm_sqlite_has_curl() {
    let inv = rpm_inv("cbl-mariner-2.0.rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite");
    assert!(inv.unknowns.is_empty(), "{:?}", inv.unknowns);
    let curl = inv.packages.iter().find(|p| p.name == "curl").unwrap();
    assert_eq!(curl.version, "7.76.0-6.cm2");
    assert_eq!(curl.licenses, ["MIT"]);
    assert_eq!(curl.source_name.as_deref(), Some("curl"));
    assert!(curl.purl.starts_with("pkg:rpm/"), "{}", curl.purl);
    assert!(inv.packages.len() > 50, "{}", inv.packages.len());
}

/// (name, [epoch:]version-release) of a database file as the real rpm (Debian's `rpm`
/// package, scripts/deps/apt.txt) lists it, through `backend` (`sqlite`, `bdb_ro`;
/// Debian's rpm has no NDB backend, so NDB is checked against go-rpmdb's list above).
fn rpm_qa(file: &str, db_name: &str, backend: &str) -> BTreeSet<(String, String)> {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{FIX}/rpm/{file}"), tmp.path().join(db_name)).unwrap();
    let out = std::process::Command::new("rpm")
        .arg("--dbpath")
        .arg(tmp.path())
        .args(["--define", &format!("_db_backend {backend}")])
        .args(["-qa", "--qf", "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\n"])
        .output()
        .expect("rpm is installed by scripts/install-deps (apt.txt)");
    assert!(out.status.success());
    let want: BTreeSet<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("gpg-pubkey"))
        .map(|l| {
            let (n, v) = l.split_once('\t').unwrap();
            (n.to_string(), v.replace("(none):", ""))
        })
        .collect();
    assert!(!want.is_empty(), "rpm listed nothing for {file}");
    want
}

#[test]
fn rpm_sqlite_and_berkeleydb_equal_rpm_qa() {
    for (file, db_name, backend, at) in [
        (
            "cbl-mariner-2.0.rpmdb.sqlite",
            "rpmdb.sqlite",
            "sqlite",
            "/var/lib/rpm/rpmdb.sqlite",
        ),
        (
            "rhel8-libuuid.Packages.bdb",
            "Packages",
            "bdb_ro",
            "/var/lib/rpm/Packages",
        ),
        (
            "syft-redhat.Packages.bdb",
            "Packages",
            "bdb_ro",
            "/var/lib/rpm/Packages",
        ),
    ] {
        let want = rpm_qa(file, db_name, backend);
        let inv = rpm_inv(file, at);
        let got: BTreeSet<(String, String)> = inv
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn rpm_berkeleydb_has_libuuid() {
    let inv = rpm_inv("rhel8-libuuid.Packages.bdb", "/var/lib/rpm/Packages");
    assert!(inv.unknowns.is_empty(), "{:?}", inv.unknowns);
    let names: Vec<_> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(names, [("libuuid", "2.32.1-42.el8_8")]);
    let p = &inv.packages[0];
    assert_eq!(p.source_name.as_deref(), Some("util-linux"));
    assert_eq!(p.licenses, ["BSD"]);
    let inv = rpm_inv("syft-redhat.Packages.bdb", "/var/lib/rpm/Packages");
    assert!(inv.unknowns.is_empty(), "{:?}", inv.unknowns);
    assert!(!inv.packages.is_empty());
}

#[test]
fn corrupt_rpm_db_is_an_unknown() {
    let r = MemResolver::new().file("/var/lib/rpm/Packages", vec![0u8; 100]);
    let inv = catalog(&r, &Options::default());
    assert!(inv.packages.is_empty());
    assert_eq!(inv.unknowns.len(), 1);
    assert_eq!(inv.unknowns[0].location.path, "/var/lib/rpm/Packages");
}

#[test]
fn os_release_samples() {
    // (directory under os-release/syft/os, id, version_id) from syft's identify_release_test.go.
    let cases = [
        ("debian/from-os-release", "debian", "8"),
        ("redhat/from-redhat-release", "rhel", "8.10"),
        ("sles", "sles", "15.2"),
        ("wolfi", "wolfi", "20220914"),
        ("arch", "arch", ""),
        ("opensuse-leap", "opensuse-leap", "15.2"),
    ];
    let mut failures = Vec::new();
    for (dir, id, ver) in cases {
        let r = DirResolver::new(format!("{FIX}/os-release/syft/os/{dir}")).unwrap();
        let d = moat_catalog::distro::detect(&r);
        let got = d.map(|d| (d.id, d.version_id));
        if got != Some((id.to_string(), ver.to_string())) {
            failures.push(format!("{dir}: got {got:?}, want {id} {ver}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every file of every package of the real databases (Mariner 2.0 SQLite, RHEL 8 and
/// syft's BerkeleyDB) with its digest, flags and mode, as the real rpm prints them:
/// `rpm -qa --qf '[%{=NAME} %{FILENAMES} %{FILEDIGESTS} %{FILEFLAGS} %{FILEMODES}
/// %{FILEVERIFYFLAGS} %{FILESTATES} %{=FILEDIGESTALGO}\n]'` (Debian's rpm has no NDB backend: NDB is not compared).
#[test]
fn rpm_file_digests_flags_and_modes_equal_rpm_qf() {
    use moat_catalog::rpm::{RpmDigestAlgo, parse_db};
    for (file, db_name, backend) in [
        ("cbl-mariner-2.0.rpmdb.sqlite", "rpmdb.sqlite", "sqlite"),
        ("rhel8-libuuid.Packages.bdb", "Packages", "bdb_ro"),
        ("syft-redhat.Packages.bdb", "Packages", "bdb_ro"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::copy(format!("{FIX}/rpm/{file}"), tmp.path().join(db_name)).unwrap();
        let out = std::process::Command::new("rpm")
            .arg("--dbpath")
            .arg(tmp.path())
            .args(["--define", &format!("_db_backend {backend}")])
            .args([
                "-qa",
                "--qf",
                "[%{=NAME}\\t%{FILENAMES}\\t%{FILEDIGESTS}\\t%{FILEFLAGS}\\t%{FILEMODES}\\t%{FILEVERIFYFLAGS}\\t%{FILESTATES}\\t%{=FILEDIGESTALGO}\\n]",
            ])
            .output()
            .expect("rpm is installed by scripts/install-deps (apt.txt)");
        assert!(out.status.success(), "{file}");
        let want: BTreeSet<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("gpg-pubkey"))
            .map(str::to_string)
            .collect();
        let data = std::fs::read(format!("{FIX}/rpm/{file}")).unwrap();
        let mut got = BTreeSet::new();
        let mut algos = BTreeSet::new();
        for e in parse_db(file, &data).unwrap() {
            assert_eq!(e.files.len(), e.file_entries.len(), "{}", e.name);
            for f in &e.file_entries {
                algos.insert(f.algo);
                got.insert(format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t8",
                    e.name, f.path, f.digest, f.flags, f.mode, f.verify, f.state
                ));
            }
        }
        // All three are SHA-256 databases (FILEDIGESTALGO 8, printed last above).
        assert_eq!(algos, BTreeSet::from([RpmDigestAlgo::Sha256]), "{file}");
        assert!(!want.is_empty(), "rpm printed no files for {file}");
        assert_eq!(got, want, "{file}");
    }
    // Spot checks of what rpm printed for Mariner's files: a %config(noreplace) file
    // (RPMFILE_CONFIG|RPMFILE_NOREPLACE = 17) and a regular executable.
    let data = std::fs::read(format!("{FIX}/rpm/cbl-mariner-2.0.rpmdb.sqlite")).unwrap();
    let all = parse_db("x", &data).unwrap();
    let file = |pkg: &str, path: &str| {
        all.iter()
            .find(|e| e.name == pkg)
            .and_then(|e| e.file_entries.iter().find(|f| f.path == path))
            .cloned()
            .unwrap()
    };
    let issue = file("mariner-release", "/etc/issue");
    assert_eq!(
        issue.digest,
        "ab4094f1eeb70563635c7cd70f3f260cd43e516b579ede1ceb638e7f36eb476e"
    );
    assert!(issue.is_config() && issue.is_regular() && !issue.is_ghost());
    assert_eq!(issue.flags, 17);
    let curl = file("curl", "/usr/bin/curl");
    assert_eq!(
        curl.digest,
        "7ef6b3fd854d4ed189dd0aab2ffcf5e6bd58018ff69b97e1b86e1df7b86f3df0"
    );
    assert_eq!((curl.flags, curl.mode), (0, 0o100755));
}

/// NDB (SLES 15 BCI) cannot be read by Debian's rpm: its per-file tags are checked for
/// consistency instead. Every regular, non-ghost file has a SHA-256 digest (a per-file
/// array out of step with the file list would leave them all empty), directories and
/// symlinks have none, and the counts are those of a real system.
#[test]
fn rpm_ndb_file_entries_are_consistent() {
    use moat_catalog::rpm::{RpmDigestAlgo, parse_db};
    let data = std::fs::read(format!("{FIX}/rpm/sle15-bci.Packages.db")).unwrap();
    let (mut regular, mut config, mut ghost) = (0, 0, 0);
    for e in parse_db("Packages.db", &data).unwrap() {
        assert_eq!(e.files.len(), e.file_entries.len(), "{}", e.name);
        for f in &e.file_entries {
            assert_eq!(f.algo, RpmDigestAlgo::Sha256, "{} {}", e.name, f.path);
            assert_ne!(f.mode, 0, "{} {}", e.name, f.path);
            if f.is_regular() && !f.is_ghost() {
                regular += 1;
                assert_eq!(f.digest.len(), 64, "{} {}", e.name, f.path);
            } else if !f.is_regular() {
                assert!(f.digest.is_empty(), "{} {}", e.name, f.path);
            }
            config += usize::from(f.is_config());
            ghost += usize::from(f.is_ghost());
        }
    }
    assert!(regular > 1000, "{regular} regular files");
    assert!(
        config > 10 && ghost > 0,
        "{config} config, {ghost} ghost files"
    );
    let all = parse_db("Packages.db", &data).unwrap();
    let file = |pkg: &str, path: &str| {
        all.iter()
            .find(|e| e.name == pkg)
            .and_then(|e| e.file_entries.iter().find(|f| f.path == path))
            .cloned()
            .unwrap()
    };
    let nss = file("glibc", "/etc/nsswitch.conf");
    assert!(nss.is_config() && nss.is_regular() && nss.digest.len() == 64);
    let cache = file("glibc", "/etc/ld.so.cache");
    assert!(cache.is_ghost() && !cache.verifiable());
}

/// `rpm::installed` finds the database SUSE keeps under /usr/lib/sysimage/rpm (with
/// /var/lib/rpm a symlink to it) and reports none on a tree without one.
#[test]
fn rpm_installed_finds_the_database() {
    use moat_catalog::rpm::installed;
    let data = std::fs::read(format!("{FIX}/rpm/sle15-bci.Packages.db")).unwrap();
    let limits = moat_catalog::Limits::default();
    let r = MemResolver::new()
        .file("/usr/lib/sysimage/rpm/Packages.db", data.clone())
        .symlink("/var/lib/rpm", "../../usr/lib/sysimage/rpm");
    let (path, entries) = installed(&r, &limits).unwrap().unwrap();
    assert_eq!(path, "/var/lib/rpm/Packages.db");
    assert!(entries.iter().any(|e| e.name == "glibc"));
    let r = MemResolver::new().file("/usr/lib/sysimage/rpm/Packages.db", data);
    let (path, _) = installed(&r, &limits).unwrap().unwrap();
    assert_eq!(path, "/usr/lib/sysimage/rpm/Packages.db");
    let r = MemResolver::new().file("/etc/os-release", "ID=sles\n");
    assert!(installed(&r, &limits).unwrap().is_none());
    let tight = moat_catalog::Limits {
        max_binary_bytes: 1000,
        ..Default::default()
    };
    let r = MemResolver::new().file("/var/lib/rpm/Packages.db", vec![0u8; 5000]);
    let e = installed(&r, &tight).unwrap_err().to_string();
    assert!(e.contains("max_binary_bytes"), "{e}");
}
