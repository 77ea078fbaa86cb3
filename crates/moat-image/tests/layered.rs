//! The layered view on hand-built images in every local format.
#![allow(clippy::unwrap_used)]

use moat_image::testkit as common;

use common::{Comp, E, Img, layer, sha};
use moat_fs::{FileKind, FileResolver};
use moat_image::{OpenOptions, open};
use std::path::Path;

fn two_layers(c0: Comp, c1: Comp) -> Img {
    let l0 = layer(&[
        E::Dir("etc/"),
        E::File("etc/os-release", b"ID=debian\n"),
        E::File("etc/keep", b"keep me? no\n"),
        E::Dir("usr/"),
        E::Dir("usr/lib/"),
        E::File("usr/lib/a", b"old a\n"),
        E::File("usr/lib/b", b"b\n"),
        E::Dir("usr/bin/"),
        E::Hardlink("usr/bin/h", "usr/lib/b"),
        E::Symlink("lib", "usr/lib"),
        E::Symlink("usr/bin/escape", "../../../../../etc/os-release"),
        E::Symlink("abs", "/etc/os-release"),
        E::Dir("d/"),
        E::File("d/x", b"x\n"),
        E::Dir("d/sub/"),
        E::File("d/sub/y", b"y\n"),
        E::Fifo("run-fifo"),
        E::Char("dev-null"),
        E::Mode("usr/bin/su", b"setuid\n", 0o4755),
    ]);
    let l1 = layer(&[
        E::Dir("etc/"),
        E::File("etc/.wh.keep", b""),
        E::File("etc/new", b"new\n"),
        E::Dir("d/"),
        E::File("d/.wh..wh..opq", b""),
        E::File("d/z", b"z\n"),
        E::File("usr/lib/a", b"new a\n"),
        // Written through the `lib` symlink: lands in /usr/lib, as a chroot would.
        E::File("lib/c", b"c\n"),
    ]);
    Img::new(vec![(l0, c0), (l1, c1)])
}

fn read(r: &dyn FileResolver, p: &str) -> String {
    String::from_utf8(r.read_limited(p, 1 << 20).unwrap()).unwrap()
}

fn check_two_layers(img: &moat_image::Image, model: &Img) {
    let d = model.diff_ids();
    let r = img.resolver();
    let paths: Vec<String> = r.entries().map(|m| m.path).collect();
    assert_eq!(
        paths,
        vec![
            "/abs",
            "/d",
            "/d/z",
            "/dev-null",
            "/etc",
            "/etc/new",
            "/etc/os-release",
            "/lib",
            "/run-fifo",
            "/usr",
            "/usr/bin",
            "/usr/bin/escape",
            "/usr/bin/h",
            "/usr/bin/su",
            "/usr/lib",
            "/usr/lib/a",
            "/usr/lib/b",
            "/usr/lib/c",
        ]
    );
    let layer_of = |p: &str| r.lstat(p).unwrap().layer.unwrap();
    assert_eq!(layer_of("/etc/os-release"), d[0]);
    assert_eq!(layer_of("/usr/lib/a"), d[1]);
    assert_eq!(layer_of("/d/z"), d[1]);
    assert_eq!(layer_of("/usr/lib/c"), d[1]);
    assert_eq!(layer_of("/usr/bin/h"), d[0]);
    assert_eq!(read(r, "/usr/lib/a"), "new a\n");
    assert_eq!(read(r, "/lib/a"), "new a\n");
    assert_eq!(read(r, "/lib/c"), "c\n");
    assert_eq!(read(r, "/usr/bin/h"), "b\n");
    // Symlinks resolve inside the image root.
    assert_eq!(read(r, "/usr/bin/escape"), "ID=debian\n");
    assert_eq!(read(r, "/abs"), "ID=debian\n");
    assert!(r.lstat("/etc/keep").is_none());
    assert!(r.lstat("/d/x").is_none() && r.lstat("/d/sub/y").is_none());
    assert_eq!(r.lstat("/run-fifo").unwrap().kind, FileKind::Fifo);
    assert_eq!(r.lstat("/dev-null").unwrap().kind, FileKind::CharDevice);
    assert!(r.open("/run-fifo").is_err());
    assert!(r.open("/dev-null").is_err());
    assert_eq!(r.lstat("/usr/bin/su").unwrap().mode, 0o4755);
    assert_eq!(r.lstat("/usr/lib/a").unwrap().size, 6);

    let m = img.metadata();
    assert_eq!(m.os, "linux");
    assert_eq!(m.architecture, "amd64");
    assert_eq!(m.config.user, "1000");
    assert_eq!(m.config.env, vec!["PATH=/usr/bin", "A=b"]);
    assert_eq!(m.config.exposed_ports, vec!["443/tcp", "8080/tcp"]);
    assert_eq!(m.config.working_dir, "/app");
    assert_eq!(m.layers.len(), 2);
    assert_eq!(m.layers[0].diff_id, d[0]);
    assert_eq!(m.layers[1].diff_id, d[1]);
    assert_eq!(m.layers[0].size, model.layers[0].0.len() as u64);
    assert_eq!(m.layers[1].created_by, "layer 1");
    assert_eq!(m.history.len(), 3);
    assert_eq!(
        m.total_size,
        model.layers.iter().map(|l| l.0.len() as u64).sum::<u64>()
    );

    // One layer alone.
    let top = img.layer_view(1).unwrap();
    assert_eq!(top.diff_id(), d[1]);
    assert_eq!(top.whiteouts(), vec!["/etc/keep"]);
    assert_eq!(top.opaque_dirs(), vec!["/d"]);
    let top_paths: Vec<String> = top.entries().map(|m| m.path).collect();
    assert_eq!(
        top_paths,
        vec![
            "/d",
            "/d/z",
            "/etc",
            "/etc/new",
            "/lib",
            "/lib/c",
            "/usr",
            "/usr/lib",
            "/usr/lib/a"
        ]
    );
    assert_eq!(read(&top, "/usr/lib/a"), "new a\n");
    assert!(img.layer_view(2).is_none());
}

