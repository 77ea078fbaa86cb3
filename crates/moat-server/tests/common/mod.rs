//! Test support for moat-server: a private PostgreSQL cluster (Debian's `postgresql`,
//! binaries in /usr/lib/postgresql/15/bin, started on a loopback port and a socket in
//! its own directory, stopped on drop), advisory databases built from ../shared/vulndata
//! with moat-db, an inventory cataloged from ../shared fixtures, a server on a loopback
//! port, and a small HTTP client.

// Each test binary uses part of this module (unused_imports: the PostgreSQL re-export).
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

pub use moat_testkit::postgres::{PG_BIN, Postgres, have_postgres};

/// An advisory database at `path` built from osv.dev archives of ../shared/vulndata
/// (`ecosystems`: directory names under vulndata/osv), added to what is there.
pub fn import_advisories(path: &Path, ecosystems: &[&str]) {
    let mut w = moat_db::Writer::begin(path).unwrap();
    for e in ecosystems {
        w.import_path(&PathBuf::from(format!("{SHARED}/vulndata/osv/{e}/all.zip")))
            .unwrap();
    }
    w.commit().unwrap();
}

/// A source tree holding two real lockfiles from ../shared/fixtures: npm
/// (package-lock v3) and pip (requirements with Flask 2.0.0).
pub fn fixture_tree(dir: &Path) -> PathBuf {
    let t = dir.join("app");
    std::fs::create_dir_all(&t).unwrap();
    let f = format!("{SHARED}/fixtures/lockfile-parsers");
    std::fs::copy(
        format!("{f}/nodejs/npm/testdata/package-lock_v3.json"),
        t.join("package-lock.json"),
    )
    .unwrap();
    std::fs::copy(
        format!("{f}/python/pip/testdata/requirements_flask.txt"),
        t.join("requirements.txt"),
    )
    .unwrap();
    t
}

/// The inventory of `dir` (what `moat sbom dir:DIR --format json` prints).
pub fn inventory(dir: &Path, cache: &Path) -> Value {
    let opts = moat_scan::ScanOptions {
        image: moat_image::OpenOptions {
            cache_dir: cache.to_path_buf(),
            ..Default::default()
        },
        scanners: moat_scan::Scanners {
            vuln: false,
            misconfig: false,
        },
        db_path: cache.join("none.db"),
        severities: None,
        ignore_unfixed: false,
        ignore_file: None,
        vex: Vec::new(),
        max_db_age_days: u64::MAX,
        use_cache: false,
        now: time::OffsetDateTime::now_utc(),
        offline: true,
        catalog_limits: moat_catalog::Limits::default(),
    };
    let plan = moat_scan::ScanPlan::new(&format!("dir:{}", dir.display()), opts).unwrap();
    serde_json::to_value(plan.inventory().unwrap().inventory).unwrap()
}

/// A server in this process (its own runtime on a thread), stopped on drop.
pub struct Server {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(cfg: moat_server::ServeConfig) -> Server {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (atx, arx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                moat_server::serve(cfg, move |a| atx.send(a).unwrap(), async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = arx.recv_timeout(Duration::from_secs(120)).unwrap();
        Server {
            base: format!("http://{addr}"),
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Run async code (store access from a test) on a small runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// One HTTP request: the status and the body (JSON when it parses, else a string).
pub fn http(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let auth = token.map(|t| format!("Bearer {t}"));
    let resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("authorization", a);
            }
            r.call()
        }
        ("DELETE", _) => {
            let mut r = agent.delete(url);
            if let Some(a) = &auth {
                r = r.header("authorization", a);
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(url);
            if let Some(a) = &auth {
                r = r.header("authorization", a);
            }
            r.send_json(b.cloned().unwrap_or(Value::Null))
        }
    };
    let mut resp = resp.unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

/// Poll until `f` returns Some, or panic after `secs`.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
