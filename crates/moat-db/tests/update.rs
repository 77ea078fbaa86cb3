//! `update` against a loopback HTTP server that serves ../shared/vulndata in its
//! published layout (a tiny std::net server written here: no network is used, the
//! real upstream URLs are never contacted). The server can be killed in the middle
//! of a response body.

#![allow(clippy::unwrap_used)] // tests

use moat_db::update::{self, Options, Source};
use moat_db::{Database, Writer};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn vulndata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vulndata"
    ))
}

#[derive(Default)]
struct State {
    /// Part of the ETag: bump it to make every file "change".
    generation: u32,
    /// Die (close the listener, cut the body at half) when serving this path.
    kill_on: Option<String>,
    /// (path, If-None-Match) of every request.
    log: Vec<(String, Option<String>)>,
}

struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if !serve(conn, &root, &st) {
                    return; // killed: the listener is dropped with this thread
                }
            }
        });
        Server { addr, state }
    }

    fn url(&self, rel: &str) -> String {
        format!("http://{}/{rel}", self.addr)
    }
}

/// Serve one request; false when the server was told to die.
fn serve(mut conn: TcpStream, root: &Path, st: &Mutex<State>) -> bool {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return true;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut inm = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("if-none-match")
        {
            inm = Some(v.trim().to_string());
        }
    }
    let (generation, kill) = {
        let mut s = st.lock().unwrap();
        s.log.push((path.clone(), inm.clone()));
        (s.generation, s.kill_on.as_deref() == Some(path.as_str()))
    };
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|c| c == "..") {
        let _ = conn
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return true;
    }
    let Ok(body) = std::fs::read(root.join(rel)) else {
        let _ = conn
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return true;
    };
    let etag = format!("\"g{generation}-{}\"", body.len());
    if inm.as_deref() == Some(etag.as_str()) {
        let _ = write!(
            conn,
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
        );
        return true;
    }
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nLast-Modified: Sat, 28 Nov 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if kill {
        let _ = conn.write_all(&body[..body.len() / 2]);
        let _ = conn.flush();
        return false; // the connection and the listener close here
    }
    let _ = conn.write_all(&body);
    true
}

const SOURCES: &[&str] = &[
    "osv/Debian/all.zip",
    "osv/crates.io/all.zip",
    "osv/PyPI/all.zip",
    "alpine-secdb/v3.21/main.json",
    "alpine-secdb/v3.21/community.json",
];

/// Every package's light entries: what a matcher would ask.
fn all_answers(db: &Database) -> Vec<(String, String, Vec<String>)> {
    db.packages()
        .unwrap()
        .into_iter()
        .map(|(eco, name)| {
            let ids = db
                .affected_for(&eco, &name)
                .unwrap()
                .into_iter()
                .map(|e| format!("{} {:?} {:?}", e.advisory_id, e.ranges, e.versions))
                .collect();
            (eco, name, ids)
        })
        .collect()
}

#[test]
fn update_imports_then_revalidates_with_etags() {
    let server = Server::start(vulndata());
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("cache/db/moat.db");
    let sources: Vec<Source> = SOURCES.iter().map(|s| Source::url(server.url(s))).collect();
    let first = update::update(&db_path, &sources, &Options::default()).unwrap();
    assert!(first.sources.iter().all(|s| s.result == "updated"));

    // The same files imported from disk give the same database content.
    let local = dir.path().join("local.db");
    let mut w = Writer::fresh(&local).unwrap();
    for s in SOURCES {
        w.import_path(&vulndata().join(s)).unwrap();
    }
    w.commit().unwrap();
    let a = Database::open_read_only(&db_path).unwrap();
    let b = Database::open_read_only(&local).unwrap();
    assert_eq!(a.status().unwrap().sources, b.status().unwrap().sources);
    assert_eq!(
        a.status().unwrap().ecosystems,
        b.status().unwrap().ecosystems
    );
    assert_eq!(all_answers(&a), all_answers(&b));
    let st = a.status().unwrap();
    assert_eq!(st.origins.len(), SOURCES.len());
    assert!(
        st.origins
            .iter()
            .all(|o| o.etag.is_some() && o.last_modified.is_some())
    );
    drop(a);

    // Second run: conditional GETs, all 304, nothing re-imported.
    server.state.lock().unwrap().log.clear();
    let second = update::update(&db_path, &sources, &Options::default()).unwrap();
    assert!(
        second.sources.iter().all(|s| s.result == "not-modified"),
        "{:?}",
        second.sources
    );
    assert!(
        server
            .state
            .lock()
            .unwrap()
            .log
            .iter()
            .all(|(_, inm)| inm.is_some())
    );
    assert_eq!(second.status.sources, st.sources);
    assert!(second.status.last_update >= st.last_update);

    // --force ignores the validators.
    let forced = update::update(
        &db_path,
        &sources[1..2],
        &Options {
            force: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(forced.sources[0].result, "updated");
    assert_eq!(forced.status.sources, st.sources);
}

#[test]
fn server_killed_mid_download_leaves_previous_database_answering() {
    let server = Server::start(vulndata());
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("moat.db");
    let sources: Vec<Source> = SOURCES.iter().map(|s| Source::url(server.url(s))).collect();
    update::update(&db_path, &sources, &Options::default()).unwrap();
    let before_bytes = std::fs::read(&db_path).unwrap();
    let before = all_answers(&Database::open_read_only(&db_path).unwrap());
    assert!(before.len() > 3000, "{}", before.len());

    // Everything changed upstream; the server dies half-way through the PyPI zip,
    // after the Debian and crates.io zips were downloaded and imported into the new file.
    {
        let mut s = server.state.lock().unwrap();
        s.generation += 1;
        s.kill_on = Some("/osv/PyPI/all.zip".into());
    }
    // A reader that has the database open during the update keeps working.
    let reader = Database::open_read_only(&db_path).unwrap();
    let err = update::update(&db_path, &sources, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("PyPI/all.zip"), "{err}");
    assert_eq!(all_answers(&reader), before);

    // The file is byte-for-byte the old one, and answers every query as before.
    assert_eq!(std::fs::read(&db_path).unwrap(), before_bytes);
    let db = Database::open_read_only(&db_path).unwrap();
    assert_eq!(all_answers(&db), before);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["moat.db"]);

    // The server is really gone: the next update fails to connect, still harmlessly.
    let err = update::update(&db_path, &sources, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1"), "{err}");
    assert_eq!(std::fs::read(&db_path).unwrap(), before_bytes);
}

#[test]
fn a_truncated_body_is_never_imported() {
    // A server that sends half a zip and closes without a Content-Length mismatch
    // check would leave a broken archive; the zip reader refuses it.
    let dir = tempfile::tempdir().unwrap();
    let half = dir.path().join("half.zip");
    let zip = std::fs::read(vulndata().join("osv/crates.io/all.zip")).unwrap();
    std::fs::write(&half, &zip[..zip.len() / 2]).unwrap();
    let db_path = dir.path().join("moat.db");
    let mut w = Writer::fresh(&db_path).unwrap();
    let err = w.import_path(&half).unwrap_err().to_string();
    assert!(err.contains("half.zip") && err.contains("zip"), "{err}");
    drop(w);
    assert!(!db_path.exists());
}
