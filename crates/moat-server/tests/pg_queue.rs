//! The queue on a real PostgreSQL (a private cluster per test): migrations applied by
//! several replicas at once; leases that expire so another worker takes a dead
//! worker's job, and the dead lease holder can no longer finish it; re-match after new
//! advisories are imported, with a signed webhook received once after a retry.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use hmac::{Hmac, Mac};
use moat_server::queue::{self, JobKind};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn replicas_migrate_at_once_and_leases_expire() {
    if !have_postgres() {
        return;
    }
    let pg = Postgres::start();
    let url = pg.url();
    block_on(async {
        // Four replicas start together: one applies the migrations, none fails.
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let u = url.clone();
                tokio::spawn(async move { moat_server::Store::open(&u).await })
            })
            .collect();
        let mut stores = Vec::new();
        for o in opens {
            stores.push(o.await.unwrap().unwrap());
        }
        let s = &stores[0];
        let v = s
            .query("SELECT COUNT(*) FROM moat_migrations", vec![])
            .await
            .unwrap();
        assert_eq!(
            v[0][0].int(),
            Some(i64::try_from(moat_server::store::SCHEMA_VERSION).unwrap()),
            "each migration applied once"
        );

        let id = queue::submit(s, "t", JobKind::Sbom, "sbom", "r", Some("{}".into()))
            .await
            .unwrap();
        // Worker A claims it with a short lease and dies (never renews).
        let a = queue::claim(s, "worker-a", 500).await.unwrap().unwrap();
        assert_eq!(a.id, id);
        // While the lease holds, nobody else gets it.
        assert!(
            queue::claim(&stores[1], "worker-b", 500)
                .await
                .unwrap()
                .is_none()
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        // Expired: B takes it over (second attempt).
        let b = queue::claim(&stores[1], "worker-b", 30_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((b.id, b.attempts), (id, 2));
        // A comes back: it can neither renew nor finish the job any more.
        assert!(!queue::renew(s, id, "worker-a", 30_000).await.unwrap());
        assert!(
            s.transaction(vec![queue::finish_guard(id, "worker-a", "done", None)])
                .await
                .unwrap()
                .is_none()
        );
        // B finishes it, once.
        assert!(
            stores[1]
                .transaction(vec![queue::finish_guard(id, "worker-b", "done", None)])
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            stores[1]
                .transaction(vec![queue::finish_guard(id, "worker-b", "done", None)])
                .await
                .unwrap()
                .is_none()
        );
    });
    assert_eq!(
        pg.psql("SELECT state || ' ' || done_by || ' ' || attempts FROM jobs"),
        "done worker-b 2"
    );
}

