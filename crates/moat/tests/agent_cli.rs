//! `moat agent --once` on a real private dockerd against a real `moat serve` (SQLite):
//! the host (engine version), its running containers (not the stopped one) with their
//! image ids, the inventory of their image read from the engine (sent once: a second
//! run sends nothing), and the alerts of a monitor store (each once, by position) reach
//! the server. Then `moat db import` of new advisories makes the running container
//! affected: listed by `/api/v1/affected`, on the dashboard (also in headless
//! Chromium; screenshot in target/serve-test/dashboard-fleet.png), and named in the
//! signed re-match webhook.
//!
//! The alerts are written to the store with moat-store's API, as `moat monitor` writes
//! them (starting the real monitor and provoking a rule is monitor_cli's and
//! respond_cli's business; here only the store's contents matter).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_testkit::{Dockerd, DockerdOptions, skip_unless};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
const MOAT: &str = env!("CARGO_BIN_EXE_moat");

mod common;
use common::serve::{MoatProc, http, wait_for};

fn moat(args: &[&str]) -> std::process::Output {
    Command::new(MOAT).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = moat(args);
    assert!(
        out.status.success(),
        "moat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A webhook receiver on loopback (plain std: one request per connection), answering
/// 200; keeps each request's signature header and body.
/// (signature, body) of each request received.
type Received = Arc<Mutex<Vec<(String, String)>>>;

fn receiver() -> (String, Received) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got: Received = Arc::default();
    let g = Arc::clone(&got);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let mut r = BufReader::new(s);
            let (mut len, mut sig) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let lower = l.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("x-moat-signature:") {
                    sig = l["x-moat-signature:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            g.lock()
                .unwrap()
                .push((sig, String::from_utf8_lossy(&body).into_owned()));
            let _ = r
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}

/// A busybox rootfs with two Python distributions installed (real PyPI names and
/// versions with real advisories in ../shared/vulndata: Flask 2.0.0, Werkzeug 2.0.0).
fn app_rootfs_tar(dir: &Path) -> std::path::PathBuf {
    let tar = dir.join("app-rootfs.tar");
    moat_testkit::busybox_rootfs_tar(&tar);
    let extra = dir.join("extra");
    let site = extra.join("usr/lib/python3.11/site-packages");
    for (name, version) in [("Flask", "2.0.0"), ("Werkzeug", "2.0.0")] {
        let d = site.join(format!("{name}-{version}.dist-info"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
        )
        .unwrap();
    }
    moat_testkit::run(
        Command::new("tar")
            .arg("-C")
            .arg(&extra)
            .arg("-rf")
            .arg(&tar)
            .arg("./usr/lib"),
    );
    tar
}

#[test]
fn agent_posts_host_containers_images_alerts_and_a_new_advisory_names_the_running_container() {
    if !skip_unless("agent_cli", &["dockerd", "docker", "curl"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = Dockerd::start(DockerdOptions::default());
    let tar = app_rootfs_tar(dir.path());
    d.docker(&["import", &tar.display().to_string(), "acme/app:1"]);
    let image_id = d
        .docker(&["image", "inspect", "--format", "{{.Id}}", "acme/app:1"])
        .trim()
        .to_string();
    let web = d
        .docker(&["run", "-d", "--name", "web", "acme/app:1", "sleep", "3600"])
        .trim()
        .to_string();
    d.docker(&["create", "--name", "idle", "acme/app:1", "true"]);
    let engine_version = d
        .docker(&["version", "--format", "{{.Server.Version}}"])
        .trim()
        .to_string();

    // The advisory database: npm only at first (nothing for the image's PyPI packages).
    let adb = dir.path().join("advisories.db");
    let adb_s = adb.display().to_string();
    let import = |eco: &str| {
        ok(&[
            "db",
            "import",
            &format!("{SHARED}/vulndata/osv/{eco}/all.zip"),
            "--db",
            &adb_s,
        ]);
    };
    import("npm");
    let cache = dir.path().join("cache").display().to_string();
    let database = format!("sqlite:{}", dir.path().join("serve.db").display());
    let token = |spec: &str| {
        ok(&["serve", "--database", &database, "--create-token", spec])
            .trim()
            .to_string()
    };
    let agent_token = token("acme:submitter");
    let admin = token("acme:admin");

    let serve = MoatProc::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        &database,
        "--db",
        &adb_s,
        "--cache-dir",
        &cache,
    ]);
    let base = serve.url();
    let (hook, got) = receiver();
    let secret = "agent-test-secret-0123456789";
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/webhooks"),
        &admin,
        Some(&json!({"url": hook, "secret": secret})),
    );
    assert_eq!(s, 201, "{r}");

    // A monitor store with two alerts about the running container.
    let store = dir.path().join("monitor/store.db");
    {
        let mut st = moat_store::Store::open(&store).unwrap();
        let now = 1_764_800_000_000_000_000i64;
        let alerts: Vec<moat_store::Record> = ["Terminal shell in container", "Netcat listener"]
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                moat_store::Record::new(
                    "alert",
                    now + i64::try_from(i).unwrap(),
                    json!({"container": {"id": web, "name": "web"}, "output": format!("{rule} in web")}),
                )
                .container(&web)
                .rule(rule)
                .severity("HIGH")
                .key(&format!("alert:{i}"))
            })
            .collect();
        st.append(&alerts, &[]).unwrap();
        // An event is not an alert: never posted.
        st.append(
            &[moat_store::Record::new("event", now, json!({})).container(&web)],
            &[],
        )
        .unwrap();
    }

    let agent = |what: &str, extra: &[&str]| -> String {
        let out = Command::new(MOAT)
            .args(["--cache-dir", &cache, "--db", &adb_s, "agent", "--once"])
            .args(extra)
            .args(["--server", &base, "--host", &d.host(), "--name", "node-1"])
            .arg("--store")
            .arg(&store)
            .env("MOAT_TOKEN", &agent_token)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{what}: {err}");
        err
    };
    let first = agent("first run", &[]);
    assert!(
        first.contains("node-1: 1 running containers, 1 images sent, 2 alerts sent"),
        "{first}"
    );

    // The image's inventory becomes an image of the tenant with the image id as digest.
    let image = wait_for("the uploaded inventory", 120, || {
        let (_, r) = http("GET", &format!("{base}/api/v1/images"), &admin, None);
        r["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["digest"] == image_id.as_str())
            .map(|i| i["id"].as_i64().unwrap())
    });
    let (_, r) = http("GET", &format!("{base}/api/v1/hosts"), &admin, None);
    let hosts = r["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{r}");
    assert_eq!(hosts[0]["name"], "node-1");
    assert_eq!(hosts[0]["engine_version"], engine_version.as_str());
    assert_eq!(hosts[0]["alerts"], 2);
    let (_, r) = http("GET", &format!("{base}/api/v1/containers"), &admin, None);
    let containers = r["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "only the running one: {r}");
    assert_eq!(containers[0]["id"], web.as_str());
    assert_eq!(containers[0]["name"], "web");
    assert_eq!(containers[0]["image"], "acme/app:1");
    assert_eq!(containers[0]["image_id"], image_id.as_str());
    assert_eq!(containers[0]["image_row"], image);
    let (_, r) = http("GET", &format!("{base}/api/v1/alerts"), &admin, None);
    let alerts = r["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{r}");
    assert_eq!(alerts[0]["container_name"], "web");
    assert_eq!(alerts[0]["rule"], "Terminal shell in container");

    // Again: the image is known and the alerts acknowledged; nothing is sent twice.
    let second = agent("second run", &["--audit"]);
    assert!(
        second.contains("node-1: 1 running containers, 0 images sent, 0 alerts sent"),
        "{second}"
    );
    let (_, r) = http("GET", &format!("{base}/api/v1/alerts"), &admin, None);
    assert_eq!(r["alerts"].as_array().unwrap().len(), 2);
    // A new alert in the store: only it is sent next time.
    moat_store::Store::open(&store)
        .unwrap()
        .append(
            &[
                moat_store::Record::new("alert", 1_764_800_000_000_000_100, json!({}))
                    .container(&web)
                    .rule("Write below etc")
                    .severity("MEDIUM")
                    .key("alert:late"),
            ],
            &[],
        )
        .unwrap();
    let third = agent("third run", &[]);
    assert!(
        third.contains("0 images sent, 1 alerts sent (cursor 4)"),
        "{third}"
    );
    let (_, r) = http("GET", &format!("{base}/api/v1/alerts"), &admin, None);
    assert_eq!(r["alerts"].as_array().unwrap().len(), 3);
    // With --audit, the host carries the audit's summary.
    let (_, r) = http("GET", &format!("{base}/api/v1/hosts"), &admin, None);
    let audit = &r["hosts"][0]["audit"];
    assert!(audit["findings"].as_i64().unwrap() > 0, "{r}");
    let (_, r) = http("GET", &format!("{base}/api/v1/affected"), &admin, None);
    assert_eq!(r["containers"], json!([]), "no PyPI advisories yet: {r}");

    // New advisories: the worker re-matches; the running container is affected.
    import("PyPI");
    let affected = wait_for("the re-match", 180, || {
        let (_, r) = http("GET", &format!("{base}/api/v1/affected"), &admin, None);
        let list = r["containers"].as_array().unwrap().clone();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(affected.len(), 1, "{affected:?}");
    assert_eq!(affected[0]["name"], "web");
    assert_eq!(affected[0]["host"], "node-1");
    let advisories: Vec<&str> = affected[0]["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["package"].as_str().unwrap())
        .collect();
    assert!(
        advisories.contains(&"Werkzeug") || advisories.contains(&"Flask"),
        "{advisories:?}"
    );
    let event = wait_for("the webhook", 60, || {
        got.lock().unwrap().iter().find_map(|(sig, body)| {
            let e: Value = serde_json::from_str(body).ok()?;
            (e["image"]["id"] == image).then(|| (sig.clone(), body.clone(), e))
        })
    });
    let (sig, body, event) = event;
    assert_eq!(
        sig,
        format!(
            "sha256={}",
            hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
        )
    );
    assert_eq!(event["event"], "new-findings");
    assert_eq!(
        event["containers"],
        json!([{"host": "node-1", "id": web, "name": "web", "image": "acme/app:1"}]),
        "{event}"
    );
    let (_, page) = http("GET", &format!("{base}/"), &admin, None);
    let page = page.as_str().unwrap().to_string();
    let section = &page[page.find("id=\"affected\"").unwrap()..];
    let section = &section[..section.find("</table>").unwrap()];
    assert!(
        section.contains("web") && section.contains("node-1"),
        "{section}"
    );

    // In a real browser (the reader's view): the affected container is on the page.
    if Command::new("chromium").arg("--version").output().is_ok() {
        let reader = token("acme:reader");
        let login = format!("{base}/login?token={reader}");
        let profile = dir.path().join("chrome");
        let chrome = |extra: &[String]| {
            let mut args: Vec<&str> = extra.iter().map(String::as_str).collect();
            args.push(&login);
            moat_testkit::chromium(&args, &profile)
        };
        let dom = chrome(&["--dump-dom".to_string()]);
        let dom = String::from_utf8_lossy(&dom.stdout);
        let at = dom.find("id=\"affected\"").expect("the affected table");
        let table = &dom[at..at + dom[at..].find("</table>").unwrap()];
        assert!(
            table.contains("web") && table.contains("acme/app:1"),
            "{table}"
        );
        let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/serve-test");
        std::fs::create_dir_all(&out_dir).unwrap();
        let shot = out_dir.join("dashboard-fleet.png");
        let _ = std::fs::remove_file(&shot);
        chrome(&[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,900".into(),
        ]);
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
            "screenshot {}",
            shot.display()
        );
    } else {
        eprintln!("agent_cli: dashboard in a browser skipped, chromium is not installed");
    }
    drop(serve);
}

/// HMAC-SHA256 (RFC 2104) with sha2, to check the webhook's signature independently.
fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}
