//! The layered view on the real test images (`scripts/build-test-images`): every
//! format of the Debian image equals its root file system, entry by entry and byte by
//! byte; the `full` image's whiteouts delete what they should and each file knows its
//! layer.
#![allow(clippy::unwrap_used)]

use moat_fs::{DirResolver, FileMeta, FileResolver};
use moat_image::{OpenOptions, open};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn images() -> PathBuf {
    let p = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/test-images"
            ))
        });
    assert!(
        p.join("debian/rootfs").is_dir() && p.join("full/rootfs").is_dir(),
        "test images missing under {}: run `bash scripts/build-test-images` first",
        p.display()
    );
    p
}

fn lines(p: PathBuf) -> Vec<String> {
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Path -> metadata without the layer (a directory has none).
fn listing(r: &dyn FileResolver) -> BTreeMap<String, FileMeta> {
    r.entries()
        .map(|mut m| {
            m.layer = None;
            (m.path.clone(), m)
        })
        .collect()
}

fn assert_same_tree(img: &dyn FileResolver, root: &DirResolver, what: &str) {
    assert_same_tree_except(img, root, what, &[]);
}

fn assert_same_tree_except(img: &dyn FileResolver, root: &DirResolver, what: &str, skip: &[&str]) {
    let keep = |p: &String| !skip.iter().any(|s| p.starts_with(s));
    let a: BTreeMap<String, FileMeta> = listing(img).into_iter().filter(|(p, _)| keep(p)).collect();
    let b: BTreeMap<String, FileMeta> =
        listing(root).into_iter().filter(|(p, _)| keep(p)).collect();
    let only_img: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).take(10).collect();
    let only_root: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).take(10).collect();
    assert!(
        only_img.is_empty() && only_root.is_empty(),
        "{what}: only in image {only_img:?}, only in rootfs {only_root:?}"
    );
    let mut files = 0;
    for (p, m) in &a {
        let r = &b[p];
        // Directory mtimes/sizes differ by nature; compare what a scanner uses.
        assert_eq!(
            (m.kind, m.mode, m.uid, m.gid, m.size, &m.link_target),
            (r.kind, r.mode, r.uid, r.gid, r.size, &r.link_target),
            "{what}: {p}"
        );
        if m.is_file() {
            let x = img.read_limited(p, 1 << 30).unwrap();
            let y = root.read_limited(p, 1 << 30).unwrap();
            assert!(x == y, "{what}: content of {p} differs");
            files += 1;
        }
    }
    assert!(files > 1000, "{what}: only {files} files");
}

#[test]
fn debian_in_every_format_equals_its_rootfs() {
    let base = images();
    let root = DirResolver::new(base.join("debian/rootfs")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions::new(cache.path());
    let mut digests = Vec::new();
    for src in [
        "docker-archive:debian/docker-archive.tar",
        "docker-archive:debian/docker-archive.tar.gz",
        "oci-dir:debian/oci:base",
        "oci-archive:debian/oci-archive.tar",
        "oci-dir:debian/oci-zstd",
    ] {
        let (scheme, rel) = src.split_once(':').unwrap();
        let s = format!("{scheme}:{}", base.join(rel).display());
        let img = open(&s, &opts).unwrap_or_else(|e| panic!("{s}: {e}"));
        let m = img.metadata();
        assert_eq!((m.os.as_str(), m.architecture.as_str()), ("linux", "amd64"));
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.config.cmd, vec!["/bin/bash"]);
        let layer = m.layers[0].diff_id.clone();
        assert!(
            img.resolver()
                .entries()
                .all(|e| e.layer.as_deref() == Some(&layer)),
            "{s}: every entry is from the one layer"
        );
        assert_same_tree(img.resolver(), &root, &s);
        digests.push((s, m.layers[0].diff_id.clone(), m.layers[0].size));
    }
    // Every format carries the very same layer.
    assert!(
        digests
            .windows(2)
            .all(|w| w[0].1 == w[1].1 && w[0].2 == w[1].2),
        "{digests:?}"
    );
}

