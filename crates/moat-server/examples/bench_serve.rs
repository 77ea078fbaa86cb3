//! The `moat serve` benchmark (scripts/bench-serve runs it; it prints numbers, asserts
//! nothing about time). On a private PostgreSQL cluster (moat-testkit):
//!
//! 1. jobs/s: N SBOM jobs (a real inventory: lockfiles from ../shared/fixtures) done by
//!    1, 2 and 4 workers, each worker with its own connection pool as a process would;
//! 2. API latency: p50/p99 of `GET /api/v1/images/{id}/report` and `GET /api/v1/images`
//!    from C concurrent clients on loopback, each sending its next request when the
//!    last one was answered (a bounded load: at most C in flight);
//! 3. re-match: 1,000 stored inventories (half npm-only, half with PyPI packages: a
//!    pip lockfile, then the real `full` test image when scripts/build-test-images made
//!    it), an import of PyPI advisories, then the fleet re-match (only touched
//!    inventories) and a full re-match of the tenant, timed.
//!
//! Usage: bench_serve [JOBS] [CLIENTS] [REQUESTS_PER_CLIENT] [INVENTORIES]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_server::queue::{self, JobKind};
use moat_server::{Store, WorkerConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn import(path: &Path, ecosystems: &[&str]) {
    let mut w = moat_db::Writer::begin(path).unwrap();
    for e in ecosystems {
        w.import_path(&PathBuf::from(format!("{SHARED}/vulndata/osv/{e}/all.zip")))
            .unwrap();
    }
    w.commit().unwrap();
}

fn inventory(dir: &Path, cache: &Path, files: &[(&str, &str)]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    for (from, to) in files {
        std::fs::copy(
            format!("{SHARED}/fixtures/lockfile-parsers/{from}"),
            dir.join(to),
        )
        .unwrap();
    }
    let opts = moat_scan::ScanOptions {
        image: moat_image::OpenOptions::new(cache),
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
    serde_json::to_string(&plan.inventory().unwrap().inventory).unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    rt().block_on(store.query(sql, vec![]))
        .unwrap()
        .first()
        .and_then(|r| r[0].int())
        .unwrap_or(0)
}

/// One runtime for everything (pooled PostgreSQL connections live on the runtime that
/// opened them).
fn rt() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn worker_cfg(adb: &Path, cache: &Path, owner: &str) -> WorkerConfig {
    let mut w = WorkerConfig::new(adb.to_path_buf(), cache.to_path_buf());
    w.poll = Duration::from_millis(20);
    w.watch_advisories = false;
    w.owner = owner.to_string();
    w
}

/// Time `n` SBOM jobs done by `workers` workers.
fn jobs_per_second(
    url: &str,
    adb: &Path,
    cache: &Path,
    inv: &str,
    n: usize,
    workers: usize,
) -> f64 {
    let rt = rt();
    let store = rt.block_on(Store::open(url)).unwrap();
    rt.block_on(store.query("DELETE FROM jobs", vec![]))
        .unwrap();
    for i in 0..n {
        rt.block_on(queue::submit(
            &store,
            "bench",
            JobKind::Sbom,
            "sbom",
            &format!("bench/jobs-{workers}-{i}"),
            Some(inv.to_string()),
        ))
        .unwrap();
    }
    let (tx, rx) = tokio::sync::watch::channel(false);
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for k in 0..workers {
        let s = rt.block_on(Store::open(url)).unwrap();
        let cfg = std::sync::Arc::new(worker_cfg(adb, cache, &format!("w{k}")));
        handles.push(rt.spawn(moat_server::worker::run(s, cfg, rx.clone(), |_| {})));
    }
    loop {
        let done = count(
            &store,
            "SELECT COUNT(*) FROM jobs WHERE state IN ('done', 'failed')",
        );
        if done >= i64::try_from(n).unwrap() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let secs = t0.elapsed().as_secs_f64();
    let _ = tx.send(true);
    for h in handles {
        let _ = rt.block_on(h);
    }
    let failed = count(&store, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'");
    assert_eq!(failed, 0, "failed jobs");
    n as f64 / secs
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// p50, p99 (ms) and requests/s of GET `path` from `clients` clients.
fn latency(base: &str, token: &str, path: &str, clients: usize, per: usize) -> (f64, f64, f64) {
    let t0 = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let url = format!("{base}{path}");
            let auth = format!("Bearer {token}");
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(60)))
                    .build()
                    .into();
                let mut out = Vec::with_capacity(per);
                for _ in 0..per {
                    let t = Instant::now();
                    let mut r = agent
                        .get(&url)
                        .header("authorization", &auth)
                        .call()
                        .unwrap();
                    let _ = r
                        .body_mut()
                        .with_config()
                        .limit(1 << 30)
                        .read_to_vec()
                        .unwrap();
                    out.push(t.elapsed());
                }
                out
            })
        })
        .collect();
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let secs = t0.elapsed().as_secs_f64();
    all.sort();
    (
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        all.len() as f64 / secs,
    )
}

