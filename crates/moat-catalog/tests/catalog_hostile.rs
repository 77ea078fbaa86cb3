//! Hostile input: every cataloger gets truncated and bit-flipped versions of real
//! fixtures. Nothing may panic; whatever cannot be parsed is an unknown.

#![allow(clippy::unwrap_used)]

use moat_catalog::{Mode, Options, catalog};
use moat_fs::MemResolver;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");

/// (fixture, where it goes in the tree)
const CASES: &[(&str, &str)] = &[
    (
        "ospkg-db-parsing/dpkg/valid-ubuntu1804/var/lib/dpkg/status",
        "/var/lib/dpkg/status",
    ),
    ("ospkg-db-parsing/apk/installed", "/lib/apk/db/installed"),
    (
        "ospkg-db-parsing/rpm/sle15-bci.Packages.db",
        "/var/lib/rpm/Packages.db",
    ),
    (
        "ospkg-db-parsing/rpm/rhel8-libuuid.Packages.bdb",
        "/var/lib/rpm/Packages",
    ),
    (
        "ospkg-db-parsing/rpm/cbl-mariner-2.0.rpmdb.sqlite",
        "/var/lib/rpm/rpmdb.sqlite",
    ),
    (
        "lockfile-parsers/nodejs/npm/testdata/package-lock_v3.json",
        "/src/package-lock.json",
    ),
    (
        "lockfile-parsers/nodejs/yarn/testdata/yarn_happy.lock",
        "/src/yarn.lock",
    ),
    (
        "lockfile-parsers/nodejs/pnpm/testdata/pnpm-lock_v9.yaml",
        "/src/pnpm-lock.yaml",
    ),
    (
        "lockfile-parsers/rust/cargo/testdata/cargo_v3.lock",
        "/src/Cargo.lock",
    ),
    (
        "lockfile-parsers/golang/mod/testdata/normal/go.mod",
        "/src/go.mod",
    ),
    (
        "lockfile-parsers/dotnet/core_deps/testdata/happy.deps.json",
        "/app/app.deps.json",
    ),
    (
        "lockfile-parsers/python/packaging/testdata/distlib-0.3.1.METADATA",
        "/x/a-1.dist-info/METADATA",
    ),
];

fn mutations(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let n = data.len();
    for cut in [0, 1, 7, 16, 100, n / 3, n / 2, n.saturating_sub(1)] {
        out.push(data[..cut.min(n)].to_vec());
    }
    // Flip bytes at a spread of positions (deterministic).
    for k in 1..=24usize {
        let mut d = data.to_vec();
        if n > 0 {
            let i = (k * 7919 * 104_729) % n;
            d[i] ^= 0xff;
            let j = (k * 31) % n;
            d[j] = d[j].wrapping_add(0x80);
        }
        out.push(d);
    }
    out
}

#[test]
fn no_panic_on_truncated_or_flipped_fixtures() {
    let mut unknowns = 0;
    for (fixture, at) in CASES {
        let data = std::fs::read(format!("{FIX}/{fixture}")).unwrap();
        for m in mutations(&data) {
            let r = MemResolver::new().file(at, m);
            let inv = catalog(
                &r,
                &Options {
                    mode: Mode::Directory,
                    ..Default::default()
                },
            );
            unknowns += inv.unknowns.len();
            for u in &inv.unknowns {
                assert_eq!(&u.location.path, at);
                assert!(!u.reason.is_empty());
            }
        }
    }
    assert!(unknowns > 0, "some mutations must be reported as unknowns");
}

#[test]
fn truncated_and_flipped_archives() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        "META-INF/maven/g/a/pom.properties",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut w, b"groupId=g\nartifactId=a\nversion=1\n").unwrap();
    let jar = w.finish().unwrap().into_inner();
    for m in mutations(&jar) {
        let r = MemResolver::new().file("/a.jar", m);
        let _ = catalog(&r, &Options::default());
    }
}

/// Go build info (inline: Debian's runc from the test images; pointer format: esbuild
/// 0.11.23 from npm.txt) with every byte of the build-info header and the strings after
/// it flipped in turn, as executables in a directory.
#[test]
fn flipped_go_build_info() {
    let root = env!("CARGO_MANIFEST_DIR");
    let bins = [
        format!("{root}/../../target/test-images/full/rootfs/usr/local/bin/runc"),
        format!("{root}/../../target/tools/node/node_modules/esbuild-linux-64/bin/esbuild"),
    ];
    let t = tempfile::tempdir().unwrap();
    for bin in bins {
        let data = std::fs::read(&bin).unwrap_or_else(|e| {
            panic!("{bin}: {e} (run scripts/install-deps and scripts/build-test-images)")
        });
        let at = data
            .windows(14)
            .position(|w| w == b"\xff Go buildinf:")
            .unwrap();
        for i in (at..at + 96).step_by(3) {
            let mut d = data.clone();
            d[i] ^= 0x5a;
            let p = t.path().join("bin");
            std::fs::write(&p, &d).unwrap();
            let mut perm = std::fs::metadata(&p).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
            std::fs::set_permissions(&p, perm).unwrap();
            let inv = catalog(
                &moat_fs::DirResolver::new(t.path()).unwrap(),
                &Options::default(),
            );
            for u in &inv.unknowns {
                assert_eq!(u.location.path, "/bin");
            }
        }
    }
}