#[test]
fn oci_layouts_in_every_compression() {
    for (c0, c1) in [
        (Comp::Gzip, Comp::Zstd),
        (Comp::None, Comp::Gzip),
        (Comp::Zstd, Comp::None),
    ] {
        let t = tempfile::tempdir().unwrap();
        let model = two_layers(c0, c1);
        let md = model.write_oci(&t.path().join("oci"), "base");
        let opts = OpenOptions::new(t.path().join("cache"));
        let src = format!("oci-dir:{}:base", t.path().join("oci").display());
        let img = open(&src, &opts).unwrap();
        assert_eq!(img.metadata().digest, md);
        assert_eq!(img.metadata().source, src);
        check_two_layers(&img, &model);
        // By digest, by bare path, and again with a warm cache.
        let by_digest = format!("oci-dir:{}@{md}", t.path().join("oci").display());
        check_two_layers(&open(&by_digest, &opts).unwrap(), &model);
        let bare = t.path().join("oci").display().to_string();
        check_two_layers(&open(&bare, &opts).unwrap(), &model);
        let missing = format!("oci-dir:{}:nope", t.path().join("oci").display());
        let e = open(&missing, &opts).err().unwrap().to_string();
        assert!(
            e.contains("no image nope") && e.contains("tags: base"),
            "{e}"
        );
    }
}

#[test]
fn docker_and_oci_archives() {
    let t = tempfile::tempdir().unwrap();
    let model = two_layers(Comp::None, Comp::Gzip);
    let opts = OpenOptions::new(t.path().join("cache"));
    let da = t.path().join("img.tar");
    model.write_docker_archive(&da);
    let img = open(&format!("docker-archive:{}", da.display()), &opts).unwrap();
    check_two_layers(&img, &model);
    assert_eq!(img.metadata().repo_tags, vec!["local/test:1"]);
    let cfg = model.config_json();
    assert_eq!(img.metadata().digest, sha(&cfg));
    assert_eq!(img.metadata().config_digest, sha(&cfg));

    // The same archive gzip-compressed as a whole.
    let gz = t.path().join("img.tar.gz");
    std::fs::write(
        &gz,
        common::compress(&std::fs::read(&da).unwrap(), Comp::Gzip),
    )
    .unwrap();
    check_two_layers(&open(&gz.display().to_string(), &opts).unwrap(), &model);

    // oci-archive: a tar of a layout, and detected from a bare path too.
    model.write_oci(&t.path().join("oci"), "base");
    let oa = t.path().join("oci.tar");
    common::tar_dir(&t.path().join("oci"), &oa);
    let fresh = OpenOptions::new(t.path().join("cache2"));
    check_two_layers(
        &open(&format!("oci-archive:{}", oa.display()), &fresh).unwrap(),
        &model,
    );
    check_two_layers(&open(&oa.display().to_string(), &fresh).unwrap(), &model);
}

