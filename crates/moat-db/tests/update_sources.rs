//! `moat db update`'s field sources against a loopback HTTP server written here (no
//! network is used; the real upstream URLs are never contacted), serving files in
//! the upstream formats built at test time from ../shared/vulndata records:
//! - the NVD CVE API 2.0 (`/rest/json/cves/2.0`): `nvd/cves.zip`'s 24 real records
//!   served as API response pages, honouring `resultsPerPage`, `startIndex`,
//!   `lastModStartDate` and `lastModEndDate` as NVD does;
//! - a cvelistV5 GitHub release: `releases/latest` JSON naming a
//!   `YYYY-MM-DD_all_CVEs_at_midnight.zip.zip` asset, a zip holding `cves.zip`
//!   holding `cves/YYYY/Nxxx/CVE-….json` (vulnrichment's CVE JSON 5 records);
//! - an osv.dev `<Ecosystem>/all.zip` with a record in GitHub's (GHSA) export shape.

#![allow(clippy::unwrap_used)] // tests

use moat_db::update::{self, NvdOptions, Options, Source, nvd};
use moat_db::{Database, Writer};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn vulndata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vulndata"
    ))
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Req {
    path: String,
    /// Query parameters, still percent-encoded.
    query: BTreeMap<String, String>,
    /// Header names in lower case.
    headers: BTreeMap<String, String>,
}

impl Req {
    fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }
}

