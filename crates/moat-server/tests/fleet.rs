//! Agents' API and the incremental re-match, on SQLite and on a private PostgreSQL,
//! in process, over real HTTP:
//!
//! - an import of new advisories (PyPI, into a database that had only npm) re-matches
//!   only the inventory with PyPI packages (counted in the job's detail), and the
//!   findings are the same as a full re-match's and a fresh scan's;
//! - what an agent posts (host, running containers, an image inventory by image id,
//!   alerts by store position) is stored once, tenant-scoped, and the running container
//!   is listed as affected by its image's findings; the re-match webhook names it.
//!
//! The posts here are what `moat agent` sends (crates/moat/tests/agent_cli.rs runs the
//! real agent against a real dockerd).

#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LOCKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/lockfile-parsers"
);

/// A tree with one lockfile from ../shared/fixtures.
fn tree(dir: &Path, name: &str, fixture: &str, as_name: &str) -> std::path::PathBuf {
    let t = dir.join(name);
    std::fs::create_dir_all(&t).unwrap();
    std::fs::copy(format!("{LOCKS}/{fixture}"), t.join(as_name)).unwrap();
    t
}

fn token(db: &str, tenant: &str, role: moat_server::Role) -> String {
    block_on(async {
        let store = moat_server::Store::open(db).await.unwrap();
        moat_server::auth::create_token(&store, tenant, role, "test")
            .await
            .unwrap()
    })
}

fn sql(db: &str, q: &str) -> Vec<Vec<moat_server::store::Val>> {
    block_on(async {
        let store = moat_server::Store::open(db).await.unwrap();
        store.query(q, vec![]).await.unwrap()
    })
}

fn wait_done(base: &str, tok: &str, job: i64) -> Value {
    wait_for("the job", 180, || {
        let (s, j) = http("GET", &format!("{base}/api/v1/jobs/{job}"), Some(tok), None);
        assert_eq!(s, 200, "{j}");
        matches!(j["state"].as_str(), Some("done" | "failed")).then_some(j)
    })
}

fn ids(findings: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["id"].as_str().unwrap(),
                f["package"].as_str().unwrap(),
                f["version"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

fn image_findings(base: &str, tok: &str, image: i64) -> Vec<String> {
    let (s, img) = http(
        "GET",
        &format!("{base}/api/v1/images/{image}"),
        Some(tok),
        None,
    );
    assert_eq!(s, 200, "{img}");
    ids(&img["findings"])
}

/// A webhook receiver on loopback answering 200; keeps signature and body.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, String)>>>,
}

fn receiver() -> Receiver {
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let g = Arc::clone(&got);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(move |h: axum::http::HeaderMap, body: String| {
                    let g = Arc::clone(&g);
                    async move {
                        let sig = h
                            .get("x-moat-signature")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string();
                        g.lock().unwrap().push((sig, body));
                        axum::http::StatusCode::OK
                    }
                }),
            );
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    Receiver {
        url: format!("http://{}/hook", rx.recv().unwrap()),
        got,
    }
}

#[test]
fn an_advisory_update_rematches_only_the_inventories_it_touches_and_names_running_containers() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite:{}", dir.path().join("serve.db").display());
    scenario(dir, db_url);
}

/// The same on a private PostgreSQL cluster (the queries in its dialect).
#[test]
fn the_same_on_postgresql() {
    if !have_postgres() {
        return;
    }
    let pg = Postgres::start();
    scenario(tempfile::tempdir().unwrap(), pg.url());
}

