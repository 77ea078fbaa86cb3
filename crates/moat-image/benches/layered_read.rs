//! Reads every file of the Debian test image through moat's layered view (`open` +
//! `resolver()`), cold (empty cache) and warm, and prints the time as a ratio to
//! `gzip -dc` of the same layer blobs to /dev/null. Goal: cold ratio at most 1.3.
//!
//! Run: `cargo bench -p moat-image --bench layered_read` (after scripts/build-test-images).
//! Env: MOAT_TEST_IMAGES (image root), BENCH_RUNS (default 3; the best run counts).

use moat_fs::FileResolver;
use moat_image::{OpenOptions, open};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn images() -> PathBuf {
    std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/test-images"
            ))
        })
}

fn read_all(r: &dyn FileResolver) -> (u64, u64) {
    let mut buf = vec![0u8; 1 << 16];
    let (mut files, mut bytes) = (0u64, 0u64);
    for m in r.entries().filter(|m| m.is_file()) {
        let Ok(mut f) = r.open(&m.path) else {
            eprintln!("cannot open {}", m.path);
            std::process::exit(1);
        };
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => bytes += n as u64,
                Err(e) => {
                    eprintln!("{}: {e}", m.path);
                    std::process::exit(1);
                }
            }
        }
        files += 1;
    }
    (files, bytes)
}

fn gzip_dc(blobs: &[PathBuf]) -> Duration {
    let t = Instant::now();
    for b in blobs {
        let ok = Command::new("gzip")
            .arg("-dc")
            .arg(b)
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("gzip -dc {} failed", b.display());
            std::process::exit(1);
        }
    }
    t.elapsed()
}

fn best<F: FnMut() -> Duration>(runs: usize, mut f: F) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn main() {
    let base = images();
    let layout = base.join("debian/oci");
    if !layout.join("index.json").is_file() {
        eprintln!(
            "test images missing under {}: run `bash scripts/build-test-images` first",
            base.display()
        );
        std::process::exit(1);
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let source = format!("oci-dir:{}:base", layout.display());
    let scratch = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/bench-scratch"
    ));
    let _ = std::fs::create_dir_all(&scratch);

    // The gzip layer blobs of the image, from a first open.
    let probe = tempfile::tempdir_in(&scratch).unwrap_or_else(|e| {
        eprintln!("{}: {e}", scratch.display());
        std::process::exit(1)
    });
    let img = open(&source, &OpenOptions::new(probe.path())).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let blobs: Vec<PathBuf> = img
        .layers()
        .iter()
        .map(|l| {
            layout
                .join("blobs/sha256")
                .join(l.digest.trim_start_matches("sha256:"))
        })
        .collect();
    let (files, bytes) = read_all(img.resolver());
    drop(img);

    let gz = best(runs, || gzip_dc(&blobs));
    let cold = best(runs, || {
        let cache = tempfile::tempdir_in(&scratch).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        });
        let t = Instant::now();
        let img = open(&source, &OpenOptions::new(cache.path())).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        });
        read_all(img.resolver());
        t.elapsed()
    });
    let warm_cache: &Path = probe.path();
    let warm = best(runs, || {
        let t = Instant::now();
        let img = open(&source, &OpenOptions::new(warm_cache)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        });
        read_all(img.resolver());
        t.elapsed()
    });
    // The other formats of the same image, cold, for information.
    let others: Vec<(String, Duration)> = [
        "oci-dir:debian/oci-zstd",
        "docker-archive:debian/docker-archive.tar",
        "docker-archive:debian/docker-archive.tar.gz",
        "oci-archive:debian/oci-archive.tar",
    ]
    .iter()
    .map(|s| {
        let (scheme, rel) = s.split_once(':').unwrap_or(("", s));
        let src = format!("{scheme}:{}", base.join(rel).display());
        let d = best(runs, || {
            let cache = tempfile::tempdir_in(&scratch).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1)
            });
            let t = Instant::now();
            let img = open(&src, &OpenOptions::new(cache.path())).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1)
            });
            read_all(img.resolver());
            t.elapsed()
        });
        (s.to_string(), d)
    })
    .collect();
    let s = |d: Duration| d.as_secs_f64();
    println!(
        "layered_read: debian image, {} layer(s), {files} files, {:.1} MiB of file content",
        blobs.len(),
        bytes as f64 / (1u64 << 20) as f64
    );
    println!("  gzip -dc of the layers : {:.3} s", s(gz));
    println!(
        "  moat cold (empty cache): {:.3} s   ratio {:.2} (goal <= 1.3)",
        s(cold),
        s(cold) / s(gz)
    );
    println!(
        "  moat warm (cached)     : {:.3} s   ratio {:.2}",
        s(warm),
        s(warm) / s(gz)
    );
    for (name, d) in &others {
        println!(
            "  cold {name:<44}: {:.3} s   ratio {:.2}",
            s(*d),
            s(*d) / s(gz)
        );
    }
}
