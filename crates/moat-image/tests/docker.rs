//! `docker:REF` against a real, private `dockerd` (Debian's docker.io) on its own socket.

#![allow(clippy::unwrap_used)] // tests

#[path = "support/remote.rs"]
mod remote;

use moat_image::OpenOptions;
use moat_image::docker::export_to_archive;
use remote::*;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::Command;

fn with_host(cache: &Path, host: String) -> OpenOptions {
    let mut o = opts(cache);
    o.docker_host = Some(host);
    o
}

/// The entries of a tar (names only, `./` stripped).
fn tar_names(r: impl Read) -> BTreeSet<String> {
    let mut a = tar::Archive::new(r);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            e.path()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string()
        })
        .filter(|n| !n.is_empty() && n != ".")
        .collect()
}

/// The rootfs to import: the Debian test image's if built, else a small one.
fn rootfs_tar(work: &Path) -> (std::path::PathBuf, std::path::PathBuf, BTreeSet<String>) {
    let debian = test_images_dir().join("debian/rootfs");
    let root = if debian.join("etc/os-release").exists() {
        debian
    } else {
        let r = work.join("rootfs");
        for (p, c) in [
            ("etc/os-release", "ID=moattest\n"),
            ("etc/hostname", "d\n"),
            ("usr/bin/tool", "#!/bin/sh\n"),
        ] {
            std::fs::create_dir_all(r.join(p).parent().unwrap()).unwrap();
            std::fs::write(r.join(p), c).unwrap();
        }
        r
    };
    // scripts/build-test-images ships the rootfs as a tar too: no need to make one.
    let prebuilt = root.with_file_name("rootfs.tar");
    if prebuilt.is_file() {
        let names = tar_names(std::fs::File::open(&prebuilt).unwrap());
        return (root, prebuilt, names);
    }
    let tar = work.join("rootfs.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    let names = tar_names(std::fs::File::open(&tar).unwrap());
    (root, tar, names)
}

#[test]
fn exports_an_imported_image_from_a_private_dockerd() {
    let work = tempfile::tempdir().unwrap();
    let (root_dir, tar, rootfs_names) = rootfs_tar(work.path());
    let d = Dockerd::start();
    run(d.docker().arg("import").arg(&tar).arg("local/test:1"));
    let id = run(d
        .docker()
        .args(["image", "inspect", "--format", "{{.Id}}", "local/test:1"]))
    .trim()
    .to_string();

    let cache = tempfile::tempdir().unwrap();
    let o = with_host(cache.path(), d.host());
    let archive = export_to_archive("local/test:1", &o).unwrap();
    assert!(archive.starts_with(cache.path().join("docker")));

    // A `docker save` archive: manifest.json naming the image's config and one layer
    // holding exactly the imported rootfs.
    let mut manifest = None;
    let mut layers = std::collections::BTreeMap::new();
    let mut a = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        if name == "manifest.json" {
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            manifest = Some(serde_json::from_slice::<serde_json::Value>(&data).unwrap());
        } else if name.ends_with("layer.tar") {
            layers.insert(name, tar_names(&mut e));
        }
    }
    let manifest = manifest.expect("manifest.json in the export");
    let config = manifest[0]["Config"].as_str().unwrap();
    assert_eq!(
        config.trim_end_matches(".json"),
        id.trim_start_matches("sha256:")
    );
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["local/test:1"]));
    let layer_names = manifest[0]["Layers"].as_array().unwrap();
    assert_eq!(layer_names.len(), 1);
    assert_eq!(layers[layer_names[0].as_str().unwrap()], rootfs_names);

    // Opened through moat_image::open, it is the imported root file system.
    let img = moat_image::open("docker:local/test:1", &o).unwrap();
    let root = moat_fs::DirResolver::new(&root_dir).unwrap();
    let files = assert_same_files(img.resolver(), &root, "docker vs rootfs");
    assert!(files >= 3);
    std::fs::remove_file(&archive).unwrap();

    // The engine knows no such image: clear, one line, names the socket.
    let e = export_to_archive("local/absent:1", &o).unwrap_err();
    assert_one_line(&e, "docker:local/absent:1", &["no such image", &d.host()]);

    // No export file is left behind (open removes its own, we removed ours).
    let written: Vec<_> = std::fs::read_dir(cache.path().join("docker"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(written.is_empty(), "{written:?}");
}

#[test]
fn a_dead_socket_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let sock = work.path().join("no-such.sock");
    let host = format!("unix://{}", sock.display());
    let e = export_to_archive("local/test:1", &with_host(work.path(), host.clone())).unwrap_err();
    assert_one_line(
        &e,
        "docker:local/test:1",
        &["cannot reach the Docker engine", &host],
    );

    // A socket file nobody listens on.
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    drop(_l);
    let e = export_to_archive("local/test:1", &with_host(work.path(), host.clone())).unwrap_err();
    assert_one_line(&e, "docker:local/test:1", &["cannot reach", &host]);

    let port = free_port();
    let host = format!("tcp://127.0.0.1:{port}");
    let e = export_to_archive("x:1", &with_host(work.path(), host.clone())).unwrap_err();
    assert_one_line(&e, "docker:x:1", &["cannot reach", &host]);
}
