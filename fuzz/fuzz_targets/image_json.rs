#![no_main]
//! Image JSON documents: the input becomes the OCI config blob, the manifest blob,
//! `index.json`, or a docker-archive `manifest.json`, each referenced by its real
//! digest so parsing (not the digest check) meets the bytes. Opening must succeed
//! or fail with an error naming the input; on success every file is read.
use libfuzzer_sys::fuzz_target;
use moat_image::testkit::{Comp, E, Img, hexof, layer, sha, write_tar};
use moat_image::{OpenOptions, open};
use std::path::Path;

fn put(blobs: &Path, b: &[u8]) -> String {
    let d = sha(b);
    let _ = std::fs::write(blobs.join(hexof(&d)), b);
    d
}

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = moat_fuzz::pick(data, 4) else {
        return;
    };
    let Ok(t) = tempfile::tempdir() else { return };
    let tar = layer(&[E::File("etc/os-release", b"ID=debian\nVERSION_ID=12\n")]);
    let img = Img::new(vec![(tar.clone(), Comp::None)]);
    let src = if sel == 3 {
        // docker-archive: fuzzed manifest.json next to a valid config and layer.
        let cfg = img.config_json();
        let cfg_name = format!("{}.json", hexof(&sha(&cfg)));
        let files = vec![
            (cfg_name, cfg),
            (format!("{:064x}/layer.tar", 0), tar),
            ("manifest.json".to_string(), rest.to_vec()),
        ];
        let p = t.path().join("img.tar");
        write_tar(&p, &files);
        format!("docker-archive:{}", p.display())
    } else {
        let dir = t.path().join("oci");
        let blobs = dir.join("blobs/sha256");
        if std::fs::create_dir_all(&blobs).is_err() {
            return;
        }
        let _ = std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#);
        let cfg = if sel == 0 {
            rest.to_vec()
        } else {
            img.config_json()
        };
        let cfg_d = put(&blobs, &cfg);
        let layer_d = put(&blobs, &tar);
        let manifest = if sel == 1 {
            rest.to_vec()
        } else {
            serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": cfg_d, "size": cfg.len()},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                            "digest": layer_d, "size": tar.len()}],
            }))
            .unwrap_or_default()
        };
        let md = put(&blobs, &manifest);
        let index = if sel == 2 {
            rest.to_vec()
        } else {
            serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": md, "size": manifest.len(),
                "annotations": {"org.opencontainers.image.ref.name": "t"}}]}))
            .unwrap_or_default()
        };
        let _ = std::fs::write(dir.join("index.json"), index);
        format!("oci-dir:{}", dir.display())
    };
    match open(&src, &OpenOptions::new(t.path().join("cache"))) {
        Ok(img) => {
            let _ = format!("{:?}", img.metadata());
            let r = img.resolver();
            for m in r.entries() {
                let _ = r.read_limited(&m.path, 1 << 20);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&src),
                "error does not name the input: {msg}"
            );
        }
    }
});
