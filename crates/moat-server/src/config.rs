//! A worker's configuration.

use std::path::PathBuf;
use std::time::Duration;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The advisory database (`moat db update` / `moat db import` write it).
    pub advisory_db: PathBuf,
    /// moat's cache directory (image layers, inventories).
    pub cache_dir: PathBuf,
    /// Local sources (archives, OCI layouts, directories) are read only under these
    /// directories; none by default (registry references and uploaded SBOMs only).
    pub allow_paths: Vec<PathBuf>,
    /// A claimed job belongs to this worker until its lease ends; renewed every third.
    pub lease: Duration,
    /// How long to sleep when the queue is empty.
    pub poll: Duration,
    /// This worker's name in the queue (host, pid, random).
    pub owner: String,
    /// Watch the advisory database and enqueue a re-match when it changes.
    pub watch_advisories: bool,
    /// Bounds on uploaded inventories.
    pub max_packages: usize,
    /// CA certificates (PEM) trusted for https webhook receivers instead of the WebPKI
    /// roots (receivers with a private CA).
    pub webhook_ca: Option<PathBuf>,
}

impl WorkerConfig {
    pub fn new(advisory_db: PathBuf, cache_dir: PathBuf) -> WorkerConfig {
        let mut r = [0u8; 4];
        let _ = getrandom::fill(&mut r);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "host".into());
        WorkerConfig {
            advisory_db,
            cache_dir,
            allow_paths: Vec::new(),
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            owner: format!("{host}:{}:{}", std::process::id(), hex::encode(r)),
            watch_advisories: true,
            max_packages: 100_000,
            webhook_ca: None,
        }
    }
    pub fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(30_000)
    }
}