/// Run one re-match job for `tenant` with one worker; its seconds and detail.
fn rematch(url: &str, adb: &Path, cache: &Path, tenant: &str) -> (f64, Value) {
    let rt = rt();
    let store = rt.block_on(Store::open(url)).unwrap();
    let id = rt
        .block_on(queue::submit(
            &store,
            tenant,
            JobKind::Rematch,
            "bench",
            "",
            None,
        ))
        .unwrap();
    let cfg = worker_cfg(adb, cache, "rematcher");
    let t0 = Instant::now();
    loop {
        let step = rt
            .block_on(moat_server::worker::step(&store, &cfg))
            .unwrap();
        if matches!(step, moat_server::worker::Step::Done { job, .. } if job == id) {
            break;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let detail = rt
        .block_on(store.query("SELECT detail FROM jobs WHERE id = $1", vec![id.into()]))
        .unwrap();
    let detail: Value = serde_json::from_str(detail[0][0].text().unwrap_or("null")).unwrap();
    (secs, detail)
}

fn main() {
    let jobs = arg(1, 200);
    let clients = arg(2, 8);
    let per = arg(3, 200);
    let inventories = arg(4, 1000);
    assert!(
        moat_testkit::postgres::have_postgres(),
        "needs Debian's postgresql (binaries in {})",
        moat_testkit::postgres::PG_BIN
    );
    let pg = moat_testkit::postgres::Postgres::start();
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let adb = dir.path().join("advisories.db");
    import(&adb, &["npm"]);
    let both = inventory(
        &dir.path().join("both"),
        &cache,
        &[
            (
                "nodejs/npm/testdata/package-lock_v3.json",
                "package-lock.json",
            ),
            (
                "python/pip/testdata/requirements_flask.txt",
                "requirements.txt",
            ),
        ],
    );
    let packages = serde_json::from_str::<Value>(&both).unwrap()["packages"]
        .as_array()
        .map_or(0, Vec::len);
    println!("PostgreSQL 15 (private cluster on loopback); inventory of {packages} packages");

    // 1. Throughput.
    for workers in [1, 2, 4] {
        let r = jobs_per_second(&url, &adb, &cache, &both, jobs, workers);
        println!("jobs/s, {jobs} SBOM jobs, {workers} worker(s): {r:.1}");
    }

    // 2. Latency, against a server with no workers of its own.
    let rt_store = rt();
    let store = rt_store.block_on(Store::open(&url)).unwrap();
    let token = rt_store
        .block_on(moat_server::auth::create_token(
            &store,
            "bench",
            moat_server::Role::Reader,
            "bench",
        ))
        .unwrap();
    let image = count(&store, "SELECT MIN(id) FROM images WHERE tenant = 'bench'");
    let (atx, arx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = moat_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: url.clone(),
        workers: 0,
        worker: worker_cfg(&adb, &cache, "none"),
        tls: None,
    };
    let server = std::thread::spawn(move || {
        rt().block_on(async move {
            moat_server::serve(cfg, move |a| atx.send(a).unwrap(), async move {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        });
    });
    let base = format!("http://{}", arx.recv().unwrap());
    let report_len = count(
        &store,
        &format!("SELECT LENGTH(report) FROM reports WHERE image_id = {image} LIMIT 1"),
    );
    for (what, path) in [
        (
            format!(
                "GET /api/v1/images/{{id}}/report ({} KiB)",
                report_len / 1024
            ),
            format!("/api/v1/images/{image}/report"),
        ),
        (
            "GET /api/v1/images?limit=100".to_string(),
            "/api/v1/images?limit=100".to_string(),
        ),
    ] {
        // Warm the token cache (one argon2 check per token and process).
        latency(&base, &token, &path, 1, 2);
        let (p50, p99, rps) = latency(&base, &token, &path, clients, per);
        println!(
            "{what}: {clients} clients x {per}: p50 {p50:.2} ms, p99 {p99:.2} ms, {rps:.0} req/s"
        );
    }
    let _ = stop_tx.send(());
    server.join().unwrap();

    // 3. Re-match of 1,000 inventories after an update: small inventories (lockfiles),
    // then, when scripts/build-test-images made it, the real `full` test image's.
    let npm_only = inventory(
        &dir.path().join("npm"),
        &cache,
        &[(
            "nodejs/npm/testdata/package-lock_v3.json",
            "package-lock.json",
        )],
    );
    let pypi_only = inventory(
        &dir.path().join("pypi"),
        &cache,
        &[(
            "python/pip/testdata/requirements_flask.txt",
            "requirements.txt",
        )],
    );
    fleet_rematch(
        &url,
        dir.path(),
        &cache,
        "lockfiles",
        (&pypi_only, &npm_only),
        inventories,
        &["npm"],
    );
    let images = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-images"));
    let full = images.join("full/docker-archive.tar");
    if full.exists() {
        let inv = image_inventory(&full, &cache);
        fleet_rematch(
            &url,
            dir.path(),
            &cache,
            "the full test image",
            (&inv, &npm_only),
            inventories,
            &["npm", "Debian", "Go", "crates.io", "RubyGems", "Packagist"],
        );
    } else {
        println!(
            "({} missing: run scripts/build-test-images for the image re-match)",
            full.display()
        );
    }
}

/// The inventory of an image archive.
fn image_inventory(archive: &Path, cache: &Path) -> String {
    let opts = moat_scan::ScanOptions {
        image: moat_image::OpenOptions::new(cache),
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
        use_cache: true,
        now: time::OffsetDateTime::now_utc(),
        offline: true,
        catalog_limits: moat_catalog::Limits::default(),
    };
    let plan =
        moat_scan::ScanPlan::new(&format!("docker-archive:{}", archive.display()), opts).unwrap();
    serde_json::to_string(&plan.inventory().unwrap().inventory).unwrap()
}

/// `n` stored inventories, alternately `touched` (has PyPI packages) and `untouched`,
/// matched against a database of `base` ecosystems; then PyPI advisories are imported
/// and the re-matches timed.
fn fleet_rematch(
    url: &str,
    dir: &Path,
    cache: &Path,
    label: &str,
    (touched, untouched): (&str, &str),
    n: usize,
    base: &[&str],
) {
    let store = rt().block_on(Store::open(url)).unwrap();
    for t in [
        "jobs",
        "images",
        "reports",
        "findings",
        "image_packages",
        "advisory_prints",
        "deliveries",
    ] {
        rt().block_on(store.query(&format!("DELETE FROM {t}"), vec![]))
            .unwrap();
    }
    let adb = dir.join(format!("rematch-{}.db", label.replace(' ', "-")));
    import(&adb, base);
    let pk = |inv: &str| {
        serde_json::from_str::<Value>(inv).unwrap()["packages"]
            .as_array()
            .map_or(0, Vec::len)
    };
    for i in 0..n {
        let inv = if i % 2 == 0 { touched } else { untouched };
        rt().block_on(queue::submit(
            &store,
            "fleet",
            JobKind::Sbom,
            "sbom",
            &format!("fleet/app-{i}"),
            Some(inv.to_string()),
        ))
        .unwrap();
    }
    let t0 = Instant::now();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut hs = Vec::new();
    for k in 0..2 {
        let s = rt().block_on(Store::open(url)).unwrap();
        let cfg = std::sync::Arc::new(worker_cfg(&adb, cache, &format!("load{k}")));
        hs.push(rt().spawn(moat_server::worker::run(s, cfg, rx.clone(), |_| {})));
    }
    while count(&store, "SELECT COUNT(*) FROM jobs WHERE state = 'done'")
        < i64::try_from(n).unwrap()
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = tx.send(true);
    for h in hs {
        let _ = rt().block_on(h);
    }
    println!(
        "{label}: stored {n} inventories (half with PyPI packages: {} packages; half npm-only: {}) in {:.1} s",
        pk(touched),
        pk(untouched),
        t0.elapsed().as_secs_f64()
    );
    import(&adb, &["PyPI"]);
    let (secs, detail) = rematch(url, &adb, cache, "*");
    println!("  after importing PyPI advisories, only touched inventories: {secs:.2} s  {detail}");
    // The same update again, matching everything: the PyPI findings are forgotten so
    // that the full re-match stores as many new findings as the incremental one did.
    rt().block_on(store.query("DELETE FROM findings WHERE ecosystem = 'pypi'", vec![]))
        .unwrap();
    let (secs, detail) = rematch(url, &adb, cache, "fleet");
    println!("  the same update, full re-match of all {n}: {secs:.2} s  {detail}");
    let (secs, detail) = rematch(url, &adb, cache, "*");
    println!("  no change since, only touched inventories: {secs:.2} s  {detail}");
    let (secs, detail) = rematch(url, &adb, cache, "fleet");
    println!("  no change since, full re-match: {secs:.2} s  {detail}");
}
