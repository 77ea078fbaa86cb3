//! Integrity and ownership on an RPM image: a real rpm database made by the real rpm
//! tools (Debian's `rpm` package, scripts/deps/apt.txt): `rpmbuild` packs real
//! binaries (`/bin/ls`, `/bin/cat`, `/bin/true`) and a real text file into two packages
//! (one with SHA-256 file digests, rpm's default, one with MD5), `rpm --initdb` and
//! `rpm -i --justdb` record them in a `var/lib/rpm/rpmdb.sqlite` inside a directory
//! tree, the files are put in place and some of them changed. The database is read
//! by moat-scan's own `content::rpm_files`, as a scan reads it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_content::files::Ownership;
use moat_content::integrity::{Algo, scan_with_rpm};
use moat_fs::DirResolver;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const SPEC: &str = r#"Name: NAME
Version: 1.0
Release: 1
Summary: moat integrity test package
License: MIT
AutoReqProv: no
%define debug_package %{nil}
%define __os_install_post %{nil}
%description
moat integrity test package
%install
INSTALL
%files
%defattr(-,root,root)
FILES
"#;

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .expect("rpm and rpmbuild are installed by scripts/install-deps (apt.txt)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build package `name` from (source file, installed path, %files line) and record it
/// in the database at `dbpath`.
fn package(
    work: &Path,
    dbpath: &Path,
    name: &str,
    files: &[(&str, &str, &str)],
    md5: bool,
    install_flags: &[&str],
) {
    let install: Vec<String> = files
        .iter()
        .map(|(src, dst, _)| {
            format!("mkdir -p %{{buildroot}}$(dirname {dst}) && cp {src} %{{buildroot}}{dst}")
        })
        .collect();
    let lines: Vec<&str> = files.iter().map(|(_, _, l)| *l).collect();
    let spec = SPEC
        .replace("NAME", name)
        .replace("INSTALL", &install.join("\n"))
        .replace("FILES", &lines.join("\n"));
    let spec_path = work.join(format!("{name}.spec"));
    std::fs::write(&spec_path, spec).unwrap();
    let top = work.join("top");
    let mut b = Command::new("rpmbuild");
    b.arg("-bb")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()));
    if md5 {
        // pgpHashAlgo 1: MD5 file digests, as packages before rpm 4.6 carry them.
        b.args(["--define", "_binary_filedigest_algorithm 1"]);
    }
    run(b.arg(&spec_path));
    let rpm = std::fs::read_dir(top.join("RPMS/x86_64"))
        .or_else(|_| std::fs::read_dir(top.join("RPMS/noarch")))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{name}-1.0"))
        })
        .unwrap();
    run(Command::new("rpm")
        .arg("--dbpath")
        .arg(dbpath)
        .args(["-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch"])
        .args(install_flags)
        .arg(&rpm));
}

