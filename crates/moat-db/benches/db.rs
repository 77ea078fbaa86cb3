//! Benchmark (harness = false; prints numbers): import time of all of
//! ../shared/vulndata, database size on disk, and the time to open the database
//! and look up 1,000 packages (sampled evenly from the data). Goal: open plus
//! 1,000 lookups under 50 ms.
//!
//! Run: `cargo bench -p moat-db --bench db`

#![allow(clippy::unwrap_used)] // a benchmark, not product code

use moat_db::{Database, Writer};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const GOAL: Duration = Duration::from_millis(50);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let data = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vulndata"
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");

    let t = Instant::now();
    let mut w = Writer::fresh(&path).unwrap();
    let report = w.import_path(&data).unwrap();
    let status = w.commit().unwrap();
    let import = t.elapsed();
    println!(
        "import all of vulndata: {:.2} s ({} advisories stored, {} skipped, {} files read)",
        import.as_secs_f64(),
        report.total(),
        report.skipped.len(),
        report.files
    );
    println!(
        "database size on disk: {:.1} MiB ({} bytes)",
        status.size_bytes as f64 / (1024.0 * 1024.0),
        status.size_bytes
    );

    // 1,000 package names spread evenly over every ecosystem's packages.
    let all = Database::open_read_only(&path).unwrap().packages().unwrap();
    let step = (all.len() / 1000).max(1);
    let sample: Vec<(String, String)> = all.iter().step_by(step).take(1000).cloned().collect();
    println!(
        "lookup sample: {} of {} (ecosystem, package) pairs",
        sample.len(),
        all.len()
    );

    let mut light = Vec::new();
    let mut full = Vec::new();
    let mut by_row = Vec::new();
    let mut entries = 0;
    let mut advisories = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let db = Database::open_read_only(&path).unwrap();
        let mut n = 0;
        for (eco, name) in &sample {
            n += db.affected_for(eco, name).unwrap().len();
        }
        light.push(t.elapsed());
        entries = n;

        let t = Instant::now();
        let db = Database::open_read_only(&path).unwrap();
        let mut n = 0;
        for (eco, name) in &sample {
            n += db.advisories_for(eco, name).unwrap().len();
        }
        full.push(t.elapsed());
        advisories = n;

        // The matcher's path: light rows, then each advisory by row.
        let t = Instant::now();
        let db = Database::open_read_only(&path).unwrap();
        for (eco, name) in &sample {
            for e in db.affected_for(eco, name).unwrap() {
                db.advisory_by_row(e.advisory_row).unwrap().unwrap();
            }
        }
        by_row.push(t.elapsed());
    }
    let light = median(light);
    let full = median(full);
    let by_row = median(by_row);
    println!(
        "open + 1,000 lookups (affected_for: ranges only, {entries} entries): {:.1} ms  (goal {} ms: {:.2}x the goal)",
        light.as_secs_f64() * 1e3,
        GOAL.as_millis(),
        light.as_secs_f64() / GOAL.as_secs_f64()
    );
    println!(
        "open + 1,000 lookups (advisories_for: full advisories, {advisories} advisories): {:.1} ms  ({:.2}x the goal)",
        full.as_secs_f64() * 1e3,
        full.as_secs_f64() / GOAL.as_secs_f64()
    );
    println!(
        "open + 1,000 lookups + every entry's advisory by row (the matcher's path when all match): {:.1} ms  ({:.2}x the goal)",
        by_row.as_secs_f64() * 1e3,
        by_row.as_secs_f64() / GOAL.as_secs_f64()
    );
}
