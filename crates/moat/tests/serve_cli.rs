//! `moat serve` and `moat worker` as processes on a real PostgreSQL (a private cluster
//! started here, on a loopback port, stopped after): two `serve` replicas and three
//! workers share one queue; 200 jobs (inventories printed by `moat sbom`) are each done
//! exactly once; a worker SIGKILLed in the middle of a scan of a real test image
//! (scripts/build-test-images) has that job finished by another worker. Then the
//! dashboard in headless Chromium shows a known finding (screenshot in
//! target/serve-test/).

#![allow(clippy::unwrap_used)]

use moat_testkit::postgres::{Postgres, have_postgres};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
const MOAT: &str = env!("CARGO_BIN_EXE_moat");

mod common;
use common::serve::{MoatProc as Proc, http, wait_for};

fn moat(args: &[&str], env: &[(&str, &Path)]) -> Vec<u8> {
    let mut cmd = Command::new(MOAT);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "moat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The test images (scripts/build-test-images builds or reuses them).
fn test_images() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/test-images"));
    if !dir.join("full/docker-archive.tar").exists() {
        let st = Command::new("bash")
            .arg(root.join("scripts/build-test-images"))
            .status()
            .unwrap();
        assert!(st.success(), "scripts/build-test-images failed");
    }
    dir.canonicalize().unwrap()
}

