//! Webhooks to an https receiver with a private CA (made here with the openssl CLI; the
//! receiver is served with moat-server's own TLS listener): a worker given the CA
//! (`--webhook-ca-cert`) delivers the re-match event; a worker without it logs each
//! refused attempt with the certificate error and delivers nothing.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A private CA and a certificate for 127.0.0.1 it signed: (ca, cert, key).
fn certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let c = moat_testkit::tls::private_ca(dir, "hook CA");
    (c.ca, c.cert, c.key)
}

/// An https receiver answering 200; the bodies it got.
fn https_receiver(cert: &Path, key: &Path) -> (String, Arc<Mutex<Vec<String>>>) {
    let cfg = moat_server::tls::server_config(cert, key).unwrap();
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
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
                axum::routing::post(move |body: String| {
                    let g = Arc::clone(&g);
                    async move {
                        g.lock().unwrap().push(body);
                        axum::http::StatusCode::OK
                    }
                }),
            );
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            let l = moat_server::tls::TlsListener::new(l, cfg).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    (format!("https://{}/hook", rx.recv().unwrap()), got)
}

/// A server whose worker trusts `ca` (or the WebPKI roots), a webhook to `hook`, and an
/// import that gives a stored inventory new findings; the delivery log's first entry
/// once it has an attempt.
fn deliver(dir: &Path, ca: Option<&Path>, hook: &str) -> Value {
    let adb = dir.join("advisories.db");
    import_advisories(&adb, &["npm"]);
    let cache = dir.join("cache");
    let sbom = inventory(&fixture_tree(dir), &cache);
    let db_url = format!("sqlite:{}", dir.join("serve.db").display());
    let mut worker = moat_server::WorkerConfig::new(adb.clone(), cache);
    worker.poll = Duration::from_millis(100);
    worker.webhook_ca = ca.map(Path::to_path_buf);
    let server = Server::start(moat_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db_url.clone(),
        workers: 1,
        worker,
        tls: None,
    });
    let base = &server.base;
    let admin = block_on(async {
        let s = moat_server::Store::open(&db_url).await.unwrap();
        moat_server::auth::create_token(&s, "acme", moat_server::Role::Admin, "t")
            .await
            .unwrap()
    });
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/webhooks"),
        Some(&admin),
        Some(&json!({"url": hook, "secret": "a-secret-of-16-bytes-or-more"})),
    );
    assert_eq!(s, 201, "{r}");
    let (_, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&admin),
        Some(&json!({"sbom": sbom, "reference": "acme/app:1"})),
    );
    let job = r["job"].as_i64().unwrap();
    wait_for("the scan", 120, || {
        let (_, j) = http(
            "GET",
            &format!("{base}/api/v1/jobs/{job}"),
            Some(&admin),
            None,
        );
        (j["state"] == "done").then_some(())
    });
    // The worker records the database's stamp before it claims a job: now new data.
    import_advisories(&adb, &["PyPI"]);
    wait_for("a delivery attempt", 120, || {
        let (_, d) = http(
            "GET",
            &format!("{base}/api/v1/webhooks/deliveries"),
            Some(&admin),
            None,
        );
        let first = d["deliveries"].get(0)?.clone();
        (first["logged_attempts"].as_i64().unwrap_or(0) >= 1).then_some(first)
    })
}

#[test]
fn webhooks_reach_an_https_receiver_with_a_private_ca_only_when_trusted() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("webhook_tls: skipped, openssl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let (ca, cert, key) = certificates(&certs);
    let (hook, got) = https_receiver(&cert, &key);

    let trusted = dir.path().join("trusted");
    std::fs::create_dir_all(&trusted).unwrap();
    let d = deliver(&trusted, Some(&ca), &hook);
    assert_eq!(d["state"], "delivered", "{d}");
    assert_eq!(d["last_status"], 200, "{d}");
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let event: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(event["event"], "new-findings");

    let untrusted = dir.path().join("untrusted");
    std::fs::create_dir_all(&untrusted).unwrap();
    let d = deliver(&untrusted, None, &hook);
    assert_eq!(d["state"], "pending", "retried later: {d}");
    assert_eq!(d["last_status"], Value::Null);
    let err = d["last_error"].as_str().unwrap().to_lowercase();
    assert!(err.contains("certificate"), "{err}");
    assert_eq!(got.lock().unwrap().len(), 1, "nothing more was received");
}
