//! `moat db import / status / query / update` through the binary, on real data
//! from ../shared/vulndata.

#![allow(clippy::unwrap_used)] // tests

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn vulndata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vulndata"
    ))
}

fn moat(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_moat"));
    c.args(args)
        .env_remove("MOAT_DB")
        .env_remove("MOAT_CACHE_DIR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Entries in a zip archive, from its end-of-central-directory record.
fn zip_count(rel: &str) -> usize {
    let b = std::fs::read(vulndata().join(rel)).unwrap();
    let at = (0..b.len() - 21)
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .unwrap();
    u16::from_le_bytes([b[at + 10], b[at + 11]]) as usize
}

#[test]
fn import_status_query_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x/moat.db");
    let db_s = db.to_str().unwrap();
    let crates = vulndata().join("osv/crates.io/all.zip");
    let secdb = vulndata().join("alpine-secdb/v3.21/main.json");
    let out = moat(
        &[
            "--db",
            db_s,
            "db",
            "import",
            crates.to_str().unwrap(),
            secdb.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let n = zip_count("osv/crates.io/all.zip");
    assert!(
        stdout.contains(&format!("stored {n} (osv {n})")),
        "{stdout}"
    );
    assert!(stdout.contains("alpine-secdb"), "{stdout}");

    let out = moat(&["--db", db_s, "db", "status", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        out.stderr.is_empty(),
        "fresh database must not warn: {}",
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["path"], db_s);
    assert_eq!(v["sources"]["osv"], n);
    assert!(v["sources"]["alpine-secdb"].as_u64().unwrap() > 1000);
    assert_eq!(v["ecosystems"]["crates.io"], n);
    assert_eq!(v["stale"], false);
    assert!(v["age_seconds"].as_i64().unwrap() < 600);
    assert_eq!(v["origins"].as_array().unwrap().len(), 2);

    let out = moat(&["--db", db_s, "db", "status"], &[]);
    let t = text(&out.stdout);
    assert!(
        t.contains("schema version: 2") && t.contains("last update:") && t.contains("crates.io"),
        "{t}"
    );

    // Query: openssl in Alpine 3.21 at a version before its first fix.
    let out = moat(
        &[
            "--db",
            db_s,
            "db",
            "query",
            "Alpine:v3.21",
            "openssl",
            "--version",
            "1.0.0-r0",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let advs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(advs.as_array().unwrap().len() > 20);
    assert!(
        advs.as_array()
            .unwrap()
            .iter()
            .all(|a| a["source"] == "alpine-secdb")
    );
}

#[test]
fn moat_db_env_and_default_location() {
    let dir = tempfile::tempdir().unwrap();
    let secdb = vulndata().join("alpine-secdb/v3.2/main.json");
    // MOAT_DB names the database.
    let via_env = dir.path().join("env.db");
    let out = moat(
        &["db", "import", secdb.to_str().unwrap()],
        &[("MOAT_DB", &via_env)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(via_env.exists());
    // Without --db / MOAT_DB: <cache dir>/db/moat.db.
    let cache = dir.path().join("cache");
    let out = moat(
        &["db", "import", secdb.to_str().unwrap()],
        &[("MOAT_CACHE_DIR", &cache)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(cache.join("db/moat.db").exists());
}

#[test]
fn stale_database_warns_but_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let secdb = vulndata().join("alpine-secdb/v3.2/main.json");
    let db_s = db.to_str().unwrap();
    assert_eq!(
        moat(
            &["--db", db_s, "db", "import", secdb.to_str().unwrap()],
            &[]
        )
        .status
        .code(),
        Some(0)
    );
    std::thread::sleep(Duration::from_millis(2100));
    let out = moat(
        &[
            "--db",
            db_s,
            "db",
            "status",
            "--max-age",
            "1s",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("moat: warning:") && err.contains("older than 1s"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stale"], true);
    // A bad --max-age is an error.
    let out = moat(&["--db", db_s, "db", "status", "--max-age", "soon"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_inputs_exit_2_and_leave_the_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let db_s = db.to_str().unwrap();
    let secdb = vulndata().join("alpine-secdb/v3.2/main.json");
    assert_eq!(
        moat(
            &["--db", db_s, "db", "import", secdb.to_str().unwrap()],
            &[]
        )
        .status
        .code(),
        Some(0)
    );
    let before = std::fs::read(&db).unwrap();

    let bad = dir.path().join("broken-advisory.json");
    std::fs::write(&bad, b"{\"id\": \"GO-2020-0001\", \"affected\": [{").unwrap();
    // A good file first, then the broken one: nothing of the import is kept.
    let good = vulndata().join("alpine-secdb/v3.3/main.json");
    let out = moat(
        &[
            "--db",
            db_s,
            "db",
            "import",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("moat: error:")
            && err.contains("broken-advisory.json")
            && err.contains("malformed JSON"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let missing = dir.path().join("no-such-dir");
    let out = moat(
        &["--db", db_s, "db", "import", missing.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no-such-dir"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // Not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"hello").unwrap();
    let out = moat(&["--db", junk.to_str().unwrap(), "db", "status"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("junk.db"),
        "{}",
        text(&out.stderr)
    );
    // No database yet.
    let out = moat(
        &[
            "--db",
            dir.path().join("none.db").to_str().unwrap(),
            "db",
            "status",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("moat db update"),
        "{}",
        text(&out.stderr)
    );
    // An invalid advisory inside a good directory is reported and skipped, exit 0.
    let d = dir.path().join("osv");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("x.json"), br#"{"id":"X-1","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"1.0"}]}]}]}"#).unwrap();
    let out = moat(
        &[
            "--db",
            db_s,
            "db",
            "import",
            "--verbose",
            d.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(
        t.contains("skipped 1 (range has no \"introduced\" event 1)")
            && t.contains("skipped X-1")
            && t.contains("introduced"),
        "{t}"
    );
}

/// A loopback server that serves one file, sending half of it and then stalling
/// (the test kills the client in the middle of the download).
fn stalling_server(file: PathBuf, sent_half: Arc<AtomicBool>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let body = std::fs::read(&file).unwrap();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"new\"\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(&body[..body.len() / 2]);
            let _ = conn.flush();
            sent_half.store(true, Ordering::SeqCst);
            // Hold the connection open until the client goes away.
            let mut sink = [0u8; 64];
            let _ = conn.read(&mut sink);
        }
    });
    addr
}

#[test]
fn update_killed_mid_download_keeps_the_previous_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let db_s = db.to_str().unwrap();
    let zip = vulndata().join("osv/crates.io/all.zip");
    assert_eq!(
        moat(&["--db", db_s, "db", "import", zip.to_str().unwrap()], &[])
            .status
            .code(),
        Some(0)
    );
    let before = std::fs::read(&db).unwrap();
    let query = |db_s: &str| {
        let out = moat(
            &[
                "--db",
                db_s,
                "db",
                "query",
                "crates.io",
                "smallvec",
                "--format",
                "json",
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out.stdout
    };
    let answer = query(db_s);
    assert!(
        serde_json::from_slice::<Value>(&answer)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
            >= 3
    );

    let sent_half = Arc::new(AtomicBool::new(false));
    let addr = stalling_server(vulndata().join("osv/Go/all.zip"), sent_half.clone());
    let url = format!("http://{addr}/Go/all.zip");
    let mut child = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args([
            "--db",
            db_s,
            "db",
            "update",
            "--source",
            &url,
            "--timeout",
            "60",
        ])
        .env_remove("MOAT_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !sent_half.load(Ordering::SeqCst) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the update never started downloading"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap(); // SIGKILL: no destructor runs
    let _ = child.wait();

    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert_eq!(query(db_s), answer);
    let out = moat(&["--db", db_s, "db", "status", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"]["osv"], zip_count("osv/crates.io/all.zip"));

    // SIGKILL left its temporary files; once they are old, the next import removes them.
    let leftovers = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
            .collect()
    };
    let left = leftovers(dir.path());
    assert!(!left.is_empty());
    let recent = moat(&["--db", db_s, "db", "import", zip.to_str().unwrap()], &[]);
    assert_eq!(recent.status.code(), Some(0));
    assert_eq!(
        leftovers(dir.path()),
        left,
        "young temporaries may belong to a running update"
    );
    let old = std::time::SystemTime::now() - Duration::from_secs(2 * 86_400);
    for p in &left {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let out = moat(&["--db", db_s, "db", "import", zip.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(leftovers(dir.path()).is_empty());
}

/// Issue 13: one summary line per source with the skipped records by reason; the
/// records themselves only with --verbose; CVE records counted by format.
#[test]
fn import_prints_one_line_per_source_and_lists_skips_only_when_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    let pypi = vulndata().join("osv/PyPI/all.zip");
    let cves = vulndata().join("vulnrichment/cves.zip");
    let args = |verbose: bool| {
        let mut a = vec![
            "db".to_string(),
            "import".into(),
            "--db".into(),
            db.display().to_string(),
        ];
        if verbose {
            a.push("--verbose".into());
        }
        a.push(pypi.display().to_string());
        a.push(cves.display().to_string());
        a
    };
    let run = |verbose: bool| {
        let a = args(verbose);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = moat(&a, &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let quiet = run(false);
    let line = quiet
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{}:", pypi.display())))
        .unwrap_or_else(|| panic!("no summary line for the PyPI zip in {quiet}"));
    // The PyPI zip has two records whose ranges are not PEP 440 (PYSEC-2019-125,
    // PYSEC-2021-371): counted under their reason, not listed.
    assert!(
        line.contains(&format!("{} records", zip_count("osv/PyPI/all.zip") - 2)),
        "{line}"
    );
    assert!(
        line.contains("skipped 2 (invalid Pep440 version 2)"),
        "{line}"
    );
    assert!(!quiet.contains("PYSEC-2019-125"), "{quiet}");
    assert!(
        quiet.contains(&format!(
            "cve-json-5 {}",
            zip_count("vulnrichment/cves.zip")
        )),
        "{quiet}"
    );
    let verbose = run(true);
    assert!(verbose.contains("skipped PYSEC-2019-125"), "{verbose}");
    assert!(verbose.contains("skipped PYSEC-2021-371"), "{verbose}");
}

/// A database of an older schema (moat upgraded) is rebuilt by `db import`, with a
/// note, instead of refusing the one command that can rebuild it; a file that is not
/// a moat database is still refused and left alone.
#[test]
fn import_rebuilds_a_database_of_an_older_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("moat.db");
    // An empty schema-1 database, as moat 0.1 wrote its meta table.
    let made = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)\"); c.execute(\"INSERT INTO meta VALUES ('schema_version', '1')\"); c.commit()")
        .arg(&db)
        .status()
        .unwrap();
    assert!(made.success());
    let crates = vulndata().join("osv/crates.io/all.zip");
    let out = moat(
        &[
            "--db",
            db.to_str().unwrap(),
            "db",
            "import",
            crates.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("schema 1"),
        "{}",
        text(&out.stderr)
    );
    let out = moat(
        &[
            "--db",
            db.to_str().unwrap(),
            "db",
            "status",
            "--format",
            "json",
        ],
        &[],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["sources"]["osv"], zip_count("osv/crates.io/all.zip"));

    let foreign = dir.path().join("foreign.db");
    std::fs::write(&foreign, b"not a database at all").unwrap();
    let out = moat(
        &[
            "--db",
            foreign.to_str().unwrap(),
            "db",
            "import",
            crates.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&foreign).unwrap(), b"not a database at all");
}
