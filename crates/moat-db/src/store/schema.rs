//! The schema: its version, the tables, and the JSON column helpers.

use crate::Result;
use crate::error::Error;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// The schema this build reads and writes. A database of another version is
/// refused (rebuild it with `moat db update` or `moat db import`).
pub const SCHEMA_VERSION: i64 = 2;

pub(super) const SCHEMA: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE origins (
    id INTEGER PRIMARY KEY,
    location TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    fetched_at INTEGER NOT NULL,
    records INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE advisories (
    rowid INTEGER PRIMARY KEY,
    origin INTEGER NOT NULL,
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    modified TEXT,
    published TEXT,
    withdrawn TEXT,
    summary TEXT,
    details TEXT,
    aliases TEXT,
    upstream TEXT,
    related TEXT,
    refs TEXT,
    severity TEXT,
    UNIQUE (source, scope, id)
);
CREATE INDEX advisories_id ON advisories (id);
CREATE INDEX advisories_origin ON advisories (origin);
-- The light rows a matcher scans, clustered by package so one lookup reads
-- one or two pages: what it needs to decide (ranges, versions) and to name the
-- advisory, without touching the advisories table.
CREATE TABLE affected (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    advisory_id TEXT NOT NULL,
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    name_orig TEXT NOT NULL,
    ranges TEXT,
    versions TEXT,
    PRIMARY KEY (ecosystem, name, advisory, idx)
) WITHOUT ROWID;
CREATE INDEX affected_advisory ON affected (advisory);
-- The rest of each affected entry, read only for full advisories.
CREATE TABLE affected_extra (
    advisory INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    purl TEXT,
    severity TEXT,
    database_specific TEXT,
    PRIMARY KEY (advisory, idx)
) WITHOUT ROWID;
-- CVE records (CVE JSON 5, NVD CVE API 2.0): ratings, CWEs, KEV; one row per CVE and
-- format, the record as JSON (`CveRecord`), merged across formats when read.
CREATE TABLE cve_records (
    id TEXT NOT NULL,
    format TEXT NOT NULL,
    origin INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (id, format)
) WITHOUT ROWID;
CREATE INDEX cve_records_origin ON cve_records (origin);
-- Every CVE id an advisory names (its id, aliases, upstream): the other records of
-- the same CVE, for their ratings.
CREATE TABLE cve_refs (
    cve TEXT NOT NULL,
    advisory INTEGER NOT NULL,
    PRIMARY KEY (cve, advisory)
) WITHOUT ROWID;
CREATE INDEX cve_refs_advisory ON cve_refs (advisory);
"#;

/// Now, in seconds since the epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A JSON column: NULL for an empty list.
pub(super) fn json_list<T: Serialize>(v: &[T]) -> Option<String> {
    if v.is_empty() {
        None
    } else {
        serde_json::to_string(v).ok()
    }
}

pub(super) fn from_json<T: DeserializeOwned + Default>(s: Option<String>) -> T {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// The schema version of a moat database at `path` when it is an older one than this
/// build's (a database `moat db import`/`update` rebuild from scratch); `None` for
/// the current version, a newer one, or a file that is not a moat database.
pub(super) fn older_schema(path: &Path) -> Option<i64> {
    let conn =
        Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let v: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .ok()?;
    let v: i64 = v.parse().ok()?;
    (v < SCHEMA_VERSION).then_some(v)
}

pub(super) fn check_schema(conn: &Connection, path: &Path) -> Result<()> {
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| Error::NotADatabase {
            path: path.to_path_buf(),
            reason: format!("not a moat advisory database ({e})"),
        })?;
    match v {
        Some(v) if v == SCHEMA_VERSION.to_string() => Ok(()),
        Some(v) => Err(Error::NotADatabase {
            path: path.to_path_buf(),
            reason: format!(
                "database schema version {v}, this moat reads {SCHEMA_VERSION}: rebuild it with `moat db update` or `moat db import`"
            ),
        }),
        None => Err(Error::NotADatabase {
            path: path.to_path_buf(),
            reason: "not a moat advisory database (no schema version)".into(),
        }),
    }
}
