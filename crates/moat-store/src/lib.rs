//! The durable, append-only store of runtime records that `moat monitor`, `moat respond`
//! and `moat serve` share.
//!
//! A [`Record`] is general: a `kind` (`event`, `alert`, `dropped`, `action`, …), a time in
//! unix nanoseconds, an optional container id, rule and severity (the indexed columns), an
//! optional deduplication `key`, and a JSON `body` that the producer owns.
//!
//! Two sinks, written in this order for every batch:
//!
//! 1. [`Store`]: one SQLite file in WAL mode with indexes on time, container, rule and kind.
//!    [`Store::append`] writes a batch and the producers' *cursors* (for example the time
//!    of the last Docker event read) in one transaction, so after a crash the cursor and
//!    the records agree: a restarted producer resumes from the cursor and re-sends at most
//!    what it had not committed. A record whose `key` is already stored is dropped (counted
//!    in [`Appended::duplicates`]), which makes re-sent records harmless: each is stored
//!    exactly once.
//! 2. [`JsonlLog`]: an append-only JSON Lines file (one record per line, the records that
//!    were new in the store), flushed and `fsync`ed once per batch, rotated by size and age
//!    into `NAME.YYYYMMDDTHHMMSSZ.N.jsonl` beside it, keeping at most `max_files` rotated
//!    files.
//!
//! ```no_run
//! use moat_store::{Record, Store, Query};
//! # fn main() -> Result<(), moat_store::StoreError> {
//! let mut store = Store::open("/var/lib/moat/store.db".as_ref())?;
//! let rec = Record::new("action", 1_700_000_000_000_000_000, serde_json::json!({"did": "pause"}))
//!     .container("3f2a…")
//!     .key("respond:pause:3f2a:1700000000");
//! let out = store.append(&[rec], &[("respond", "1700000000")])?;
//! assert_eq!(out.inserted.len(), 1);
//! let recent = store.query(&Query { kind: Some("action".into()), ..Query::default() })?;
//! # let _ = recent; Ok(()) }
//! ```
//!
//! Bounds: a body is at most [`MAX_BODY_BYTES`] bytes of JSON (a larger record is refused,
//! naming its kind and key); a query returns at most [`Query::limit`] records (default
//! [`DEFAULT_QUERY_LIMIT`]).

#![forbid(unsafe_code)]

mod jsonl;
mod time_arg;

pub use jsonl::{JsonlLog, Rotation};
pub use time_arg::{format_rfc3339_ns, parse_time_arg};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The largest JSON body a record may have.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Records a query returns when it names no limit.
pub const DEFAULT_QUERY_LIMIT: usize = 10_000;

/// What went wrong with the store or the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A record is too large.
    #[error("record of kind {kind:?} (key {key:?}) has a {size}-byte body; at most {max} allowed")]
    TooLarge {
        kind: String,
        key: Option<String>,
        size: usize,
        max: usize,
    },
    /// A stored body is not JSON (the file was edited or damaged).
    #[error("{path}: record {seq}: body is not JSON: {source}")]
    Corrupt {
        path: PathBuf,
        seq: i64,
        #[source]
        source: serde_json::Error,
    },
    /// A time argument could not be read.
    #[error(
        "cannot read time {0:?} (expected RFC 3339, e.g. 2026-12-03T18:00:00Z, or unix seconds)"
    )]
    BadTime(String),
}

/// One stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Its position in the store (0 until stored; increasing in append order).
    #[serde(default)]
    pub seq: i64,
    /// When it happened, unix nanoseconds.
    pub time_ns: i64,
    /// What it is: `event`, `alert`, `dropped`, `action`, … (the producer's vocabulary).
    pub kind: String,
    /// The container it concerns (full id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The rule that produced it (alerts), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Its severity (alerts), upper case, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The deduplication key: a record whose key is already stored is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The producer's JSON.
    pub body: serde_json::Value,
}