#[test]
fn full_image_whiteouts_and_layer_attribution() {
    let base = images();
    let expected_layers: Vec<String> = lines(base.join("full/expected/layers.txt"))
        .into_iter()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    let deleted = lines(base.join("full/expected/deleted.txt"));
    let added = lines(base.join("full/expected/added.txt"));
    let modified = lines(base.join("full/expected/modified.txt"));
    let root = DirResolver::new(base.join("full/rootfs")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions::new(cache.path());
    for rel in [
        "oci:full",
        "docker-archive.tar",
        "docker-archive.tar.gz",
        "oci-archive.tar",
    ] {
        let s = match rel.split_once(':') {
            Some((d, tag)) => format!("oci-dir:{}:{tag}", base.join("full").join(d).display()),
            None => base.join("full").join(rel).display().to_string(),
        };
        let img = open(&s, &opts).unwrap_or_else(|e| panic!("{s}: {e}"));
        let m = img.metadata();
        let diff_ids: Vec<String> = m.layers.iter().map(|l| l.diff_id.clone()).collect();
        assert_eq!(diff_ids, expected_layers, "{s}");
        assert_eq!(m.config.user, "1000:1000");
        assert_eq!(m.config.exposed_ports, vec!["8080/tcp"]);
        assert_eq!(m.config.working_dir, "/app");
        assert_eq!(m.total_size, m.layers.iter().map(|l| l.size).sum::<u64>());
        let r = img.resolver();
        for p in &deleted {
            assert!(r.lstat(p).is_none(), "{s}: {p} should be deleted");
        }
        let layer_of = |p: &str| {
            r.lstat(p)
                .unwrap_or_else(|| panic!("{s}: {p} missing"))
                .layer
                .unwrap()
        };
        // Directories are written again by later layers (`/app` by layer 4); files
        // keep the layer that added them.
        for p in added.iter().chain(&modified) {
            if !r.lstat(p).unwrap().is_dir() {
                assert_eq!(layer_of(p), expected_layers[1], "{s}: {p}");
            }
        }
        assert_eq!(layer_of("/etc/os-release"), expected_layers[0]);
        assert_eq!(layer_of("/usr/bin/dpkg"), expected_layers[0]);
        assert_eq!(layer_of("/app/node/package-lock.json"), expected_layers[3]);
        assert_eq!(layer_of("/app/rust/Cargo.lock"), expected_layers[4]);
        assert_eq!(layer_of("/usr/local/bin/runc"), expected_layers[4]);
        let py = r
            .glob(&["/usr/local/lib/python3.11/dist-packages/*.dist-info/METADATA"])
            .unwrap();
        assert!(!py.is_empty());
        assert!(
            py.iter()
                .all(|m| m.layer.as_deref() == Some(&expected_layers[2]))
        );
        // The opaque directory holds only what layer 2 put there.
        let apt: Vec<String> = r
            .entries()
            .filter(|m| m.path.starts_with("/etc/apt/apt.conf.d/"))
            .map(|m| m.path)
            .collect();
        assert_eq!(apt, vec!["/etc/apt/apt.conf.d/99moat-test"], "{s}");
        // The hardlink reads the entrypoint's content; links resolve in the image.
        assert_eq!(
            r.read_limited("/app/releases/1/entrypoint.sh", 1 << 20)
                .unwrap(),
            r.read_limited("/app/bin/entrypoint.sh", 1 << 20).unwrap()
        );
        assert_eq!(
            r.resolve("/usr/local/bin/app").unwrap().unwrap(),
            "/app/bin/entrypoint.sh"
        );
        assert_eq!(r.lstat("/usr/local/bin/moat-suid").unwrap().mode, 0o4755);
        // The per-layer view of layer 2 lists its whiteouts.
        let l2 = img.layer_view(1).unwrap();
        assert!(l2.whiteouts().contains(&"/etc/issue.net"));
        assert_eq!(l2.opaque_dirs(), vec!["/etc/apt/apt.conf.d"]);
        assert_same_tree(r, &root, &s);
    }
}

#[test]
fn alpine_equals_its_rootfs() {
    let base = images();
    let root = DirResolver::new(base.join("alpine/rootfs")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions::new(cache.path());
    for rel in ["oci:alpine", "docker-archive.tar"] {
        let s = match rel.split_once(':') {
            Some((d, tag)) => format!("oci-dir:{}:{tag}", base.join("alpine").join(d).display()),
            None => format!("docker-archive:{}", base.join("alpine").join(rel).display()),
        };
        let img = open(&s, &opts).unwrap_or_else(|e| panic!("{s}: {e}"));
        // Tests that chroot into alpine/rootfs (the apk version oracle) can leave a
        // regular file /dev/null behind; /dev is not part of the comparison.
        assert_same_tree_except(img.resolver(), &root, &s, &["/dev/"]);
    }
}