enum Reply {
    /// Status, extra headers, body.
    Send(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// Accept, read the request, never answer (until the client gives up).
    Hang,
    /// Answer 200 with the body's length, then send it a byte every 200 ms.
    Drip(Vec<u8>),
}

fn ok_json(v: &Value) -> Reply {
    Reply::Send(
        200,
        vec![("Content-Type", "application/json".into())],
        serde_json::to_vec(v).unwrap(),
    )
}

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let l2 = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, l) = (handler.clone(), l2.clone());
                // One thread a connection: a hanging reply holds no one else up.
                std::thread::spawn(move || serve(conn, &*h, &l));
            }
        });
        Server { addr, log }
    }

    fn url(&self, rel: &str) -> String {
        format!("http://{}/{rel}", self.addr)
    }

    fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn serve(
    mut conn: TcpStream,
    handler: &(dyn Fn(&Req) -> Reply + Send + Sync),
    log: &Mutex<Vec<Req>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (path, qs) = target.split_once('?').unwrap_or((&target, ""));
    let query = qs
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let req = Req {
        path: path.to_string(),
        query,
        headers,
    };
    log.lock().unwrap().push(req.clone());
    match handler(&req) {
        Reply::Hang => {
            // Hold the connection until the client closes it.
            let mut buf = [0u8; 64];
            while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
        }
        Reply::Drip(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            for b in body {
                if conn.write_all(&[b]).and_then(|()| conn.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Reply::Send(status, extra, body) => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
        }
    }
}

// ---------------------------------------------------------------------------
// NVD CVE API 2.0
// ---------------------------------------------------------------------------

/// `nvd/cves.zip`: the real NVD CVE API 2.0 records, sorted by id.
fn nvd_records() -> Vec<Value> {
    let f = std::fs::File::open(vulndata().join("nvd/cves.zip")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut v: Vec<Value> = (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            serde_json::from_str(&s).unwrap()
        })
        .collect();
    v.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    v
}

fn decode(s: &str) -> String {
    s.replace("%2B", "+").replace("%3A", ":")
}

/// NVD's answer to `req` over `records`: filter by last-modified window, then page.
fn nvd_page(req: &Req, records: &[Value], timestamp: &str) -> Value {
    let per_page: usize = req.q("resultsPerPage").unwrap().parse().unwrap();
    let start: usize = req.q("startIndex").unwrap().parse().unwrap();
    let window = match (req.q("lastModStartDate"), req.q("lastModEndDate")) {
        (Some(a), Some(b)) => {
            let a = nvd::parse_time(&decode(a)).unwrap();
            let b = nvd::parse_time(&decode(b)).unwrap();
            assert!(b - a <= time::Duration::days(120), "window over 120 days");
            Some((a, b))
        }
        (None, None) => None,
        _ => panic!("lastModStartDate and lastModEndDate go together"),
    };
    let selected: Vec<&Value> = records
        .iter()
        .filter(|r| {
            window.is_none_or(|(a, b)| {
                let m = nvd::parse_time(r["lastModified"].as_str().unwrap()).unwrap();
                a <= m && m <= b
            })
        })
        .collect();
    let page: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(per_page)
        .map(|r| json!({ "cve": r }))
        .collect();
    json!({
        "resultsPerPage": page.len(),
        "startIndex": start,
        "totalResults": selected.len(),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": timestamp,
        "vulnerabilities": page,
    })
}

/// Options for tests: no real waiting.
fn fast() -> Options {
    Options {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        nvd: NvdOptions {
            results_per_page: 10,
            rate_window: Duration::ZERO,
            backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            ..NvdOptions::default()
        },
        ..Options::default()
    }
}

fn nvd_source(server: &Server) -> Source {
    // The kind is guessed from the path, as for the real URL.
    Source::url(server.url("rest/json/cves/2.0"))
}

fn nvd_cve_count(db: &Path) -> i64 {
    Database::open_read_only(db)
        .unwrap()
        .status()
        .unwrap()
        .cve_records
        .get("nvd-cve-api-2")
        .copied()
        .unwrap_or(0)
}

#[test]
fn nvd_pages_then_fetches_only_what_changed_since_the_stored_time() {
    let records = Arc::new(Mutex::new(nvd_records()));
    let n = records.lock().unwrap().len();
    assert_eq!(n, 24);
    let first_ts = "2026-06-20T08:00:00.000".to_string();
    let ts = Arc::new(Mutex::new(first_ts.clone()));
    let (r2, t2) = (records.clone(), ts.clone());
    let server = Server::start(move |req| {
        assert_eq!(req.path, "/rest/json/cves/2.0");
        ok_json(&nvd_page(req, &r2.lock().unwrap(), &t2.lock().unwrap()))
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");

    // First run: no stored time, everything, 10 a page.
    let rep = update::update(&db, &[nvd_source(&server)], &fast()).unwrap();
    let reqs = server.requests();
    let starts: Vec<&str> = reqs.iter().map(|r| r.q("startIndex").unwrap()).collect();
    assert_eq!(starts, ["0", "10", "20"]);
    assert!(reqs.iter().all(|r| r.q("resultsPerPage") == Some("10")));
    assert!(reqs.iter().all(|r| r.q("lastModStartDate").is_none()));
    // No key configured: no key sent.
    assert!(reqs.iter().all(|r| !r.headers.contains_key("apikey")));
    let out = &rep.sources[0];
    assert_eq!(out.result, "updated");
    assert_eq!(out.requests.len(), 3);
    let import = out.import.as_ref().unwrap();
    assert_eq!(import.other_records.get("nvd-cve-api-2"), Some(&n));
    // One summary line for the source, whatever the number of pages.
    assert_eq!(import.sources.len(), 1);
    assert_eq!(import.sources[&server.url("rest/json/cves/2.0")].records, n);
    assert_eq!(nvd_cve_count(&db), n as i64);
    // Every record is stored as the same record imported from disk would be.
    let local = dir.path().join("local.db");
    let mut w = Writer::fresh(&local).unwrap();
    w.import_path(&vulndata().join("nvd/cves.zip")).unwrap();
    w.commit().unwrap();
    let (a, b) = (
        Database::open_read_only(&db).unwrap(),
        Database::open_read_only(&local).unwrap(),
    );
    for r in records.lock().unwrap().iter() {
        let id = r["id"].as_str().unwrap();
        assert_eq!(a.cve(id).unwrap(), b.cve(id).unwrap(), "{id}");
        assert!(a.cve(id).unwrap().is_some(), "{id}");
    }
    // The stored time is NVD's timestamp of the first response.
    let origin = a
        .status()
        .unwrap()
        .origins
        .into_iter()
        .find(|o| o.location == server.url("rest/json/cves/2.0"))
        .unwrap();
    assert_eq!(origin.last_modified.as_deref(), Some(first_ts.as_str()));
    assert_eq!(origin.kind, "nvd-api");
    assert_eq!(origin.records, n as i64);
    drop((a, b));

    // Upstream: one record re-analysed after the first run (new lastModified, a
    // CVSS 3.1 vector changed), and NVD's clock moved on.
    let changed_id;
    {
        let mut recs = records.lock().unwrap();
        let r = recs
            .iter_mut()
            .find(|r| r["metrics"]["cvssMetricV31"].is_array())
            .unwrap();
        changed_id = r["id"].as_str().unwrap().to_string();
        r["lastModified"] = json!("2026-07-01T00:00:00.000");
        r["metrics"]["cvssMetricV31"][0]["cvssData"]["vectorString"] =
            json!("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        r["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = json!(9.8);
        let now = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        *ts.lock().unwrap() = nvd::format_time(now);
    }
    server.clear();
    let rep = update::update(&db, &[nvd_source(&server)], &fast()).unwrap();
    let reqs = server.requests();
    // Incremental: the first window starts at the stored time; windows are contiguous,
    // at most 120 days (checked by the server) and end now.
    assert_eq!(
        reqs[0].q("lastModStartDate").map(decode),
        Some(format!("{first_ts}+00:00"))
    );
    for pair in reqs.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.q("lastModEndDate") != b.q("lastModEndDate") {
            assert_eq!(a.q("lastModEndDate"), b.q("lastModStartDate"));
        }
    }
    let windows: Vec<_> = reqs
        .iter()
        .map(|r| r.q("lastModStartDate").unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        windows.len() >= 2,
        "June to December needs two windows: {windows:?}"
    );
    let imported = rep.sources[0].import.as_ref().unwrap();
    assert_eq!(imported.other_records.get("nvd-cve-api-2"), Some(&1));
    // The earlier records stay; the changed one is replaced.
    assert_eq!(nvd_cve_count(&db), n as i64);
    let db2 = Database::open_read_only(&db).unwrap();
    let rec = db2.cve(&changed_id).unwrap().unwrap();
    assert!(
        rec.metrics
            .iter()
            .any(|m| m.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        "{rec:?}"
    );
    let origin = db2
        .status()
        .unwrap()
        .origins
        .into_iter()
        .find(|o| o.location == server.url("rest/json/cves/2.0"))
        .unwrap();
    assert_eq!(
        origin.last_modified.as_deref(),
        Some(ts.lock().unwrap().as_str())
    );
    drop(db2);

    // --force ignores the stored time: everything again.
    server.clear();
    let opts = Options {
        force: true,
        ..fast()
    };
    update::update(&db, &[nvd_source(&server)], &opts).unwrap();
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.q("lastModStartDate").is_none())
    );
    assert_eq!(server.requests().len(), 3);
    assert_eq!(nvd_cve_count(&db), n as i64);
}

#[test]
fn nvd_retries_429_and_503_then_succeeds_and_sends_the_key() {
    let records = nvd_records();
    let count = Arc::new(Mutex::new(0u32));
    let c2 = count.clone();
    let server = Server::start(move |req| {
        let k = {
            let mut c = c2.lock().unwrap();
            *c += 1;
            *c
        };
        match k {
            // An hour asked: capped at max_backoff (else the 120 s deadline would end
            // the update before the wait).
            1 => Reply::Send(429, vec![("Retry-After", "3600".into())], Vec::new()),
            2 => Reply::Send(503, vec![("message", "Service busy".into())], Vec::new()),
            3 => Reply::Send(
                403,
                vec![(
                    "message",
                    "Request forbidden by administrative rules.".into(),
                )],
                Vec::new(),
            ),
            _ => ok_json(&nvd_page(req, &records, "2026-06-20T08:00:00.000")),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let mut opts = fast();
    opts.nvd.api_key = Some("test-key-0123".into());
    opts.nvd.results_per_page = 2000;
    let rep = update::update(&db, &[nvd_source(&server)], &opts).unwrap();
    let reqs = server.requests();
    // Three refusals, each retried, then the one page.
    assert_eq!(reqs.len(), 4);
    assert!(reqs.iter().all(|r| r.q("startIndex") == Some("0")));
    assert!(
        reqs.iter()
            .all(|r| r.headers.get("apikey").map(String::as_str) == Some("test-key-0123"))
    );
    // The key travels in the header only.
    assert!(
        reqs.iter()
            .all(|r| !r.query.values().any(|v| v.contains("test-key")))
    );
    assert_eq!(rep.sources[0].requests.len(), 4);
    assert_eq!(nvd_cve_count(&db), 24);
}

#[test]
fn nvd_gives_up_after_the_retries_and_leaves_the_database_alone() {
    let server = Server::start(|_| Reply::Send(429, vec![("Retry-After", "0".into())], Vec::new()));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let mut opts = fast();
    opts.nvd.retries = 2;
    opts.nvd.api_key = Some("secret-key-xyz".into());
    let err = update::update(&db, &[nvd_source(&server)], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 429") && err.contains("after 2 retries"),
        "{err}"
    );
    assert!(!err.contains("secret-key-xyz"), "{err}");
    assert_eq!(server.requests().len(), 3);
    assert!(!db.exists());
    // A 404 is not retried.
    let server =
        Server::start(|_| Reply::Send(404, vec![("message", "Invalid apiKey".into())], Vec::new()));
    let err = update::update(&db, &[nvd_source(&server)], &fast())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 404") && err.contains("Invalid apiKey"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn nvd_hostile_pages_end_the_update() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    // A server claiming more results than it gives: stopped, not looped on.
    let server = Server::start(|req| {
        let start = req.q("startIndex").unwrap().to_string();
        ok_json(
            &json!({"format": "NVD_CVE", "startIndex": start.parse::<u64>().unwrap(),
            "resultsPerPage": 0, "totalResults": 1_000_000_000u64, "vulnerabilities": []}),
        )
    });
    let err = update::update(&db, &[nvd_source(&server)], &fast())
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty page"), "{err}");
    assert_eq!(server.requests().len(), 1);
    // Something that is not an NVD page (an OSV record) is refused.
    let server = Server::start(|_| {
        ok_json(&json!({"id": "GHSA-xxxx-xxxx-xxxx", "schema_version": "1.6.0"}))
    });
    let err = update::update(&db, &[nvd_source(&server)], &fast())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an NVD CVE API 2.0 page"), "{err}");
    // A page larger than the total budget.
    let records = nvd_records();
    let server =
        Server::start(move |req| ok_json(&nvd_page(req, &records, "2026-06-20T08:00:00.000")));
    let mut opts = fast();
    opts.nvd.max_total_bytes = 1000;
    let err = update::update(&db, &[nvd_source(&server)], &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("budget"), "{err}");
    assert!(!db.exists());
}

#[test]
fn nvd_a_dead_server_and_the_rate_limit_are_bounded_by_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    // A database to keep.
    let mut w = Writer::fresh(&db).unwrap();
    w.import_path(&vulndata().join("nvd/cves.zip")).unwrap();
    w.commit().unwrap();
    let before = std::fs::read(&db).unwrap();

    // Accepts, never answers: the response timeout ends it.
    let server = Server::start(|_| Reply::Hang);
    let opts = Options {
        timeout: Duration::from_secs(1),
        deadline: Duration::from_secs(20),
        ..fast()
    };
    let err = update::update(&db, &[nvd_source(&server)], &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // Answers, then drips the page a byte at a time: under the minimum rate over a
    // --timeout window, abandoned.
    let records = nvd_records();
    let server = Server::start(move |req| {
        Reply::Drip(
            serde_json::to_vec(&nvd_page(req, &records, "2026-06-20T08:00:00.000")).unwrap(),
        )
    });
    let err = update::update(&db, &[nvd_source(&server)], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("slower than the 1024 bytes/s minimum"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // One request an hour allowed, three pages to fetch: the second page's wait
    // would pass the deadline, so the update stops at once instead of sleeping.
    let records = nvd_records();
    let server =
        Server::start(move |req| ok_json(&nvd_page(req, &records, "2026-06-20T08:00:00.000")));
    let mut opts = fast();
    opts.nvd.max_requests = Some(1);
    opts.nvd.rate_window = Duration::from_secs(3600);
    let err = update::update(&db, &[nvd_source(&server)], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rate limit") && err.contains("deadline"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

// ---------------------------------------------------------------------------
// cvelistV5 release archives
// ---------------------------------------------------------------------------

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// vulnrichment's records as cvelistV5 publishes its daily baseline:
/// `cves.zip` (entries `cves/YYYY/Nxxx/CVE-….json`) inside the asset zip.
fn cvelist_baseline() -> (Vec<u8>, usize) {
    let f = std::fs::File::open(vulndata().join("vulnrichment/cves.zip")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut entries = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let name = format!("cves/{}", e.name().unwrap());
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        entries.push((name, data));
    }
    let n = entries.len();
    let inner = zip_of(&entries);
    (zip_of(&[("cves.zip".to_string(), inner)]), n)
}

#[test]
fn cvelist_release_asset_zip_in_zip() {
    let (asset, n) = cvelist_baseline();
    assert_eq!(n, 2983);
    let asset = Arc::new(asset);
    let a2 = asset.clone();
    let server_addr = Arc::new(Mutex::new(String::new()));
    let s2 = server_addr.clone();
    let server = Server::start(move |req| {
        let base = s2.lock().unwrap().clone();
        match req.path.as_str() {
            "/repos/CVEProject/cvelistV5/releases/latest" => ok_json(&json!({
                "tag_name": "cve_2026-12-03_1200Z",
                "assets": [
                    {"name": "2026-12-03_delta_CVEs_at_1200Z.zip",
                     "browser_download_url": format!("{base}/releases/download/cve_2026-12-03_1200Z/2026-12-03_delta_CVEs_at_1200Z.zip")},
                    {"name": "2026-12-03_all_CVEs_at_midnight.zip.zip",
                     "browser_download_url": format!("{base}/releases/download/cve_2026-12-03_1200Z/2026-12-03_all_CVEs_at_midnight.zip.zip")},
                ]
            })),
            "/releases/download/cve_2026-12-03_1200Z/2026-12-03_all_CVEs_at_midnight.zip.zip" => {
                let etag = "\"baseline-2026-12-03\"".to_string();
                if req.headers.get("if-none-match") == Some(&etag) {
                    Reply::Send(304, vec![("ETag", etag)], Vec::new())
                } else {
                    Reply::Send(200, vec![("ETag", etag)], a2.to_vec())
                }
            }
            _ => Reply::Send(404, Vec::new(), Vec::new()),
        }
    });
    *server_addr.lock().unwrap() = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let src = Source::url(server.url("repos/CVEProject/cvelistV5/releases/latest"));
    let rep = update::update(&db, std::slice::from_ref(&src), &fast()).unwrap();
    let out = &rep.sources[0];
    assert_eq!(out.result, "updated");
    assert!(out.requests[0].ends_with("_all_CVEs_at_midnight.zip.zip"));
    let import = out.import.as_ref().unwrap();
    // The same records as vulnrichment/cves.zip imported from disk.
    let local = dir.path().join("local.db");
    let mut w = Writer::fresh(&local).unwrap();
    let direct = w
        .import_path(&vulndata().join("vulnrichment/cves.zip"))
        .unwrap();
    w.commit().unwrap();
    assert_eq!(import.other_records, direct.other_records);
    assert_eq!(import.files, direct.files);
    assert_eq!(import.skipped.len(), direct.skipped.len());
    let (a, b) = (
        Database::open_read_only(&db).unwrap(),
        Database::open_read_only(&local).unwrap(),
    );
    assert_eq!(
        a.status().unwrap().cve_records,
        b.status().unwrap().cve_records
    );
    assert!(a.status().unwrap().cve_records["cve-json-5"] > 2900);
    for id in ["CVE-2002-0391", "CVE-2023-0109", "CVE-2023-0240"] {
        assert!(a.cve(id).unwrap().is_some(), "{id}");
        assert_eq!(a.cve(id).unwrap(), b.cve(id).unwrap(), "{id}");
    }
    // Skipped entries name the asset, the nested zip and the entry.
    for s in &import.skipped {
        assert!(s.location.contains("!cves.zip!cves/"), "{}", s.location);
    }
    drop((a, b));

    // Next run: the release names the same asset; the conditional GET says 304.
    server.clear();
    let rep = update::update(&db, &[src], &fast()).unwrap();
    assert_eq!(rep.sources[0].result, "not-modified");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.headers.contains_key("if-none-match"))
    );
}

#[test]
fn nested_zips_go_one_level_deep_only() {
    let dir = tempfile::tempdir().unwrap();
    let rec = std::fs::read(vulndata().join("nvd/cves.zip")).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(rec)).unwrap();
    let mut one = Vec::new();
    z.by_index(0).unwrap().read_to_end(&mut one).unwrap();
    let level2 = zip_of(&[("CVE.json".into(), one.clone())]);
    let level1 = zip_of(&[("deeper.zip".into(), level2), ("CVE.json".into(), one)]);
    let outer = zip_of(&[("cves.zip".into(), level1)]);
    let p = dir.path().join("outer.zip.zip");
    std::fs::write(&p, outer).unwrap();
    let mut w = Writer::fresh(&dir.path().join("moat.db")).unwrap();
    let r = w.import_path(&p).unwrap();
    assert_eq!(r.other_records.get("nvd-cve-api-2"), Some(&1));
    assert_eq!(r.skipped.len(), 1);
    assert!(
        r.skipped[0]
            .location
            .ends_with("outer.zip.zip!cves.zip!deeper.zip")
            && r.skipped[0].reason.contains("one level"),
        "{:?}",
        r.skipped
    );
    // The nested zip was inflated beside the outer one and removed.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    // (The writer's own database temporary is `.moat-db-*.tmp`.)
    assert!(
        names.iter().all(|n| n.starts_with(".moat-db-")),
        "{names:?}"
    );
}

// ---------------------------------------------------------------------------
// osv.dev per-ecosystem exports
// ---------------------------------------------------------------------------

#[test]
fn osv_all_zip_with_ghsa_severity() {
    // The real RubyGems export, plus one record in the shape osv.dev exports GitHub's
    // advisories (GHSA severity in the top-level `database_specific`), built from one
    // of its real GHSA records.
    let f = std::fs::File::open(vulndata().join("osv/RubyGems/all.zip")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut entries = Vec::new();
    let mut ghsa: Option<Value> = None;
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if ghsa.is_none() && name.starts_with("GHSA-") {
            ghsa = Some(serde_json::from_slice(&data).unwrap());
            continue;
        }
        entries.push((name, data));
    }
    let mut g = ghsa.unwrap();
    let id = g["id"].as_str().unwrap().to_string();
    g["database_specific"] = json!({
        "cwe_ids": ["CWE-79"],
        "github_reviewed": true,
        "github_reviewed_at": "2026-01-05T19:00:00Z",
        "nvd_published_at": null,
        "severity": "MODERATE"
    });
    entries.push((format!("{id}.json"), serde_json::to_vec(&g).unwrap()));
    let all = Arc::new(zip_of(&entries));
    let a2 = all.clone();
    let server = Server::start(move |req| match req.path.as_str() {
        "/RubyGems/all.zip" => Reply::Send(200, vec![("ETag", "\"r1\"".into())], a2.to_vec()),
        _ => Reply::Send(404, Vec::new(), Vec::new()),
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let rep = update::update(&db, &[Source::url(server.url("RubyGems/all.zip"))], &fast()).unwrap();
    let import = rep.sources[0].import.as_ref().unwrap();
    // As the same archive imported from disk.
    let file = dir.path().join("all.zip");
    std::fs::write(&file, all.as_slice()).unwrap();
    let mut w = Writer::fresh(&dir.path().join("local.db")).unwrap();
    let direct = w.import_path(&file).unwrap();
    drop(w);
    assert_eq!(import.ecosystems, direct.ecosystems);
    assert_eq!(import.skipped.len(), direct.skipped.len());
    assert_eq!(
        import.ecosystems.get("RubyGems").copied().unwrap() + import.skipped.len(),
        entries.len()
    );
    let d = Database::open_read_only(&db).unwrap();
    let adv = d.advisory(&id).unwrap();
    assert_eq!(adv.len(), 1);
    let vendor: Vec<_> = adv[0]
        .severity
        .iter()
        .filter(|s| s.kind == "vendor")
        .collect();
    assert_eq!(vendor.len(), 1, "{:?}", adv[0].severity);
    assert_eq!(vendor[0].vector, "MODERATE");
    assert_eq!(vendor[0].rating, moat_model::Severity::Medium);
}

#[test]
fn source_kinds_in_the_sources_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sources.toml");
    std::fs::write(
        &p,
        format!(
            "[[source]]\nurl = \"{}\"\n[[source]]\nurl = \"http://mirror.example/nvd\"\nkind = \"nvd-api\"\n[[source]]\nurl = \"{}\"\n",
            update::NVD_CVE_API,
            update::CVELIST_LATEST_RELEASE
        ),
    )
    .unwrap();
    let c = update::Config::load(&p).unwrap();
    assert_eq!(c.sources.len(), 3);
    std::fs::write(&p, "[[source]]\nurl = \"x\"\nkind = \"nvd\"\n").unwrap();
    let err = update::Config::load(&p).unwrap_err().to_string();
    assert!(
        err.contains("nvd-api") && err.contains("cvelist-release"),
        "{err}"
    );
}