impl Record {
    /// A record of `kind` at `time_ns` with `body`; no container, rule, severity or key.
    pub fn new(kind: &str, time_ns: i64, body: serde_json::Value) -> Record {
        Record {
            seq: 0,
            time_ns,
            kind: kind.to_string(),
            container: None,
            rule: None,
            severity: None,
            key: None,
            body,
        }
    }

    /// With the container id.
    pub fn container(mut self, id: &str) -> Record {
        self.container = Some(id.to_string());
        self
    }

    /// With the rule name.
    pub fn rule(mut self, rule: &str) -> Record {
        self.rule = Some(rule.to_string());
        self
    }

    /// With the severity.
    pub fn severity(mut self, severity: &str) -> Record {
        self.severity = Some(severity.to_string());
        self
    }

    /// With the deduplication key.
    pub fn key(mut self, key: &str) -> Record {
        self.key = Some(key.to_string());
        self
    }
}

/// What [`Store::append`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Appended {
    /// The records that were new, with their `seq` set.
    pub inserted: Vec<Record>,
    /// Records dropped because their key was already stored.
    pub duplicates: usize,
}

/// A query over the store; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// At or after this time (unix ns).
    pub since_ns: Option<i64>,
    /// At or before this time (unix ns).
    pub until_ns: Option<i64>,
    /// Container id, id prefix (at least 1 character) or name (matched in the body's
    /// `container.name`).
    pub container: Option<String>,
    /// Rule name.
    pub rule: Option<String>,
    /// Minimum severity (one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL), alerts only.
    pub severity: Option<String>,
    /// Record kind.
    pub kind: Option<String>,
    /// The body's `type` (an event's `evt.type`: `exec_create`, `connect`…).
    pub event_type: Option<String>,
    /// Only records appended after this position (`seq`), in append order rather than
    /// by time: how a reader follows the store (`moat agent`).
    pub after_seq: Option<i64>,
    /// At most this many records ([`DEFAULT_QUERY_LIMIT`] when `None`).
    pub limit: Option<usize>,
}

/// The SQLite store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    container TEXT,
    rule TEXT,
    severity TEXT,
    key TEXT UNIQUE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_time ON records(time_ns);
CREATE INDEX IF NOT EXISTS records_container ON records(container, time_ns);
CREATE INDEX IF NOT EXISTS records_rule ON records(rule, time_ns);
CREATE INDEX IF NOT EXISTS records_kind ON records(kind, time_ns);
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

fn severity_rank(s: &str) -> Option<i64> {
    match s.trim().to_ascii_uppercase().as_str() {
        "UNKNOWN" => Some(0),
        "LOW" => Some(1),
        "MEDIUM" => Some(2),
        "HIGH" => Some(3),
        "CRITICAL" => Some(4),
        _ => None,
    }
}

