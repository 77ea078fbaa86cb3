#![no_main]
//! Layer tar reading and the layered view: the input is a layer blob (plain, gzip or
//! zstd-compressed, optionally above a fixed base layer) in an OCI layout whose
//! config records the blob's real diff_id, so the tar reader itself meets the bytes.
//! The image is opened in a temporary cache and every file is read through the
//! resolver and through each layer view.
use libfuzzer_sys::fuzz_target;
use moat_fs::FileResolver;
use moat_image::testkit::{Comp, E, Img, layer};
use moat_image::{OpenOptions, open};

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = moat_fuzz::pick(data, 6) else {
        return;
    };
    let comp = [Comp::None, Comp::Gzip, Comp::Zstd][sel % 3];
    let mut layers = Vec::new();
    if sel >= 3 {
        layers.push((
            layer(&[
                E::Dir("etc/"),
                E::File("etc/os-release", b"ID=alpine\nVERSION_ID=3.20.0\n"),
                E::Symlink("etc/alt", "../../etc/os-release"),
                E::File("etc/gone", b"x"),
            ]),
            Comp::None,
        ));
    }
    layers.push((rest.to_vec(), comp));
    let Ok(t) = tempfile::tempdir() else { return };
    Img::new(layers).write_oci(&t.path().join("oci"), "t");
    let src = format!("oci-dir:{}", t.path().join("oci").display());
    match open(&src, &OpenOptions::new(t.path().join("cache"))) {
        Ok(img) => {
            let r = img.resolver();
            for m in r.entries() {
                let _ = r.read_limited(&m.path, 1 << 20);
                let _ = r.stat(&m.path);
                let _ = r.resolve(&m.path);
            }
            for i in 0..img.layers().len() {
                if let Some(v) = img.layer_view(i) {
                    for m in v.entries() {
                        let _ = v.read_limited(&m.path, 1 << 20);
                    }
                }
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
