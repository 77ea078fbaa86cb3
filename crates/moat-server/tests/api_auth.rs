//! The API on SQLite, in process, over real HTTP on loopback: roles (a reader cannot
//! submit), tenant isolation (another tenant's image, report, job are 404, and never
//! listed), wrong, unknown and revoked tokens refused, every action in the audit log,
//! the OpenAPI document covering every route, a scan of a real inventory (lockfiles
//! from ../shared/fixtures matched against ../shared/vulndata) stored and listed.

#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

struct World {
    _dir: tempfile::TempDir,
    server: Server,
    db_url: String,
    sbom: Value,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let adb = dir.path().join("advisories.db");
    import_advisories(&adb, &["npm", "PyPI"]);
    let tree = fixture_tree(dir.path());
    let sbom = inventory(&tree, &dir.path().join("cache"));
    let db_url = format!("sqlite:{}", dir.path().join("serve.db").display());
    let mut worker = moat_server::WorkerConfig::new(adb, dir.path().join("cache"));
    worker.poll = Duration::from_millis(100);
    worker.watch_advisories = false;
    let server = Server::start(moat_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db_url.clone(),
        workers: 1,
        worker,
        tls: None,
    });
    World {
        _dir: dir,
        server,
        db_url,
        sbom,
    }
}

fn token(db: &str, tenant: &str, role: moat_server::Role) -> String {
    block_on(async {
        let store = moat_server::Store::open(db).await.unwrap();
        moat_server::auth::create_token(&store, tenant, role, "test")
            .await
            .unwrap()
    })
}

fn wait_done(w: &World, tok: &str, job: i64) -> Value {
    wait_for("the job", 120, || {
        let (s, j) = http(
            "GET",
            &format!("{}/api/v1/jobs/{job}", w.server.base),
            Some(tok),
            None,
        );
        assert_eq!(s, 200, "{j}");
        matches!(j["state"].as_str(), Some("done" | "failed")).then_some(j)
    })
}

#[test]
fn roles_tenants_tokens_and_the_audit_log() {
    let w = world();
    let base = &w.server.base;
    let admin_a = token(&w.db_url, "acme", moat_server::Role::Admin);
    let admin_b = token(&w.db_url, "globex", moat_server::Role::Admin);

    // The admin makes a reader and a submitter through the API.
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/tokens"),
        Some(&admin_a),
        Some(&json!({"role": "reader"})),
    );
    assert_eq!(s, 201, "{r}");
    let reader = r["token"].as_str().unwrap().to_string();
    let reader_id = r["id"].as_str().unwrap().to_string();
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/tokens"),
        Some(&admin_a),
        Some(&json!({"role": "submitter"})),
    );
    assert_eq!(s, 201, "{r}");
    let submitter = r["token"].as_str().unwrap().to_string();
    // A submitter cannot make tokens.
    let (s, _) = http(
        "POST",
        &format!("{base}/api/v1/tokens"),
        Some(&submitter),
        Some(&json!({"role": "admin"})),
    );
    assert_eq!(s, 403);

    let body = json!({"sbom": w.sbom, "reference": "acme/app:1"});
    // A reader cannot submit.
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&reader),
        Some(&body),
    );
    assert_eq!(s, 403, "{r}");
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&submitter),
        Some(&body),
    );
    assert_eq!(s, 202, "{r}");
    let job = r["job"].as_i64().unwrap();
    let j = wait_done(&w, &reader, job);
    assert_eq!(j["state"], "done", "{j}");
    let image = j["image"].as_i64().unwrap();

    // The stored findings are the scan's own: the report's vulnerabilities.
    let (s, rep) = http(
        "GET",
        &format!("{base}/api/v1/images/{image}/report"),
        Some(&reader),
        None,
    );
    assert_eq!(s, 200);
    let vulns = rep["vulnerabilities"].as_array().unwrap();
    assert!(
        !vulns.is_empty(),
        "Flask 2.0.0 / the npm lockfile have advisories in ../shared/vulndata"
    );
    let (s, img) = http(
        "GET",
        &format!("{base}/api/v1/images/{image}"),
        Some(&reader),
        None,
    );
    assert_eq!(s, 200);
    let stored: std::collections::BTreeSet<String> = img["findings"]
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
    let reported: std::collections::BTreeSet<String> = vulns
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["id"].as_str().unwrap(),
                f["package"]["name"].as_str().unwrap(),
                f["package"]["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(stored, reported);

    // Tenant isolation: 404, not 403, and never listed.
    for path in [
        format!("/api/v1/images/{image}"),
        format!("/api/v1/images/{image}/report"),
        format!("/api/v1/jobs/{job}"),
    ] {
        let (s, r) = http("GET", &format!("{base}{path}"), Some(&admin_b), None);
        assert_eq!(s, 404, "{path}: {r}");
    }
    // And an image that does not exist looks the same.
    let (s, _) = http(
        "GET",
        &format!("{base}/api/v1/images/999999"),
        Some(&admin_b),
        None,
    );
    assert_eq!(s, 404);
    let (_, l) = http(
        "GET",
        &format!("{base}/api/v1/images"),
        Some(&admin_b),
        None,
    );
    assert_eq!(l["images"].as_array().unwrap().len(), 0);
    let (_, l) = http(
        "GET",
        &format!("{base}/api/v1/findings"),
        Some(&admin_b),
        None,
    );
    assert_eq!(l["findings"].as_array().unwrap().len(), 0);
    let (_, l) = http("GET", &format!("{base}/api/v1/images"), Some(&reader), None);
    assert_eq!(l["images"].as_array().unwrap().len(), 1);
    // B's admin cannot revoke A's tokens either.
    let (s, _) = http(
        "DELETE",
        &format!("{base}/api/v1/tokens/{reader_id}"),
        Some(&admin_b),
        None,
    );
    assert_eq!(s, 404);

    // Missing, malformed, unknown and wrong tokens.
    let (s, _) = http("GET", &format!("{base}/api/v1/images"), None, None);
    assert_eq!(s, 401);
    let (s, _) = http(
        "GET",
        &format!("{base}/api/v1/images"),
        Some("nonsense"),
        None,
    );
    assert_eq!(s, 401);
    let (s, _) = http(
        "GET",
        &format!("{base}/api/v1/images"),
        Some("moat_0000000000000000_abcdef"),
        None,
    );
    assert_eq!(s, 401);
    let forged = format!("{}x", &reader[..reader.len() - 1]);
    let (s, _) = http("GET", &format!("{base}/api/v1/images"), Some(&forged), None);
    assert_eq!(s, 401);
    // Revoked: refused at once.
    let (s, _) = http(
        "DELETE",
        &format!("{base}/api/v1/tokens/{reader_id}"),
        Some(&admin_a),
        None,
    );
    assert_eq!(s, 204);
    let (s, _) = http("GET", &format!("{base}/api/v1/images"), Some(&reader), None);
    assert_eq!(s, 401);

    // The audit log has the reader's refused submit and the revocation; B's log has
    // none of A's actions.
    let (s, a) = http(
        "GET",
        &format!("{base}/api/v1/audit?limit=1000"),
        Some(&admin_a),
        None,
    );
    assert_eq!(s, 200);
    let entries = a["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["token"] == reader_id.as_str()
        && e["path"] == "/api/v1/scans"
        && e["status"] == 403));
    assert!(
        entries
            .iter()
            .any(|e| e["method"] == "DELETE" && e["status"] == 204)
    );
    let (_, b) = http(
        "GET",
        &format!("{base}/api/v1/audit?limit=1000"),
        Some(&admin_b),
        None,
    );
    assert!(
        b["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["path"] != "/api/v1/scans")
    );
    // Refused requests without a tenant are logged too (checked in the table itself).
    let unauth = block_on(async {
        let store = moat_server::Store::open(&w.db_url).await.unwrap();
        store
            .query(
                "SELECT COUNT(*) FROM audit_log WHERE tenant IS NULL AND status = 401",
                vec![],
            )
            .await
            .unwrap()[0][0]
            .int()
            .unwrap()
    });
    assert!(unauth >= 5, "{unauth} refused requests logged");

    // A reader of another role sees the dashboard with a known finding.
    let (s, html) = http("GET", &format!("{base}/"), Some(&admin_a), None);
    assert_eq!(s, 200);
    let html = html.as_str().unwrap();
    let first = &vulns[0]["id"];
    assert!(
        html.contains(first.as_str().unwrap()),
        "dashboard lacks {first}"
    );
}