impl Store {
    /// Opens (creating it and its directory when missing) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let sql = |source| StoreError::Sql {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // WAL + NORMAL loses nothing committed on a crash of moat; FULL also survives a
        // power cut at the price of an fsync per commit: one per batch, so take it.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing store for reading (does not create it).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such store"),
            });
        }
        Store::open(path)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends `records` and sets `cursors` (`(source, value)`) in one transaction.
    /// Records whose key is already stored are dropped and counted.
    pub fn append(
        &mut self,
        records: &[Record],
        cursors: &[(&str, &str)],
    ) -> Result<Appended, StoreError> {
        let mut bodies = Vec::with_capacity(records.len());
        for r in records {
            let body = serde_json::to_string(&r.body).map_err(|e| StoreError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            if body.len() > MAX_BODY_BYTES {
                return Err(StoreError::TooLarge {
                    kind: r.kind.clone(),
                    key: r.key.clone(),
                    size: body.len(),
                    max: MAX_BODY_BYTES,
                });
            }
            bodies.push(body);
        }
        let path = self.path.clone();
        let sql = move |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(&sql)?;
        let mut out = Appended::default();
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO records (time_ns, kind, container, rule, severity, key, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(&sql)?;
            for (r, body) in records.iter().zip(&bodies) {
                let n = ins
                    .execute(params![
                        r.time_ns,
                        r.kind,
                        r.container,
                        r.rule,
                        r.severity,
                        r.key,
                        body
                    ])
                    .map_err(&sql)?;
                if n == 0 {
                    out.duplicates += 1;
                } else {
                    let mut stored = r.clone();
                    stored.seq = tx.last_insert_rowid();
                    out.inserted.push(stored);
                }
            }
            let mut cur = tx
                .prepare_cached(
                    "INSERT INTO cursors (source, value) VALUES (?1, ?2)
                     ON CONFLICT(source) DO UPDATE SET value = excluded.value",
                )
                .map_err(&sql)?;
            for (source, value) in cursors {
                cur.execute(params![source, value]).map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)?;
        Ok(out)
    }

    /// The stored cursor of `source`, if any.
    pub fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM cursors WHERE source = ?1",
                params![source],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.sql())
    }

    /// How many records have this key (0 or 1).
    pub fn has_key(&self, key: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM records WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    /// The records matching `q`, oldest first (by time, then append order).
    pub fn query(&self, q: &Query) -> Result<Vec<Record>, StoreError> {
        let mut sql = String::from(
            "SELECT seq, time_ns, kind, container, rule, severity, key, body FROM records WHERE 1=1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        use rusqlite::types::Value as V;
        if let Some(t) = q.since_ns {
            sql.push_str(" AND time_ns >= ?");
            args.push(V::Integer(t));
        }
        if let Some(t) = q.until_ns {
            sql.push_str(" AND time_ns <= ?");
            args.push(V::Integer(t));
        }
        if let Some(c) = &q.container {
            sql.push_str(
                " AND (container = ? OR (length(?) > 0 AND substr(container, 1, length(?)) = ?)
                  OR json_extract(body, '$.container.name') = ?)",
            );
            for _ in 0..5 {
                args.push(V::Text(c.clone()));
            }
        }
        if let Some(r) = &q.rule {
            sql.push_str(" AND rule = ?");
            args.push(V::Text(r.clone()));
        }
        if let Some(s) = &q.severity {
            let min = severity_rank(s).ok_or_else(|| StoreError::Io {
                path: self.path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "unknown severity {s:?} (expected UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL)"
                    ),
                ),
            })?;
            sql.push_str(
                " AND (CASE upper(severity) WHEN 'UNKNOWN' THEN 0 WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2
                   WHEN 'HIGH' THEN 3 WHEN 'CRITICAL' THEN 4 ELSE -1 END) >= ?",
            );
            args.push(V::Integer(min));
        }
        if let Some(k) = &q.kind {
            sql.push_str(" AND kind = ?");
            args.push(V::Text(k.clone()));
        }
        if let Some(t) = &q.event_type {
            sql.push_str(" AND json_extract(body, '$.type') = ?");
            args.push(V::Text(t.clone()));
        }
        if let Some(after) = q.after_seq {
            sql.push_str(" AND seq > ? ORDER BY seq LIMIT ?");
            args.push(V::Integer(after));
        } else {
            sql.push_str(" ORDER BY time_ns, seq LIMIT ?");
        }
        let limit = q.limit.unwrap_or(DEFAULT_QUERY_LIMIT);
        args.push(V::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let mut stmt = self.conn.prepare(&sql).map_err(self.sql())?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, String>(7)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, time_ns, kind, container, rule, severity, key, body) =
                row.map_err(self.sql())?;
            let body = serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                seq,
                source,
            })?;
            out.push(Record {
                seq,
                time_ns,
                kind,
                container,
                rule,
                severity,
                key,
                body,
            });
        }
        Ok(out)
    }

    /// Number of stored records.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM records", [], |row| row.get(0))
            .map_err(self.sql())?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }
}