fn put(root: &Path, path: &str, bytes: &[u8], mode: u32) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, bytes).unwrap();
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn rpm_database_digests_config_ghosts_and_ownership() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let src = work.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let root = tmp.path().join("root");
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let ls = std::fs::read("/bin/ls").unwrap();
    let cat = std::fs::read("/bin/cat").unwrap();
    let truebin = std::fs::read("/bin/true").unwrap();
    let gpl = std::fs::read("/usr/share/common-licenses/GPL-3").unwrap();
    let s = |n: &str, b: &[u8]| {
        std::fs::write(src.join(n), b).unwrap();
        src.join(n).display().to_string()
    };
    let (s_ls, s_true) = (s("ls", &ls), s("true", &truebin));
    let (s_conf, s_keep) = (s("tiny.conf", b"key=1\n"), s("tiny.keep", b"k=1\n"));
    let s_state = s("tiny.state", b"state\n");
    let (s_cat, s_gpl) = (s("cat", &cat), s("GPL-3", &gpl));
    run(Command::new("rpm").arg("--dbpath").arg(&db).arg("--initdb"));
    package(
        &work,
        &db,
        "tiny",
        &[
            (&s_ls, "/usr/bin/ls", "/usr/bin/ls"),
            (
                &s_true,
                "/usr/bin/pinger",
                "%attr(4755,root,root) /usr/bin/pinger",
            ),
            (
                &s_conf,
                "/etc/tiny.conf",
                "%config(noreplace) /etc/tiny.conf",
            ),
            (&s_keep, "/etc/tiny.keep", "%config /etc/tiny.keep"),
            (
                &s_state,
                "/etc/tiny.state",
                "%verify(not md5 size mtime) /etc/tiny.state",
            ),
            (&s_state, "/var/log/tiny.log", "%ghost /var/log/tiny.log"),
        ],
        false,
        &[],
    );
    package(
        &work,
        &db,
        "tinymd5",
        &[
            (&s_cat, "/usr/bin/cat", "/usr/bin/cat"),
            (
                &s_gpl,
                "/usr/share/tinymd5/GPL-3",
                "/usr/share/tinymd5/GPL-3",
            ),
        ],
        true,
        &[],
    );
    // Two packages with the same path and different content, the second installed with
    // --replacefiles: the first one's copy is in state 1 (replaced), the tree holds the
    // second one's.
    let (s_a, s_b) = (
        s("shared.a", b"from tinya\n"),
        s("shared.b", b"from tinyb\n"),
    );
    let shared = "/usr/share/tiny/shared";
    package(&work, &db, "tinya", &[(&s_a, shared, shared)], false, &[]);
    package(
        &work,
        &db,
        "tinyb",
        &[(&s_b, shared, shared)],
        false,
        &["--replacefiles"],
    );
    // The tree: untouched files, one binary of each package changed, a %config file
    // edited, a %verify(not md5) file and the %ghost log rewritten, a setuid file no
    // package installed.
    put(&root, "/usr/bin/ls", &[&ls[..], b"\0evil"].concat(), 0o755);
    put(&root, "/usr/bin/pinger", &truebin, 0o4755);
    put(&root, "/etc/tiny.conf", b"key=2\n", 0o644);
    put(&root, "/etc/tiny.keep", b"k=1\n", 0o644);
    put(&root, "/etc/tiny.state", b"changed at run time\n", 0o644);
    put(&root, "/var/log/tiny.log", b"log\n", 0o644);
    put(&root, "/usr/bin/cat", &truebin, 0o755);
    put(&root, "/usr/share/tinymd5/GPL-3", &gpl, 0o644);
    put(&root, "/usr/local/bin/evil", &truebin, 0o4755);
    put(&root, shared, b"from tinyb\n", 0o644);

    let r = DirResolver::new(&root).unwrap();
    // The database read exactly as a scan reads it.
    let files = moat_scan::content::rpm_files(&r);
    assert!(!files.is_empty(), "no rpm database found");
    let algo = |p: &str| files.iter().find(|f| f.path == p).unwrap().algo;
    assert_eq!(algo("/usr/bin/ls"), Some(Algo::Sha256));
    assert_eq!(algo("/usr/bin/cat"), Some(Algo::Md5));
    let state = |pkg: &str| {
        files
            .iter()
            .find(|f| f.path == shared && f.package == pkg)
            .unwrap()
            .state
    };
    assert_eq!((state("tinya"), state("tinyb")), (1, 0));

    // Before the rpm database is read the old check applies (nothing compared).
    assert!(moat_content::integrity::scan(&r, 64 << 20).is_empty());

    let f = scan_with_rpm(&r, 64 << 20, &files);
    let got: Vec<(&str, &str, &str, &str, bool)> = f
        .iter()
        .map(|x| {
            (
                x.rule.as_str(),
                x.location.path.as_str(),
                x.package.as_str(),
                x.algorithm.as_str(),
                x.config,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "package-conffile-modified",
                "/etc/tiny.conf",
                "tiny",
                "sha256",
                true
            ),
            (
                "package-file-modified",
                "/usr/bin/ls",
                "tiny",
                "sha256",
                false
            ),
            (
                "package-file-modified",
                "/usr/bin/cat",
                "tinymd5",
                "md5",
                false
            ),
        ]
    );
    // The order of the database does not matter (the replaced copy is never compared).
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(scan_with_rpm(&r, 64 << 20, &reversed), f);
    let sev: Vec<_> = f.iter().map(|x| x.severity).collect();
    assert_eq!(
        sev,
        [
            moat_model::Severity::Low,
            moat_model::Severity::High,
            moat_model::Severity::High
        ]
    );
    // Expected digests are rpm's own, actual ones are the tree's.
    let sha256 = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    assert_eq!(f[1].expected, sha256(&ls));
    assert_eq!(f[1].actual, sha256(&[&ls[..], b"\0evil"].concat()));
    let md5 = |b: &[u8]| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(b))
    };
    assert_eq!(f[2].expected, md5(&cat));
    assert_eq!(f[2].actual, md5(&truebin));

    // Risky files: without the rpm file lists ownership is unknown and setuid files are
    // not judged; with them the package's setuid file is owned, the other is not.
    let mut own = Ownership::load(&r);
    assert!(own.rpm);
    let setuid = |own: &Ownership| -> Vec<String> {
        moat_content::files::scan(&r, own)
            .into_iter()
            .filter(|x| x.rule == "setuid-unowned")
            .map(|x| x.location.path)
            .collect()
    };
    assert!(setuid(&own).is_empty());
    own.add_rpm(&r, files.iter().map(|f| f.path.as_str()));
    assert!(!own.rpm && own.has_db);
    assert!(own.owns("/usr/bin/pinger") && own.owns("/var/log/tiny.log"));
    assert_eq!(setuid(&own), ["/usr/local/bin/evil"]);
}