#[test]
fn openapi_lists_every_route_and_every_route_answers() {
    let w = world();
    let base = &w.server.base;
    let admin = token(&w.db_url, "acme", moat_server::Role::Admin);
    let (s, doc) = http("GET", &format!("{base}/openapi.json"), None, None);
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for r in moat_server::openapi::ROUTES {
        assert!(
            doc["paths"][r.path][r.method].is_object(),
            "{} {}",
            r.method,
            r.path
        );
        let path = r.path.replace("{id}", "1");
        let (s, body) = http(
            &r.method.to_uppercase(),
            &format!("{base}{path}"),
            Some(&admin),
            Some(&json!({})),
        );
        // Routed: anything but "no such route" (404 with an empty body) or 405.
        assert_ne!(s, 405, "{} {path}", r.method);
        assert!(
            s != 404 || body.get("error").is_some(),
            "{} {path}: unrouted",
            r.method
        );
    }
}

#[test]
fn bad_submissions_are_400_with_a_reason() {
    let w = world();
    let base = &w.server.base;
    let admin = token(&w.db_url, "acme", moat_server::Role::Admin);
    for body in [
        json!({}),
        json!({"source": "registry:x", "sbom": {}}),
        json!({"sbom": {"packages": "no"}, "reference": "x"}),
        json!({"sbom": w.sbom}),
        json!({"source": "docker-archive:"}),
        json!({"source": "x\u{1b}[31m"}),
    ] {
        let (s, r) = http(
            "POST",
            &format!("{base}/api/v1/scans"),
            Some(&admin),
            Some(&body),
        );
        assert_eq!(s, 400, "{body}: {r}");
        assert!(r["error"].as_str().unwrap().starts_with("bad request"));
    }
    // A local path the worker was not allowed to read fails the job with a reason.
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        Some(&admin),
        Some(&json!({"source": "dir:/etc"})),
    );
    assert_eq!(s, 202, "{r}");
    let j = wait_done(&w, &admin, r["job"].as_i64().unwrap());
    assert_eq!(j["state"], "failed");
    assert!(j["error"].as_str().unwrap().contains("--allow-path"), "{j}");
}
