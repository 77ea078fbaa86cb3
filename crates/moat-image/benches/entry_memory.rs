//! Memory per entry of the layered view (issue 12): builds, at run time, an OCI layout
//! whose one layer holds ENTRIES entries (default 1,000,000: 1,000 directories of 999
//! empty files, paths like `/usr/share/pkg-0042/file-0042-000123.txt`), opens it with
//! `moat_image::open` and prints the peak-RSS growth of the open divided by the number
//! of entries. Goal (docs/limits.md): at most 150 bytes per entry.
//!
//! Run: `cargo bench -p moat-image --bench entry_memory` (or `--profile dev`, faster to
//! build; memory is the same). Env: ENTRIES (entry count), BENCH_DIR (scratch; default
//! a temporary directory, which needs about 1.1 GB of disk for 1,000,000 entries).

use moat_image::testkit::{hexof, sha};
use moat_image::{OpenOptions, open};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Instant;

/// Peak resident set size of this process so far, in bytes (`VmHWM`).
fn peak_rss() -> u64 {
    status_kib("VmHWM:") * 1024
}

fn current_rss() -> u64 {
    status_kib("VmRSS:") * 1024
}

fn status_kib(key: &str) -> u64 {
    let mut s = String::new();
    if File::open("/proc/self/status")
        .and_then(|mut f| f.read_to_string(&mut s))
        .is_err()
    {
        return 0;
    }
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A writer that hashes what it writes.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Write the layer tar straight to `blobs/sha256/` (uncompressed: blob = diff_id);
/// returns its digest and size. Memory stays flat: entries are streamed.
fn write_layer(blobs: &Path, entries: usize) -> (String, u64) {
    let tmp = blobs.join("layer.tmp");
    let out = Hashing {
        inner: BufWriter::with_capacity(1 << 20, File::create(&tmp).expect("create layer")),
        hasher: Sha256::new(),
    };
    let mut b = tar::Builder::new(out);
    let dirs = entries.div_ceil(1000).max(1);
    let mut written = 0;
    'outer: for d in 0..dirs {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, format!("usr/share/pkg-{d:04}/"), std::io::empty())
            .expect("dir");
        written += 1;
        for f in 0..999 {
            if written >= entries {
                break 'outer;
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(0);
            b.append_data(
                &mut h,
                format!("usr/share/pkg-{d:04}/file-{d:04}-{f:06}.txt"),
                std::io::empty(),
            )
            .expect("file");
            written += 1;
        }
    }
    let mut out = b.into_inner().expect("finish tar");
    out.flush().expect("flush");
    let digest = format!("sha256:{}", hex::encode(out.hasher.finalize()));
    let size = std::fs::metadata(&tmp).expect("layer").len();
    std::fs::rename(&tmp, blobs.join(hexof(&digest))).expect("rename");
    (digest, size)
}

fn write_blob(blobs: &Path, bytes: &[u8]) -> (String, u64) {
    let d = sha(bytes);
    std::fs::write(blobs.join(hexof(&d)), bytes).expect("blob");
    (d, bytes.len() as u64)
}

fn main() {
    let entries: usize = std::env::var("ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let scratch = match std::env::var_os("BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("scratch dir");
    let layout = scratch.path().join("oci");
    let blobs = layout.join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).expect("blobs dir");
    let t = Instant::now();
    let (layer, layer_size) = write_layer(&blobs, entries);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer}"]}},"config":{{}}}}"#
    );
    let (cfg, cfg_size) = write_blob(&blobs, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cfg}","size":{cfg_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{layer_size}}}]}}"#
    );
    let (man, man_size) = write_blob(&blobs, manifest.as_bytes());
    std::fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{man}","size":{man_size}}}]}}"#
        ),
    )
    .expect("index");
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    eprintln!(
        "built a {entries}-entry layer ({layer_size} bytes) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let before = current_rss();
    let t = Instant::now();
    let opts = OpenOptions::new(scratch.path().join("cache"));
    let img = open(&format!("oci-dir:{}", layout.display()), &opts).expect("open");
    let open_s = t.elapsed().as_secs_f64();
    let after_open = current_rss();
    let t = Instant::now();
    let listed = img.resolver().entries().count();
    let list_s = t.elapsed().as_secs_f64();
    let peak = peak_rss();
    let per_entry = peak.saturating_sub(before) as f64 / entries as f64;
    let resident = after_open.saturating_sub(before) as f64 / entries as f64;
    println!(
        "entries={entries} listed={listed} open_s={open_s:.2} list_s={list_s:.2} \
         peak_rss_delta_bytes_per_entry={per_entry:.0} resident_bytes_per_entry={resident:.0}"
    );
    drop(img);
}