#[test]
fn replicas_and_workers_share_one_postgres_queue() {
    if !have_postgres() {
        return;
    }
    let images = test_images();
    let full = images.join("full/docker-archive.tar");
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let adb = tmp.path().join("moat.db");
    moat(
        &[
            "db",
            "import",
            &format!("{SHARED}/vulndata/osv/npm/all.zip"),
            &format!("{SHARED}/vulndata/osv/PyPI/all.zip"),
            &format!("{SHARED}/vulndata/osv/Debian/all.zip"),
        ],
        &[("MOAT_DB", &adb)],
    );
    // An inventory from `moat sbom` of real lockfiles.
    let app = tmp.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    let f = format!("{SHARED}/fixtures/lockfile-parsers");
    std::fs::copy(
        format!("{f}/nodejs/npm/testdata/package-lock_v3.json"),
        app.join("package-lock.json"),
    )
    .unwrap();
    std::fs::copy(
        format!("{f}/python/pip/testdata/requirements_flask.txt"),
        app.join("requirements.txt"),
    )
    .unwrap();
    let sbom: Value = serde_json::from_slice(&moat(
        &[
            "sbom",
            &format!("dir:{}", app.display()),
            "--format",
            "json",
        ],
        &[("MOAT_CACHE_DIR", &tmp.path().join("c0"))],
    ))
    .unwrap();

    let url = pg.url();
    let token = String::from_utf8(moat(
        &["serve", "--database", &url, "--create-token", "acme:admin"],
        &[],
    ))
    .unwrap()
    .trim()
    .to_string();
    assert!(token.starts_with("moat_"));
    let replicas: Vec<Proc> = (0..2)
        .map(|_| {
            Proc::spawn(
                &["serve", "--listen", "127.0.0.1:0", "--database", &url],
                &[("MOAT_DB", &adb)],
            )
        })
        .collect();
    let urls: Vec<String> = replicas.iter().map(Proc::url).collect();
    let allow = images.display().to_string();
    let worker = |n: usize| {
        let cache = tmp.path().join(format!("w{n}"));
        Proc::spawn(
            &[
                "worker",
                "--database",
                &url,
                "--lease-secs",
                "3",
                "--allow-path",
                &allow,
            ],
            &[("MOAT_DB", &adb), ("MOAT_CACHE_DIR", &cache)],
        )
    };

    // The kill: one worker alone, a real image scan; SIGKILL while it holds the job.
    let mut w0 = worker(0);
    let (s, r) = http(
        "POST",
        &format!("{}/api/v1/scans", urls[0]),
        &token,
        Some(
            &json!({"source": format!("docker-archive:{}", full.display()), "reference": "test/full:1"}),
        ),
    );
    assert_eq!(s, 202, "{r}");
    let killed_job = r["job"].as_i64().unwrap();
    wait_for("worker 0 to claim the scan", 60, || {
        (pg.psql(&format!("SELECT state FROM jobs WHERE id = {killed_job}")) == "running")
            .then_some(())
    });
    w0.kill();
    assert_eq!(
        pg.psql(&format!("SELECT state FROM jobs WHERE id = {killed_job}")),
        "running",
        "the scan was still running when its worker was killed"
    );
    let w0_lines = w0.lines();

    // Three workers, two replicas, 200 jobs.
    let workers: Vec<Proc> = (1..=3).map(worker).collect();
    let mut jobs = Vec::new();
    for i in 0..200 {
        let (s, r) = http(
            "POST",
            &format!("{}/api/v1/scans", urls[i % 2]),
            &token,
            Some(&json!({"sbom": sbom, "reference": format!("acme/app:{i}")})),
        );
        assert_eq!(s, 202, "{r}");
        jobs.push(r["job"].as_i64().unwrap());
    }
    wait_for("every job", 600, || {
        (pg.psql("SELECT COUNT(*) FROM jobs WHERE state NOT IN ('done', 'failed')") == "0")
            .then_some(())
    });
    assert_eq!(
        pg.psql("SELECT COUNT(*) FROM jobs WHERE state = 'done'"),
        "201",
        "{}",
        pg.psql("SELECT id, state, error FROM jobs WHERE state <> 'done'")
    );
    // Exactly once: one report per job, one "done" line per job over all workers.
    assert_eq!(pg.psql("SELECT COUNT(*) FROM reports"), "201");
    assert_eq!(pg.psql("SELECT COUNT(DISTINCT job_id) FROM reports"), "201");
    let mut done: BTreeMap<i64, usize> = BTreeMap::new();
    let mut per_worker = Vec::new();
    for w in &workers {
        let mut n = 0;
        for l in w.lines() {
            if let Some(id) = l
                .strip_prefix("moat worker: job ")
                .and_then(|r| r.strip_suffix(" done"))
            {
                *done.entry(id.parse().unwrap()).or_default() += 1;
                n += 1;
            }
        }
        per_worker.push(n);
    }
    assert!(
        !w0_lines
            .iter()
            .any(|l| l.contains(&format!("job {killed_job} done")))
    );
    assert_eq!(done.len(), 201, "jobs done per worker: {per_worker:?}");
    assert!(done.values().all(|&n| n == 1), "a job done twice: {done:?}");
    assert!(
        per_worker.iter().all(|&n| n > 0),
        "every worker took jobs: {per_worker:?}"
    );
    // The killed worker's job: claimed twice, finished by a live worker.
    assert_eq!(
        pg.psql(&format!(
            "SELECT attempts FROM jobs WHERE id = {killed_job}"
        )),
        "2"
    );
    // Its report is the real scan of the image.
    let (s, img) = http(
        "GET",
        &format!("{}/api/v1/images?limit=1000", urls[1]),
        &token,
        None,
    );
    assert_eq!(s, 200);
    let full_img = img["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference"] == "test/full:1")
        .unwrap()
        .clone();
    let (s, rep) = http(
        "GET",
        &format!("{}/api/v1/images/{}/report", urls[1], full_img["id"]),
        &token,
        None,
    );
    assert_eq!(s, 200);
    assert!(
        rep["packages"].as_array().unwrap().len() > 50,
        "a real Debian image has packages"
    );
    // Both replicas served (each logged submissions in the audit log).
    assert_eq!(
        pg.psql("SELECT COUNT(*) FROM audit_log WHERE path = '/api/v1/scans' AND status = 202"),
        "201"
    );

    // The dashboard in headless Chromium: a known finding (the most severe) is visible.
    let (_, f) = http(
        "GET",
        &format!("{}/api/v1/findings?limit=1", urls[0]),
        &token,
        None,
    );
    let known = f["findings"][0]["id"].as_str().unwrap().to_string();
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/serve-test");
    std::fs::create_dir_all(&out_dir).unwrap();
    if Command::new("chromium").arg("--version").output().is_ok() {
        let login = format!("{}/login?token={token}", urls[0]);
        let profile = tmp.path().join("chrome");
        let chrome = |extra: &[String]| {
            let mut args: Vec<&str> = extra.iter().map(String::as_str).collect();
            args.push(&login);
            moat_testkit::chromium(&args, &profile)
        };
        let dom = chrome(&["--dump-dom".to_string()]);
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.contains("id=\"findings\""), "{dom}");
        assert!(dom.contains(&known), "the dashboard shows {known}");
        let shot = out_dir.join("dashboard.png");
        let _ = std::fs::remove_file(&shot);
        chrome(&[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,900".into(),
        ]);
        assert!(
            std::fs::metadata(&shot)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "screenshot {}",
            shot.display()
        );
    } else {
        eprintln!("SKIP (dashboard part): chromium missing");
    }
    drop(workers);
    drop(replicas);
}
