//! Hand-built images for tests (here and in `crates/moat/tests`): layer tars written
//! header by header (so hostile names the `tar` crate's builder would refuse can be
//! made), OCI layouts, docker archives. Test support only: it panics on I/O errors.
#![doc(hidden)]
#![allow(clippy::expect_used, clippy::panic, missing_docs)]

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub fn hexof(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

/// One tar entry of a hand-built layer.
pub enum E<'a> {
    File(&'a str, &'a [u8]),
    Mode(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Fifo(&'a str),
    Char(&'a str),
}

fn header(name: &str, et: tar::EntryType, size: u64, mode: u32, link: &str) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(et);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    // Raw names: the builder's checks would refuse `..` and absolute names.
    let Some(g) = h.as_gnu_mut() else {
        panic!("not a GNU header")
    };
    assert!(name.len() < 100 && link.len() < 100);
    g.name[..name.len()].copy_from_slice(name.as_bytes());
    g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_cksum();
    h
}

/// An uncompressed layer tar.
pub fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (h, data): (tar::Header, &[u8]) = match e {
            E::File(n, d) => (
                header(n, tar::EntryType::Regular, d.len() as u64, 0o644, ""),
                d,
            ),
            E::Mode(n, d, m) => (
                header(n, tar::EntryType::Regular, d.len() as u64, *m, ""),
                d,
            ),
            E::Dir(n) => (header(n, tar::EntryType::Directory, 0, 0o755, ""), b""),
            E::Symlink(n, t) => (header(n, tar::EntryType::Symlink, 0, 0o777, t), b""),
            E::Hardlink(n, t) => (header(n, tar::EntryType::Link, 0, 0o644, t), b""),
            E::Fifo(n) => (header(n, tar::EntryType::Fifo, 0, 0o644, ""), b""),
            E::Char(n) => (header(n, tar::EntryType::Char, 0, 0o666, ""), b""),
        };
        b.append(&h, data).expect("testkit");
    }
    b.into_inner().expect("testkit")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Comp {
    None,
    Gzip,
    Zstd,
}

pub fn compress(data: &[u8], c: Comp) -> Vec<u8> {
    match c {
        Comp::None => data.to_vec(),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).expect("testkit");
            e.finish().expect("testkit")
        }
        Comp::Zstd => zstd::encode_all(data, 1).expect("testkit"),
    }
}

/// An image to write: uncompressed layer tars and how to store each.
pub struct Img {
    pub layers: Vec<(Vec<u8>, Comp)>,
    /// Extra keys merged into the config's `config` object.
    pub config: serde_json::Value,
    /// `created_by` per layer.
    pub created_by: Vec<String>,
}

impl Img {
    pub fn new(layers: Vec<(Vec<u8>, Comp)>) -> Self {
        let n = layers.len();
        Img {
            layers,
            config: serde_json::json!({"User": "1000", "Env": ["PATH=/usr/bin", "A=b"],
                "Cmd": ["/bin/sh"], "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}},
                "Labels": {"org.example": "yes"}, "WorkingDir": "/app"}),
            created_by: (0..n).map(|i| format!("layer {i}")).collect(),
        }
    }

    pub fn diff_ids(&self) -> Vec<String> {
        self.layers.iter().map(|(t, _)| sha(t)).collect()
    }

    pub fn config_json(&self) -> Vec<u8> {
        let history: Vec<serde_json::Value> = self
            .created_by
            .iter()
            .map(|c| serde_json::json!({"created_by": c}))
            .chain(std::iter::once(
                serde_json::json!({"created_by": "CMD [\"/bin/sh\"]", "empty_layer": true}),
            ))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids()},
            "history": history,
        }))
        .expect("testkit")
    }

    /// Write an OCI layout; returns the manifest digest.
    pub fn write_oci(&self, dir: &Path, tag: &str) -> String {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).expect("testkit");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("testkit");
        let put = |b: &[u8]| {
            let d = sha(b);
            std::fs::write(blobs.join(hexof(&d)), b).expect("testkit");
            d
        };
        let cfg = self.config_json();
        let cfg_d = put(&cfg);
        let layers: Vec<serde_json::Value> = self
            .layers
            .iter()
            .map(|(t, c)| {
                let blob = compress(t, *c);
                let mt = match c {
                    Comp::None => "application/vnd.oci.image.layer.v1.tar",
                    Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
                    Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
                };
                serde_json::json!({"mediaType": mt, "digest": put(&blob), "size": blob.len()})
            })
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d, "size": cfg.len()},
            "layers": layers,
        }))
        .expect("testkit");
        let md = put(&manifest);
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md, "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag}}]});
        std::fs::write(
            dir.join("index.json"),
            serde_json::to_vec(&index).expect("testkit"),
        )
        .expect("testkit");
        md
    }

    /// Write a (legacy-format) docker-archive tar: `ID/layer.tar`, `CONFIG.json`.
    pub fn write_docker_archive(&self, path: &Path) {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let cfg = self.config_json();
        let cfg_name = format!("{}.json", hexof(&sha(&cfg)));
        files.push((cfg_name.clone(), cfg));
        let mut names = Vec::new();
        for (i, (t, c)) in self.layers.iter().enumerate() {
            let n = format!("{i:064x}/layer.tar");
            files.push((n.clone(), compress(t, *c)));
            names.push(n);
        }
        let manifest = serde_json::json!([{"Config": cfg_name, "RepoTags": ["local/test:1"], "Layers": names}]);
        files.push((
            "manifest.json".into(),
            serde_json::to_vec(&manifest).expect("testkit"),
        ));
        write_tar(path, &files);
    }
}

pub fn write_tar(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).expect("testkit"));
    for (n, d) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(d.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, n, d.as_slice()).expect("testkit");
    }
    b.finish().expect("testkit");
}

/// Tar up a directory (an OCI layout) as an oci-archive.
pub fn tar_dir(dir: &Path, out: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(out).expect("testkit"));
    b.append_dir_all(".", dir).expect("testkit");
    b.finish().expect("testkit");
}

/// A layer holding one regular file with a name of any length (GNU long names).
pub fn layer_long_name(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    b.append_data(&mut h, name, data).expect("testkit");
    b.into_inner().expect("testkit")
}

/// A layer holding one symlink with a target of any length (GNU long link names).
pub fn layer_long_symlink(name: &str, target: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_mtime(0);
    b.append_link(&mut h, name, target).expect("testkit");
    b.into_inner().expect("testkit")
}

/// A layer of `n` empty files `{dir}/f{i}` (names made by the `tar` builder, so
/// long directory names work too).
pub fn layer_many_files(dir: &str, n: usize) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..n {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, format!("{dir}/f{i}"), std::io::empty())
            .expect("testkit");
    }
    b.into_inner().expect("testkit")
}

/// Concatenate layer tars into one (each tar's end-of-archive blocks removed).
pub fn concat_layers(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        // `tar::Builder::into_inner` ends with two zero blocks.
        let end = p.len().saturating_sub(1024);
        out.extend_from_slice(&p[..end]);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}
