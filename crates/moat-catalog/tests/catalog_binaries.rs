//! Binary catalogers on real ELF files: Go build info of the test image's Debian `runc`
//! (when the test images exist) and a cargo-auditable `.dep-v0` section added to a real
//! binary with binutils' objcopy (the format cargo-auditable writes: zlib-compressed JSON).

#![allow(clippy::unwrap_used)]

use moat_catalog::{Options, catalog};
use moat_fs::DirResolver;
use std::io::Write;
use std::process::Command;

#[test]
fn cargo_auditable_section_is_read() {
    let t = tempfile::tempdir().unwrap();
    let json = br#"{"packages":[
        {"name":"demo","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"serde","version":"1.0.130","source":"crates.io"},
        {"name":"cc","version":"1.0.70","source":"crates.io","kind":"build"}
    ]}"#;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    std::fs::write(t.path().join("dep"), z.finish().unwrap()).unwrap();
    std::fs::create_dir_all(t.path().join("root/usr/bin")).unwrap();
    let bin = t.path().join("root/usr/bin/demo");
    let status = Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".dep-v0={}", t.path().join("dep").display()))
        .arg("/bin/true")
        .arg(&bin)
        .status()
        .expect("objcopy (binutils) is installed");
    assert!(status.success());
    let r = DirResolver::new(t.path().join("root")).unwrap();
    let inv = catalog(&r, &Options::default());
    let got: Vec<_> = inv
        .packages
        .iter()
        .map(|p| {
            (
                p.purl.as_str(),
                p.found_by.as_str(),
                p.locations[0].path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "pkg:cargo/demo@0.1.0",
                "cargo-auditable-binary",
                "/usr/bin/demo"
            ),
            (
                "pkg:cargo/serde@1.0.130",
                "cargo-auditable-binary",
                "/usr/bin/demo"
            ),
        ],
        "build-only crates (cc) are not in the binary"
    );
}

#[test]
fn corrupt_dep_v0_is_an_unknown() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("dep"), b"not zlib").unwrap();
    std::fs::create_dir_all(t.path().join("root")).unwrap();
    let ok = Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".dep-v0={}", t.path().join("dep").display()))
        .arg("/bin/true")
        .arg(t.path().join("root/x"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let inv = catalog(
        &DirResolver::new(t.path().join("root")).unwrap(),
        &Options::default(),
    );
    assert!(inv.packages.is_empty());
    assert_eq!(inv.unknowns.len(), 1);
    assert!(
        inv.unknowns[0].reason.contains(".dep-v0"),
        "{}",
        inv.unknowns[0].reason
    );
}

#[test]
fn go_build_info_of_debian_runc() {
    let images = std::env::var_os("MOAT_TEST_IMAGES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/test-images").into());
    let root = images.join("full/rootfs");
    assert!(
        root.is_dir(),
        "{} missing: run `bash scripts/build-test-images` first",
        root.display()
    );
    let data = std::fs::read(root.join("usr/local/bin/runc")).unwrap();
    let at = data
        .windows(14)
        .position(|w| w == b"\xff Go buildinf:")
        .unwrap();
    let info = moat_catalog::binary::parse_go_buildinfo(&data[at..]).unwrap();
    assert_eq!(info.go_version, "go1.19.8");
    // A GOPATH build: the main package's path, no module version in the build info.
    assert_eq!(
        info.main(),
        Some((
            "github.com/opencontainers/runc".to_string(),
            "(devel)".to_string()
        ))
    );
    assert_eq!(info.main_module, None);
    // The host-file reader (what `moat audit` calls) reads the same, through the
    // section, build settings included.
    let host = moat_catalog::golang::read_buildinfo(
        &root.join("usr/local/bin/runc"),
        moat_catalog::MAX_BINARY,
    )
    .unwrap();
    assert_eq!(host, info);
    assert!(
        host.setting("-ldflags").is_some() || !host.settings.is_empty(),
        "build settings kept: {host:?}"
    );
    assert_eq!(
        moat_catalog::binary::version_from_contents(&data).as_deref(),
        Some("v1.1.5+ds1"),
        "the version Debian linked in (runc-deb.txt: 1.1.5+ds1-1+deb12u1)"
    );
}

/// A Go 1.16 binary (pointer-format build info): esbuild-linux-64 0.11.23 from the npm
/// registry, installed by scripts/install-deps (scripts/deps/npm.txt) under target/tools.
#[test]
fn go_pointer_format_build_info() {
    let dir = std::env::var_os("MOAT_OLD_GO_BIN_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/tools/node/node_modules/esbuild-linux-64"
            )
            .into()
        });
    assert!(
        dir.join("bin/esbuild").is_file(),
        "{} missing: run `bash scripts/install-deps` (npm.txt: esbuild-linux-64@0.11.23)",
        dir.display()
    );
    let inv = catalog(
        &DirResolver::new(dir.join("bin")).unwrap(),
        &Options::default(),
    );
    assert!(inv.unknowns.is_empty(), "{:?}", inv.unknowns);
    let got: Vec<_> = inv
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    // esbuild 0.11.23 was built with Go 1.16.3 (the runtime's version string in the
    // binary's rodata says so too).
    assert!(got.contains(&("stdlib", "go1.16.3")), "{got:?}");
    assert!(
        got.iter().any(|(n, _)| *n == "github.com/evanw/esbuild"),
        "{got:?}"
    );
    assert!(got.iter().any(|(n, _)| *n == "golang.org/x/sys"), "{got:?}");
}