#[test]
fn concurrent_claims_never_hand_out_a_job_twice() {
    if !have_postgres() {
        return;
    }
    let pg = Postgres::start();
    let url = pg.url();
    let claimed = block_on(async {
        let store = moat_server::Store::open(&url).await.unwrap();
        for i in 0..300 {
            queue::submit(
                &store,
                "t",
                JobKind::Sbom,
                "sbom",
                &format!("r{i}"),
                Some("{}".into()),
            )
            .await
            .unwrap();
        }
        // Six claimers on their own connections pools, as fast as they can.
        let mut tasks = Vec::new();
        for w in 0..6 {
            let u = url.clone();
            tasks.push(tokio::spawn(async move {
                let s = moat_server::Store::open(&u).await.unwrap();
                let mut got = Vec::new();
                while let Some(j) = queue::claim(&s, &format!("w{w}"), 60_000).await.unwrap() {
                    got.push(j.id);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let mut sorted = claimed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(claimed.len(), 300, "every job claimed");
    assert_eq!(sorted.len(), 300, "no job claimed twice");
}

/// A webhook receiver on loopback: answers 500 to the first request, 200 after; keeps
/// every request's headers and body.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, String, String)>>>,
    _thread: std::thread::JoinHandle<()>,
}

fn receiver() -> Receiver {
    let got: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let g = Arc::clone(&got);
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
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
                        let mut v = g.lock().unwrap();
                        let hdr = |k: &str| {
                            h.get(k)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string()
                        };
                        v.push((hdr("x-moat-signature"), hdr("x-moat-delivery"), body));
                        if v.len() == 1 {
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            axum::http::StatusCode::OK
                        }
                    }
                }),
            );
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        _thread: thread,
    }
}

#[test]
fn new_advisories_rematch_stored_inventories_and_a_signed_webhook_arrives_once() {
    if !have_postgres() {
        return;
    }
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let adb = dir.path().join("advisories.db");
    // Only npm at first: the PyPI packages of the inventory (Flask 2.0.0, Werkzeug
    // 2.0.0) have no findings yet.
    import_advisories(&adb, &["npm"]);
    let sbom = inventory(&fixture_tree(dir.path()), &dir.path().join("cache"));
    let mut worker = moat_server::WorkerConfig::new(adb.clone(), dir.path().join("cache"));
    worker.poll = Duration::from_millis(100);
    let server = Server::start(moat_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: pg.url(),
        workers: 2,
        worker,
        tls: None,
    });
    let base = &server.base;
    let admin = block_on(async {
        let s = moat_server::Store::open(&pg.url()).await.unwrap();
        moat_server::auth::create_token(&s, "acme", moat_server::Role::Admin, "t")
            .await
            .unwrap()
    });
    let recv = receiver();
    let secret = "a-test-secret-of-some-length";
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/webhooks"),
        Some(&admin),
        Some(&json!({"url": recv.url, "secret": secret})),
    );
    assert_eq!(s, 201, "{r}");
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&admin),
        Some(&json!({"sbom": sbom, "reference": "acme/app:1"})),
    );
    assert_eq!(s, 202, "{r}");
    let job = r["job"].as_i64().unwrap();
    let image = wait_for("the scan", 120, || {
        let (_, j) = http(
            "GET",
            &format!("{base}/api/v1/jobs/{job}"),
            Some(&admin),
            None,
        );
        (j["state"] == "done").then(|| j["image"].as_i64().unwrap())
    });
    let findings = |base: &str| -> Vec<Value> {
        let (_, img) = http(
            "GET",
            &format!("{base}/api/v1/images/{image}"),
            Some(&admin),
            None,
        );
        img["findings"].as_array().unwrap().clone()
    };
    let before = findings(base);
    assert!(
        before.iter().all(|f| f["ecosystem"] != "pypi"),
        "no PyPI data yet: {before:?}"
    );
    // The workers have recorded the advisory database they match with.
    wait_for("the advisory stamp", 30, || {
        (!pg.psql("SELECT value FROM meta WHERE key = 'advisory_stamp'")
            .is_empty())
        .then_some(())
    });

    // `moat db import` of PyPI advisories: the workers notice, re-match, notify.
    import_advisories(&adb, &["PyPI"]);
    let after = wait_for("the re-match", 120, || {
        let f = findings(base);
        (f.len() > before.len()).then_some(f)
    });
    let new: Vec<&Value> = after.iter().filter(|f| !before.contains(f)).collect();
    assert!(new.iter().all(|f| f["ecosystem"] == "pypi"), "{new:?}");
    // The webhook: refused once (500), retried, accepted; never sent again after.
    wait_for("the delivery", 60, || {
        (recv.got.lock().unwrap().len() >= 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let got = recv.got.lock().unwrap().clone();
    assert_eq!(
        got.len(),
        2,
        "one refused attempt and one accepted: {got:?}"
    );
    assert_eq!(got[0].1, got[1].1, "a retry carries the same delivery id");
    for (sig, _, body) in &got {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        assert_eq!(
            *sig,
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        );
    }
    let event: Value = serde_json::from_str(&got[1].2).unwrap();
    assert_eq!(event["event"], "new-findings");
    assert_eq!(event["image"]["id"], image);
    let mut ids: Vec<String> = event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let mut want: Vec<String> = new
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    want.sort();
    assert_eq!(ids, want, "the webhook names exactly the new findings");
    // The delivery log.
    let (_, d) = http(
        "GET",
        &format!("{base}/api/v1/webhooks/deliveries"),
        Some(&admin),
        None,
    );
    let d = d["deliveries"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["state"], "delivered");
    assert_eq!(d[0]["logged_attempts"], 2);
    assert_eq!(d[0]["last_status"], 200);
}