#[test]
fn dir_and_rootfs_sources() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    std::fs::write(t.path().join("etc/os-release"), "ID=x\n").unwrap();
    let opts = OpenOptions::new(t.path().join("cache"));
    for scheme in ["dir", "rootfs"] {
        let img = open(&format!("{scheme}:{}", t.path().display()), &opts).unwrap();
        assert_eq!(read(img.resolver(), "/etc/os-release"), "ID=x\n");
        assert!(img.layers().is_empty());
    }
}

#[test]
fn layer_cache_is_keyed_by_diff_id_and_survives_reopen() {
    let t = tempfile::tempdir().unwrap();
    let model = two_layers(Comp::Gzip, Comp::Gzip);
    model.write_oci(&t.path().join("oci"), "base");
    let cache = t.path().join("cache");
    let opts = OpenOptions::new(&cache);
    let src = format!("oci-dir:{}", t.path().join("oci").display());
    let a = open(&src, &opts).unwrap();
    for d in model.diff_ids() {
        let p = cache
            .join("layers/sha256")
            .join(format!("{}.tar", common::hexof(&d)));
        assert!(p.is_file(), "{} missing", p.display());
    }
    let b = open(&src, &opts).unwrap();
    let ea: Vec<_> = a.resolver().entries().collect();
    let eb: Vec<_> = b.resolver().entries().collect();
    assert_eq!(ea, eb);
    assert_eq!(a.metadata(), b.metadata());
    // Only cache files were written: the layout is untouched.
    let mut names: Vec<String> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["cache", "oci"]);
    let _ = Path::new("/");
}

#[test]
fn newer_docker_save_format_uses_the_manifest_digest() {
    // Docker 25+: manifest.json naming `blobs/sha256/...` plus an OCI index.json.
    let t = tempfile::tempdir().unwrap();
    let model = two_layers(Comp::None, Comp::Gzip);
    let layout = t.path().join("layout");
    let md = model.write_oci(&layout, "local/test:1");
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.join("blobs/sha256").join(common::hexof(&md))).unwrap(),
    )
    .unwrap();
    let blob =
        |d: &serde_json::Value| format!("blobs/sha256/{}", common::hexof(d.as_str().unwrap()));
    let layers: Vec<String> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| blob(&l["digest"]))
        .collect();
    let manifest = serde_json::json!([{"Config": blob(&m["config"]["digest"]),
        "RepoTags": ["local/test:1"], "Layers": layers}]);
    std::fs::write(
        layout.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let tar = t.path().join("save.tar");
    common::tar_dir(&layout, &tar);
    let opts = OpenOptions::new(t.path().join("cache"));
    let img = open(&format!("docker-archive:{}", tar.display()), &opts).unwrap();
    check_two_layers(&img, &model);
    assert_eq!(img.metadata().digest, md);
    assert_eq!(img.metadata().repo_tags, vec!["local/test:1"]);
}

