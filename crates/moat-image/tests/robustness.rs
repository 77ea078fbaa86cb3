//! Mutated and truncated images never panic: every open either succeeds or returns an
//! error naming the input (a cheap, deterministic stand-in for fuzzing).
#![allow(clippy::unwrap_used)]

use moat_image::testkit::{self as kit, Comp, E, Img, layer};
use moat_image::{OpenOptions, open};

fn base_layer() -> Vec<u8> {
    layer(&[
        E::Dir("etc/"),
        E::File("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        E::Symlink("etc/alt", "../../../etc/os-release"),
        E::Hardlink("etc/hl", "etc/os-release"),
        E::File("etc/.wh.gone", b""),
        E::Fifo("fifo"),
        E::File("big", &[0x5a; 3000]),
    ])
}

/// A tiny deterministic PRNG (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn try_open(layer_tar: Vec<u8>, comp: Comp, dir: &std::path::Path) -> Result<usize, String> {
    let _ = std::fs::remove_dir_all(dir);
    // The config records the diff_id of the mutated bytes, so the tar reader itself
    // meets the damage (not only the digest check).
    Img::new(vec![(layer_tar, comp)]).write_oci(&dir.join("oci"), "t");
    let src = format!("oci-dir:{}", dir.join("oci").display());
    match open(&src, &OpenOptions::new(dir.join("cache"))) {
        Ok(img) => {
            // Reading every file must not panic either.
            let r = img.resolver();
            let n = r.entries().filter(|m| m.is_file()).count();
            for m in r.entries() {
                let _ = r.read_limited(&m.path, 1 << 20);
            }
            Ok(n)
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&src),
                "error does not name the input: {msg}"
            );
            Err(msg)
        }
    }
}

#[test]
fn mutated_layers_never_panic() {
    let t = tempfile::tempdir().unwrap();
    let good = base_layer();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0, 0);
    for i in 0..400 {
        let mut l = good.clone();
        for _ in 0..(1 + rng.next() % 4) {
            let pos = (rng.next() as usize) % l.len();
            l[pos] = rng.next() as u8;
        }
        let comp = [Comp::None, Comp::Gzip, Comp::Zstd][i % 3];
        match try_open(l, comp, &t.path().join(format!("m{i}"))) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn truncation_at_every_block_never_panics() {
    let t = tempfile::tempdir().unwrap();
    let good = base_layer();
    for cut in (0..good.len()).step_by(256) {
        let _ = try_open(
            good[..cut].to_vec(),
            Comp::None,
            &t.path().join(format!("t{cut}")),
        );
    }
    // Truncated compressed blobs (the stored blob cut, digests recomputed).
    let gz = kit::compress(&good, Comp::Gzip);
    for cut in (1..gz.len()).step_by(97) {
        let d = t.path().join(format!("g{cut}"));
        let model = Img::new(vec![(good.clone(), Comp::Gzip)]);
        let md = model.write_oci(&d.join("oci"), "t");
        // Replace the layer blob by its cut version and fix the manifest to match.
        let blobs = d.join("oci/blobs/sha256");
        let cut_blob = gz[..cut].to_vec();
        let cd = kit::sha(&cut_blob);
        std::fs::write(blobs.join(kit::hexof(&cd)), &cut_blob).unwrap();
        let mp = blobs.join(kit::hexof(&md));
        let m = std::fs::read_to_string(&mp).unwrap();
        let m2 = m.replace(&kit::sha(&gz), &cd);
        let md2 = kit::sha(m2.as_bytes());
        std::fs::write(blobs.join(kit::hexof(&md2)), &m2).unwrap();
        let idx = std::fs::read_to_string(d.join("oci/index.json")).unwrap();
        std::fs::write(d.join("oci/index.json"), idx.replace(&md, &md2)).unwrap();
        let src = format!("oci-dir:{}", d.join("oci").display());
        let e = open(&src, &OpenOptions::new(d.join("cache")))
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with(&src), "{e}");
    }
}
