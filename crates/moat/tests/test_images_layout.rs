//! The test-image contract (docs/test-images.md): the layout other tests rely on, and
//! what the real images built by `scripts/build-test-images` contain. These tests read
//! the real images; they need `bash scripts/build-test-images` to have run (scripts/test
//! does it before `cargo test`).

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn images() -> PathBuf {
    let dir = std::env::var_os("MOAT_TEST_IMAGES").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/test-images"
            ))
        },
        PathBuf::from,
    );
    assert!(
        dir.join("full/expected/layers.txt").is_file(),
        "{} has no test images: run `bash scripts/build-test-images`",
        dir.display()
    );
    dir
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&read(p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn blob(oci: &Path, digest: &str) -> serde_json::Value {
    let (algo, hex) = digest.split_once(':').unwrap();
    json(&oci.join("blobs").join(algo).join(hex))
}

/// (manifest, config) of the image tagged `tag` in an OCI layout.
fn oci_image(oci: &Path, tag: &str) -> (serde_json::Value, serde_json::Value) {
    let index = json(&oci.join("index.json"));
    let found: Vec<_> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .collect();
    assert_eq!(found.len(), 1, "tag {tag} in {}", oci.display());
    let manifest = blob(oci, found[0]["digest"].as_str().unwrap());
    let config = blob(oci, manifest["config"]["digest"].as_str().unwrap());
    (manifest, config)
}

fn lines(p: &Path) -> Vec<String> {
    read(p).lines().map(str::to_owned).collect()
}

#[test]
fn layout_is_complete() {
    let root = images();
    let want = [
        "debian/rootfs/etc/os-release",
        "debian/rootfs.tar",
        "debian/docker-archive.tar",
        "debian/docker-archive.tar.gz",
        "debian/oci/index.json",
        "debian/oci-archive.tar",
        "debian/oci-zstd/index.json",
        "debian/expected/dpkg.txt",
        "full/oci/index.json",
        "full/docker-archive.tar",
        "full/docker-archive.tar.gz",
        "full/oci-archive.tar",
        "full/rootfs/etc/os-release",
        "alpine/rootfs/lib/apk/db/installed",
        "alpine/oci/index.json",
        "alpine/docker-archive.tar",
        "alpine/expected/apk.txt",
    ];
    for p in want {
        assert!(root.join(p).exists(), "missing {p}");
    }
    for f in [
        "dpkg",
        "pypi",
        "npm",
        "cargo",
        "go",
        "layers",
        "deleted",
        "added",
        "whiteouts",
    ] {
        let p = root.join(format!("full/expected/{f}.txt"));
        assert!(!read(&p).trim().is_empty(), "{} is empty", p.display());
    }
    // /dev of the Debian base is empty.
    assert_eq!(
        fs::read_dir(root.join("debian/rootfs/dev"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn expected_files_are_sorted_tab_separated() {
    let root = images();
    for (f, cols) in [
        ("debian/expected/dpkg.txt", 3),
        ("full/expected/dpkg.txt", 3),
        ("full/expected/pypi.txt", 2),
        ("full/expected/npm.txt", 2),
        ("full/expected/cargo.txt", 2),
        ("full/expected/go.txt", 3),
        ("alpine/expected/apk.txt", 3),
    ] {
        let rows = lines(&root.join(f));
        for r in &rows {
            assert_eq!(r.split('\t').count(), cols, "{f}: {r:?}");
        }
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(rows, sorted, "{f} is not sorted");
    }
}

#[test]
fn full_layers_match_layers_txt() {
    let root = images();
    let (manifest, config) = oci_image(&root.join("full/oci"), "full");
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    let listed: Vec<String> = lines(&root.join("full/expected/layers.txt"))
        .iter()
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect();
    assert_eq!(diff_ids, listed);
    assert_eq!(diff_ids.len(), 5);
    // Layer 1 is the very same blob as the Debian base image's only layer.
    let (base_manifest, base_config) = oci_image(&root.join("debian/oci"), "base");
    assert_eq!(
        base_config["rootfs"]["diff_ids"][0],
        config["rootfs"]["diff_ids"][0]
    );
    assert_eq!(
        base_manifest["layers"][0]["digest"],
        manifest["layers"][0]["digest"]
    );
    for l in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            l["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
    }
    // The config the inspect tests rely on.
    let c = &config["config"];
    assert_eq!(c["User"], "1000:1000");
    assert_eq!(c["WorkingDir"], "/app");
    assert!(c["ExposedPorts"].get("8080/tcp").is_some());
    assert_eq!(
        c["Labels"]["org.opencontainers.image.title"],
        "moat-test-full"
    );
    assert_eq!(config["history"].as_array().unwrap().len(), 5);
}

#[test]
fn zstd_variant_has_zstd_layers_and_same_diff_ids() {
    let root = images();
    let (manifest, config) = oci_image(&root.join("debian/oci-zstd"), "base");
    let (_, base_config) = oci_image(&root.join("debian/oci"), "base");
    for l in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            l["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
    }
    assert_eq!(
        config["rootfs"]["diff_ids"],
        base_config["rootfs"]["diff_ids"]
    );
}

#[test]
fn layer2_effects_are_in_the_squashed_rootfs() {
    let root = images();
    let full = root.join("full/rootfs");
    let base = root.join("debian/rootfs");
    // Deleted paths: present in the base, absent from the final tree.
    let deleted = lines(&root.join("full/expected/deleted.txt"));
    assert!(deleted.iter().any(|p| p.starts_with("/usr/share/doc/")));
    assert!(deleted.iter().any(|p| p == "/etc/issue.net"));
    for p in &deleted {
        let rel = p.trim_start_matches('/');
        assert!(base.join(rel).symlink_metadata().is_ok(), "{p} not in base");
        assert!(
            full.join(rel).symlink_metadata().is_err(),
            "{p} still in full"
        );
    }
    // /usr/share/doc itself stays, empty.
    assert_eq!(fs::read_dir(full.join("usr/share/doc")).unwrap().count(), 0);
    // Opaque directory: only the new file is left.
    let apt: BTreeSet<String> = fs::read_dir(full.join("etc/apt/apt.conf.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(apt, BTreeSet::from(["99moat-test".to_owned()]));
    assert!(
        fs::read_dir(base.join("etc/apt/apt.conf.d"))
            .unwrap()
            .count()
            > 0
    );
    // Added: symlinks, a hardlink, setuid/setgid, a sticky dir, owner 1000.
    assert_eq!(
        fs::read_link(full.join("app/current")).unwrap(),
        Path::new("releases/1")
    );
    assert_eq!(
        fs::read_link(full.join("usr/local/bin/app")).unwrap(),
        Path::new("/app/bin/entrypoint.sh")
    );
    let a = fs::metadata(full.join("app/bin/entrypoint.sh")).unwrap();
    let b = fs::metadata(full.join("app/releases/1/entrypoint.sh")).unwrap();
    assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()));
    let mode = |p: &str| {
        fs::symlink_metadata(full.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("usr/local/bin/moat-suid"), 0o4755);
    assert_eq!(mode("usr/local/bin/moat-sgid"), 0o2755);
    assert_eq!(mode("app/tmp"), 0o1777);
    assert_eq!(
        fs::metadata(full.join("app/data/owned-by-app.txt"))
            .unwrap()
            .uid(),
        1000
    );
    for p in lines(&root.join("full/expected/added.txt")) {
        let rel = p.trim_start_matches('/');
        assert!(full.join(rel).symlink_metadata().is_ok(), "{p} missing");
        assert!(base.join(rel).symlink_metadata().is_err(), "{p} in base");
    }
    // Whiteout files never show up in an unpacked tree.
    for p in lines(&root.join("full/expected/whiteouts.txt")) {
        assert!(
            full.join(p.trim_start_matches('/'))
                .symlink_metadata()
                .is_err()
        );
    }
}

#[test]
fn language_packages_are_where_the_expected_files_say() {
    let root = images();
    let full = root.join("full/rootfs");
    // Every dist-info directory's METADATA name/version is in pypi.txt, and vice versa.
    let site = full.join("usr/local/lib/python3.11/dist-packages");
    let mut found = BTreeSet::new();
    for e in fs::read_dir(&site).unwrap() {
        let e = e.unwrap();
        if !e.file_name().to_string_lossy().ends_with(".dist-info") {
            continue;
        }
        let meta = read(&e.path().join("METADATA"));
        let field = |k: &str| {
            meta.lines()
                .find_map(|l| l.strip_prefix(k))
                .unwrap()
                .trim()
                .to_owned()
        };
        found.insert(format!("{}\t{}", field("Name:"), field("Version:")));
    }
    let expected: BTreeSet<String> = lines(&root.join("full/expected/pypi.txt"))
        .into_iter()
        .collect();
    assert_eq!(found, expected);
    // npm, cargo and Go inputs are in place.
    assert!(full.join("app/node/package-lock.json").is_file());
    let lodash = json(&full.join("app/node/node_modules/lodash/package.json"));
    let line = format!("lodash\t{}", lodash["version"].as_str().unwrap());
    assert!(lines(&root.join("full/expected/npm.txt")).contains(&line));
    let lock = read(&full.join("app/rust/Cargo.lock"));
    for row in lines(&root.join("full/expected/cargo.txt")) {
        let (name, version) = row.split_once('\t').unwrap();
        assert!(
            lock.contains(&format!("name = \"{name}\"\nversion = \"{version}\"")),
            "{row}"
        );
    }
    let runc = fs::read(full.join("usr/local/bin/runc")).unwrap();
    assert!(runc.windows(14).any(|w| w == b"\xff Go buildinf:"));
    // runc is a loose binary: not in the dpkg database.
    assert!(!read(&root.join("full/expected/dpkg.txt")).contains("runc\t"));
}

#[test]
fn alpine_apk_txt_matches_the_installed_db() {
    let root = images();
    let db = read(&root.join("alpine/rootfs/lib/apk/db/installed"));
    let packages = db.lines().filter(|l| l.starts_with("P:")).count();
    let rows = lines(&root.join("alpine/expected/apk.txt"));
    assert_eq!(rows.len(), packages);
    assert!(rows.iter().any(|r| r.starts_with("busybox\t")));
    let os = read(&root.join("alpine/rootfs/etc/os-release"));
    assert!(os.contains("ID=alpine"));
}