#[test]
fn concurrent_cold_opens_share_one_cache() {
    let t = tempfile::tempdir().unwrap();
    let model = two_layers(Comp::Gzip, Comp::Zstd);
    model.write_oci(&t.path().join("oci"), "base");
    let da = t.path().join("legacy.tar");
    model.write_docker_archive(&da);
    let opts = OpenOptions::new(t.path().join("cache"));
    let srcs = [
        format!("oci-dir:{}", t.path().join("oci").display()),
        format!("docker-archive:{}", da.display()),
    ];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (src, opts) = (&srcs[i % 2], &opts);
                s.spawn(move || open(src, opts).unwrap())
            })
            .collect();
        for h in handles {
            check_two_layers(&h.join().unwrap(), &model);
        }
    });
    // Legacy archives (no blob digest) verify again but reuse the stored layer.
    check_two_layers(&open(&srcs[1], &opts).unwrap(), &model);
    let stored: Vec<_> = std::fs::read_dir(t.path().join("cache/layers/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(stored.len(), 2, "{stored:?}");
}

#[test]
fn platform_is_chosen_from_a_nested_index() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("oci");
    let a = Img::new(vec![(layer(&[E::File("arch", b"amd64\n")]), Comp::Gzip)]);
    let b = Img::new(vec![(layer(&[E::File("arch", b"arm64\n")]), Comp::Gzip)]);
    let ma = a.write_oci(&dir, "a");
    let mb = b.write_oci(&dir, "b");
    let size = |d: &str| {
        std::fs::metadata(dir.join("blobs/sha256").join(common::hexof(d)))
            .unwrap()
            .len()
    };
    let nested = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mb, "size": size(&mb),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ma, "size": size(&ma),
         "platform": {"os": "linux", "architecture": "amd64"}}]}))
    .unwrap();
    let nd = sha(&nested);
    std::fs::write(dir.join("blobs/sha256").join(common::hexof(&nd)), &nested).unwrap();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": nd, "size": nested.len(),
         "annotations": {"org.opencontainers.image.ref.name": "multi"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let src = format!("oci-dir:{}:multi", dir.display());
    let mut opts = OpenOptions::new(t.path().join("cache"));
    let img = open(&src, &opts).unwrap();
    assert_eq!(img.metadata().digest, ma);
    assert_eq!(read(img.resolver(), "/arch"), "amd64\n");
    opts.platform = Some("linux/arm64".into());
    let img = open(&src, &opts).unwrap();
    assert_eq!(img.metadata().digest, mb);
    assert_eq!(read(img.resolver(), "/arch"), "arm64\n");
    opts.platform = Some("linux/s390x".into());
    let e = open(&src, &opts).err().unwrap().to_string();
    assert!(
        e.contains("no image for platform linux/s390x (available: linux/amd64, linux/arm64/v8)"),
        "{e}"
    );
}

#[test]
fn a_platform_manifest_below_an_index_opens_by_digest() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("oci");
    let a = Img::new(vec![(layer(&[E::File("arch", b"amd64\n")]), Comp::Gzip)]);
    let ma = a.write_oci(&dir, "a");
    let size = std::fs::metadata(dir.join("blobs/sha256").join(common::hexof(&ma)))
        .unwrap()
        .len();
    let nested = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ma, "size": size,
         "platform": {"os": "linux", "architecture": "amd64"}}]}))
    .unwrap();
    let nd = sha(&nested);
    std::fs::write(dir.join("blobs/sha256").join(common::hexof(&nd)), &nested).unwrap();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": nd, "size": nested.len()}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let opts = OpenOptions::new(t.path().join("cache"));
    for r in [&ma, &nd] {
        let img = open(&format!("oci-dir:{}@{r}", dir.display()), &opts).unwrap();
        assert_eq!(img.metadata().digest, ma);
    }
    let missing = format!("sha256:{}", "0".repeat(64));
    let e = open(&format!("oci-dir:{}@{missing}", dir.display()), &opts)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains(&format!("no image {missing}")), "{e}");
}

#[test]
fn writes_through_symlinked_parents_stay_in_the_image() {
    let t = tempfile::tempdir().unwrap();
    let l0 = layer(&[
        E::Dir("etc/"),
        E::Symlink("loop", "loop"),
        E::Symlink("abs", "/etc"),
        E::Symlink("up", "../../../../etc"),
        E::Symlink("dangling", "/nowhere"),
    ]);
    let l1 = layer(&[
        E::File("loop/x", b"1"),
        E::File("abs/y", b"2"),
        E::File("up/z", b"3"),
        E::File("dangling/w", b"4"),
    ]);
    let model = Img::new(vec![(l0, Comp::None), (l1, Comp::None)]);
    model.write_oci(&t.path().join("oci"), "t");
    let img = open(
        &format!("oci-dir:{}", t.path().join("oci").display()),
        &OpenOptions::new(t.path().join("cache")),
    )
    .unwrap();
    let r = img.resolver();
    let paths: Vec<String> = r.entries().map(|m| m.path).collect();
    assert_eq!(
        paths,
        vec![
            "/abs",
            "/dangling",
            "/dangling/w",
            "/etc",
            "/etc/y",
            "/etc/z",
            "/loop",
            "/loop/x",
            "/up"
        ]
    );
    // A looping or dangling link in the way became a directory.
    assert!(r.lstat("/loop").unwrap().is_dir());
    assert!(r.lstat("/dangling").unwrap().is_dir());
    assert!(r.lstat("/abs").unwrap().is_symlink());
    assert_eq!(read(r, "/abs/y"), "2");
    assert_eq!(read(r, "/up/z"), "3");
}
