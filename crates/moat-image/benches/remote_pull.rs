//! Remote sources against their reference tools, on the real test images:
//! - `registry:`: `pull_to_layout` vs `skopeo copy docker://… oci:…` from a local
//!   `docker-registry` (Debian image, one 49 MB layer; `full` image, 5 layers);
//! - `docker:`: `export_to_archive` vs `docker save -o` from a private `dockerd`.
//!
//! Prints each time (best of BENCH_RUNS, default 3) and the ratio moat / tool.
//! Goal: ratio at most 1.0 (moat no slower than the tool that does the same copy).
//!
//! Run: `cargo bench -p moat-image --bench remote_pull` (as root, after
//! scripts/build-test-images). Env: MOAT_TEST_IMAGES, BENCH_RUNS.
#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

#[path = "../tests/support/remote.rs"]
mod remote;

use remote::*;
use std::process::Command;
use std::time::{Duration, Instant};

fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn report(what: &str, moat: Duration, tool: &str, other: Duration) {
    println!(
        "{what:<28} moat {:>7.3} s   {tool:<12} {:>7.3} s   ratio {:.2}",
        moat.as_secs_f64(),
        other.as_secs_f64(),
        moat.as_secs_f64() / other.as_secs_f64().max(1e-9)
    );
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let images = test_images_dir();
    if !images.join("debian/oci/index.json").is_file() {
        eprintln!(
            "{}: test images missing; run scripts/build-test-images",
            images.display()
        );
        std::process::exit(1);
    }

    let reg = Registry::start("");
    for (name, tag) in [("debian", "base"), ("full", "full")] {
        let layout = images.join(name).join("oci");
        reg.push(
            &format!("oci:{}:{tag}", layout.display()),
            &format!("bench/{name}:1"),
            &[],
        );
        let reference = format!("{}/bench/{name}:1", reg.host());
        let moat = best(runs, || {
            let cache = tempfile::tempdir().unwrap();
            let mut o = opts(cache.path());
            o.insecure_registries = vec![reg.host()];
            moat_image::registry::pull_to_layout(&reference, &o).unwrap();
        });
        let skopeo = best(runs, || {
            let d = tempfile::tempdir().unwrap();
            run(Command::new("skopeo")
                .args(["copy", "--quiet", "--src-tls-verify=false"])
                .arg(format!("docker://{reference}"))
                .arg(format!("oci:{}:x", d.path().join("oci").display())));
        });
        report(
            &format!("registry pull ({name})"),
            moat,
            "skopeo copy",
            skopeo,
        );
    }

    let rootfs_tar = images.join("debian/rootfs.tar");
    if rootfs_tar.is_file() {
        let d = Dockerd::start();
        run(d
            .docker()
            .arg("import")
            .arg(&rootfs_tar)
            .arg("bench/debian:1"));
        let moat = best(runs, || {
            let cache = tempfile::tempdir().unwrap();
            let mut o = opts(cache.path());
            o.docker_host = Some(d.host());
            moat_image::docker::export_to_archive("bench/debian:1", &o).unwrap();
        });
        let save = best(runs, || {
            let t = tempfile::tempdir().unwrap();
            run(d
                .docker()
                .args(["save", "-o"])
                .arg(t.path().join("x.tar"))
                .arg("bench/debian:1"));
        });
        report("docker export (debian)", moat, "docker save", save);
    }
}