fn scenario(dir: tempfile::TempDir, db_url: String) {
    let adb = dir.path().join("advisories.db");
    import_advisories(&adb, &["npm"]);
    let cache = dir.path().join("cache");
    let npm_inv = inventory(
        &tree(
            dir.path(),
            "npm",
            "nodejs/npm/testdata/package-lock_v3.json",
            "package-lock.json",
        ),
        &cache,
    );
    let pypi_inv = inventory(
        &tree(
            dir.path(),
            "pypi",
            "python/pip/testdata/requirements_flask.txt",
            "requirements.txt",
        ),
        &cache,
    );
    let mut worker = moat_server::WorkerConfig::new(adb.clone(), cache.clone());
    worker.poll = Duration::from_millis(100);
    let server = Server::start(moat_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db_url.clone(),
        workers: 1,
        worker,
        tls: None,
    });
    let base = server.base.clone();
    let admin = token(&db_url, "acme", moat_server::Role::Admin);
    let reader = token(&db_url, "acme", moat_server::Role::Reader);
    let other = token(&db_url, "globex", moat_server::Role::Admin);
    let recv = receiver();
    let secret = "a-test-secret-of-some-length";
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/webhooks"),
        Some(&admin),
        Some(&json!({"url": recv.url, "secret": secret})),
    );
    assert_eq!(s, 201, "{r}");

    // The npm inventory, and the PyPI one as an agent uploads it (by image id).
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&admin),
        Some(&json!({"sbom": npm_inv, "reference": "acme/web:1"})),
    );
    assert_eq!(s, 202, "{r}");
    let npm_job = wait_done(&base, &admin, r["job"].as_i64().unwrap());
    assert_eq!(npm_job["state"], "done", "{npm_job}");
    let npm_image = npm_job["image"].as_i64().unwrap();

    // An agent: a host with two running containers, one of an image not known yet.
    let image_id = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let report = json!({
        "host": {"name": "node-1", "engine_version": "20.10.24", "os": "Debian GNU/Linux 12"},
        "containers": [
            {"id": "c1".repeat(32), "name": "api", "image": "acme/api:2", "image_id": image_id, "state": "running"},
            {"id": "c2".repeat(32), "name": "api-2", "image": "acme/api:2", "image_id": image_id, "state": "running"},
        ],
    });
    let (s, _) = http(
        "POST",
        &format!("{base}/api/v1/agent/report"),
        Some(&reader),
        Some(&report),
    );
    assert_eq!(s, 403, "a reader cannot post as an agent");
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/agent/report"),
        Some(&admin),
        Some(&report),
    );
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["missing_images"], json!([image_id]));
    assert_eq!(r["alert_cursor"], Value::Null);
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/agent/images"),
        Some(&admin),
        Some(
            &json!({"image_id": image_id, "reference": format!("acme/api:2@{image_id}"), "sbom": pypi_inv}),
        ),
    );
    assert_eq!(s, 202, "{r}");
    let upload = r["job"].as_i64().unwrap();
    // Known from now on (queued counts): an agent sends each image once.
    let (_, r) = http(
        "POST",
        &format!("{base}/api/v1/agent/report"),
        Some(&admin),
        Some(&report),
    );
    assert_eq!(r["missing_images"], json!([]));
    let pypi_job = wait_done(&base, &admin, upload);
    assert_eq!(pypi_job["state"], "done", "{pypi_job}");
    let pypi_image = pypi_job["image"].as_i64().unwrap();
    assert!(
        image_findings(&base, &admin, pypi_image).is_empty(),
        "no PyPI data yet"
    );

    // Alerts by store position: sent twice, stored once; the cursor is the highest.
    let alerts = json!({"host": "node-1", "alerts": [
        {"seq": 3, "time_ns": 1_700_000_000_000_000_000i64, "container": "c1".repeat(32), "rule": "Terminal shell in container", "severity": "high", "body": {"container": {"name": "api"}}},
        {"seq": 7, "time_ns": 1_700_000_001_000_000_000i64, "container": "c2".repeat(32), "rule": "Netcat listener", "severity": "WARNING", "body": {}},
    ]});
    for _ in 0..2 {
        let (s, r) = http(
            "POST",
            &format!("{base}/api/v1/agent/alerts"),
            Some(&admin),
            Some(&alerts),
        );
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["alert_cursor"], 7);
    }
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/agent/alerts"),
        Some(&other),
        Some(&alerts),
    );
    assert_eq!(s, 404, "another tenant's host: {r}");
    let (_, r) = http("GET", &format!("{base}/api/v1/alerts"), Some(&reader), None);
    let list = r["alerts"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{r}");
    assert_eq!(list[0]["container_name"], "api");
    assert_eq!(list[0]["severity"], "HIGH");
    let (_, r) = http("GET", &format!("{base}/api/v1/hosts"), Some(&reader), None);
    assert_eq!(r["hosts"][0]["name"], "node-1", "{r}");
    assert_eq!(r["hosts"][0]["containers"], 2);
    assert_eq!(r["hosts"][0]["alert_cursor"], 7);
    let (_, r) = http("GET", &format!("{base}/api/v1/hosts"), Some(&other), None);
    assert_eq!(r["hosts"], json!([]), "tenant-scoped");
    let (_, r) = http(
        "GET",
        &format!("{base}/api/v1/containers"),
        Some(&reader),
        None,
    );
    assert_eq!(r["containers"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["containers"][0]["image_row"], pypi_image);
    let (_, r) = http(
        "GET",
        &format!("{base}/api/v1/affected"),
        Some(&reader),
        None,
    );
    assert_eq!(r["containers"], json!([]), "no finding yet: {r}");

    // The workers recorded the advisory database they match with.
    wait_for("the advisory stamp", 30, || {
        (!sql(
            &db_url,
            "SELECT value FROM meta WHERE key = 'advisory_stamp'",
        )
        .is_empty())
        .then_some(())
    });
    let npm_before = image_findings(&base, &admin, npm_image);

    // `moat db import` of PyPI advisories: only the PyPI inventory is matched again.
    import_advisories(&adb, &["PyPI"]);
    let job = wait_for("the re-match", 180, || {
        let rows = sql(
            &db_url,
            "SELECT id, state, detail FROM jobs WHERE kind = 'rematch' AND state = 'done'",
        );
        rows.first().cloned()
    });
    let detail: Value = serde_json::from_str(job[2].text().unwrap()).unwrap();
    assert_eq!(detail["incremental"], true, "{detail}");
    assert_eq!(detail["images"], 2, "{detail}");
    assert_eq!(
        detail["matched"], 1,
        "only the inventory with PyPI packages: {detail}"
    );
    assert_eq!(detail["updated"], 1, "{detail}");
    assert!(detail["changed_keys"].as_i64().unwrap() >= 2, "{detail}");
    let pypi_after = image_findings(&base, &admin, pypi_image);
    assert!(!pypi_after.is_empty());
    assert!(
        pypi_after
            .iter()
            .any(|f| f.contains(" Flask ") || f.contains(" Werkzeug ")),
        "{pypi_after:?}"
    );
    assert_eq!(image_findings(&base, &admin, npm_image), npm_before);

    // The running containers of that image are affected, on the list and in the webhook.
    let (_, r) = http(
        "GET",
        &format!("{base}/api/v1/affected"),
        Some(&reader),
        None,
    );
    let affected = r["containers"].as_array().unwrap();
    let names: Vec<&str> = affected
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "api-2"], "{r}");
    assert!(!affected[0]["advisories"].as_array().unwrap().is_empty());
    let (_, r) = http(
        "GET",
        &format!("{base}/api/v1/affected"),
        Some(&other),
        None,
    );
    assert_eq!(r["containers"], json!([]));
    let event: Value = wait_for("the webhook", 60, || {
        let got = recv.got.lock().unwrap();
        got.iter()
            .map(|(sig, body)| {
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
                mac.update(body.as_bytes());
                assert_eq!(
                    *sig,
                    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
                );
                serde_json::from_str::<Value>(body).unwrap()
            })
            .find(|e| e["image"]["id"] == pypi_image)
    });
    let mut named: Vec<&str> = event["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    assert_eq!(named, ["api", "api-2"], "{event}");
    assert_eq!(event["containers"][0]["host"], "node-1");
    let (_, page) = http("GET", &format!("{base}/"), Some(&reader), None);
    let page = page.as_str().unwrap().to_string();
    let section = &page[page.find("id=\"affected\"").unwrap()..];
    assert!(
        section.contains("api-2") && section.contains("node-1"),
        "{section}"
    );

    // A full re-match (asked for the tenant) matches both and changes nothing: the
    // incremental one missed no finding.
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/rematch"),
        Some(&admin),
        None,
    );
    assert_eq!(s, 202, "{r}");
    let full = wait_done(&base, &admin, r["job"].as_i64().unwrap());
    assert_eq!(full["detail"]["incremental"], false, "{full}");
    assert_eq!(full["detail"]["matched"], 2, "{full}");
    assert_eq!(full["detail"]["updated"], 0, "{full}");
    assert_eq!(image_findings(&base, &admin, pypi_image), pypi_after);
    // And a fresh scan of the same inventory finds the same.
    let (_, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&admin),
        Some(&json!({"sbom": pypi_inv, "reference": "acme/api:fresh"})),
    );
    let fresh = wait_done(&base, &admin, r["job"].as_i64().unwrap());
    assert_eq!(
        image_findings(&base, &admin, fresh["image"].as_i64().unwrap()),
        pypi_after
    );

    // The next report replaces the host's containers: one stopped, none affected twice.
    let (_, _) = http(
        "POST",
        &format!("{base}/api/v1/agent/report"),
        Some(&admin),
        Some(&json!({"host": {"name": "node-1"}, "containers": [
            {"id": "c1".repeat(32), "name": "api", "image": "acme/api:2", "image_id": image_id}]})),
    );
    let (_, r) = http(
        "GET",
        &format!("{base}/api/v1/affected"),
        Some(&reader),
        None,
    );
    assert_eq!(r["containers"].as_array().unwrap().len(), 1, "{r}");
}
