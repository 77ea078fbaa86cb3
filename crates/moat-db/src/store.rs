//! The SQLite store: schema, the read-only [`Database`] and the [`Writer`].

use crate::Result;
use crate::error::Error;
use crate::eval::affected_by;
use crate::import::{self, ImportReport, InputKind, Unit};
use crate::model::{Advisory, Affected, AffectedEntry, Range, Reference, SeverityScore};
use crate::normalize::normalize_name;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The schema this build reads and writes. A database of another version is
/// refused (rebuild it with `moat db update` or `moat db import`).
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
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
"#;

/// Now, in seconds since the epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A JSON column: NULL for an empty list.
fn json_list<T: Serialize>(v: &[T]) -> Option<String> {
    if v.is_empty() {
        None
    } else {
        serde_json::to_string(v).ok()
    }
}

fn from_json<T: DeserializeOwned + Default>(s: Option<String>) -> T {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

fn check_schema(conn: &Connection, path: &Path) -> Result<()> {
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

/// One origin (an imported path or a downloaded URL) as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginStatus {
    pub location: String,
    pub kind: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// When it was last imported or confirmed unchanged (seconds since the epoch).
    pub fetched_at: i64,
    pub records: i64,
    pub skipped: i64,
}

/// What `moat db status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub path: PathBuf,
    pub schema_version: i64,
    pub size_bytes: u64,
    /// When the database was created (seconds since the epoch).
    pub created_at: Option<i64>,
    /// When its content last changed or was confirmed current (seconds since the epoch).
    pub last_update: Option<i64>,
    pub advisories: i64,
    pub withdrawn: i64,
    /// Advisories per source (`osv`, `alpine-secdb`).
    pub sources: BTreeMap<String, i64>,
    /// Advisories per ecosystem of their affected entries.
    pub ecosystems: BTreeMap<String, i64>,
    pub origins: Vec<OriginStatus>,
}

/// A database opened read-only.
pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// Open read-only: no write lock, nothing loaded up front.
    pub fn open_read_only(path: &Path) -> Result<Database> {
        if !path.exists() {
            return Err(Error::Missing {
                path: path.to_path_buf(),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::sql(path, e))?;
        // Map the file instead of copying pages through read(2); a query then costs
        // page-cache lookups only. Best effort: ignored where mmap is unavailable.
        // Writers never change a database file in place (they rename a new one over
        // it), so the shared lock can be kept after the first read instead of being
        // taken and dropped (two fcntl calls and a stat) around every query.
        let _ =
            conn.execute_batch("PRAGMA mmap_size = 1073741824; PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = MEMORY;");
        conn.set_prepared_statement_cache_capacity(32);
        check_schema(&conn, path)?;
        Ok(Database {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The file this database was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::sql(&self.path, e)
    }

    /// The light affected entries of a package: what a matcher scans first.
    /// `package` is normalized with [`normalize_name`]. Sorted by advisory id.
    pub fn affected_for(&self, ecosystem: &str, package: &str) -> Result<Vec<AffectedEntry>> {
        let name = normalize_name(ecosystem, package);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT advisory_id, source, scope, withdrawn, ecosystem, name_orig, ranges, versions, advisory
                 FROM affected WHERE ecosystem = ?1 AND name = ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![ecosystem, name], |r| {
                Ok(AffectedEntry {
                    advisory_id: r.get(0)?,
                    source: r.get(1)?,
                    scope: r.get(2)?,
                    withdrawn: r.get(3)?,
                    ecosystem: r.get(4)?,
                    name: r.get(5)?,
                    ranges: from_json::<Vec<Range>>(r.get(6)?),
                    versions: from_json::<Vec<String>>(r.get(7)?),
                    advisory_row: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        out.sort_by(|a, b| {
            (&a.advisory_id, &a.source, &a.scope).cmp(&(&b.advisory_id, &b.source, &b.scope))
        });
        Ok(out)
    }

    /// Every advisory naming the package, with only that package's affected
    /// entries; withdrawn ones included (check [`Advisory::withdrawn`]). Sorted by id.
    pub fn advisories_for(&self, ecosystem: &str, package: &str) -> Result<Vec<Advisory>> {
        self.package_advisories(ecosystem, package, |_| true)
    }

    /// Full advisories of one package in one query (rows come clustered by
    /// package, advisory, entry), keeping the advisories `keep` accepts.
    fn package_advisories(
        &self,
        ecosystem: &str,
        package: &str,
        keep: impl Fn(i64) -> bool,
    ) -> Result<Vec<Advisory>> {
        // Single-table statements only: SQLite re-prepares a join on every call when
        // it propagates a bound value through the join (measured: 3-4x slower).
        let name = normalize_name(ecosystem, package);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT advisory, idx, ecosystem, name, name_orig, ranges, versions
                 FROM affected WHERE ecosystem = ?1 AND name = ?2",
            )
            .map_err(|e| self.err(e))?;
        type Light = (
            i64,
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let mut light: Vec<Light> = st
            .query_map(params![ecosystem, name], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        light.retain(|l| keep(l.0));
        light.sort_by_key(|l| (l.0, l.1));
        let mut adv_st = self
            .conn
            .prepare_cached(
                "SELECT rowid, source, scope, id, modified, published, withdrawn, summary,
                        details, aliases, upstream, related, refs, severity
                 FROM advisories WHERE rowid = ?1",
            )
            .map_err(|e| self.err(e))?;
        let mut extra_st = self
            .conn
            .prepare_cached(
                "SELECT purl, severity, database_specific FROM affected_extra
                 WHERE advisory = ?1 AND idx = ?2",
            )
            .map_err(|e| self.err(e))?;
        let mut out: Vec<Advisory> = Vec::new();
        let mut last_row: Option<i64> = None;
        for (row, idx, eco, norm, orig, ranges, versions) in light {
            if last_row != Some(row) {
                let Some(a) = adv_st
                    .query_row([row], advisory_columns)
                    .optional()
                    .map_err(|e| self.err(e))?
                else {
                    continue;
                };
                out.push(a);
                last_row = Some(row);
            }
            let (purl, severity, ds): (Option<String>, Option<String>, Option<String>) = extra_st
                .query_row([row, idx], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(|e| self.err(e))?
                .unwrap_or_default();
            if let Some(a) = out.last_mut() {
                a.affected.push(Affected {
                    ecosystem: eco,
                    normalized_name: norm,
                    name: orig,
                    purl,
                    ranges: from_json(ranges),
                    versions: from_json(versions),
                    severity: from_json(severity),
                    database_specific: ds.and_then(|s| serde_json::from_str(&s).ok()),
                });
            }
        }
        sort_advisories(&mut out);
        Ok(out)
    }

    /// The advisories (not withdrawn) whose ranges or version lists include
    /// `version` of `package`; each with that package's affected entries.
    pub fn affected_advisories(
        &self,
        ecosystem: &str,
        package: &str,
        version: &str,
    ) -> Result<Vec<Advisory>> {
        let mut hits = std::collections::BTreeSet::new();
        for e in self.affected_for(ecosystem, package)? {
            if e.withdrawn {
                continue;
            }
            let hit =
                affected_by(&e.ecosystem, &e.ranges, &e.versions, version).map_err(|err| {
                    Error::Unrecognized {
                        location: format!("{ecosystem}/{package}@{version}"),
                        reason: err.to_string(),
                    }
                })?;
            if hit {
                hits.insert(e.advisory_row);
            }
        }
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        self.package_advisories(ecosystem, package, |row| hits.contains(&row))
    }

    /// Every advisory with this id (one per source and scope), with all its
    /// affected entries.
    pub fn advisory(&self, id: &str) -> Result<Vec<Advisory>> {
        let rows: Vec<i64> = {
            let mut st = self
                .conn
                .prepare_cached("SELECT rowid FROM advisories WHERE id = ?1")
                .map_err(|e| self.err(e))?;
            let it = st.query_map([id], |r| r.get(0)).map_err(|e| self.err(e))?;
            it.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        let mut out = Vec::new();
        for row in rows {
            if let Some(a) = self.load(row)? {
                out.push(a);
            }
        }
        sort_advisories(&mut out);
        Ok(out)
    }

    /// The advisory in row `row` (from [`AffectedEntry::advisory_row`]), with all
    /// its affected entries.
    pub fn advisory_by_row(&self, row: i64) -> Result<Option<Advisory>> {
        self.load(row)
    }

    fn load(&self, row: i64) -> Result<Option<Advisory>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT rowid, source, scope, id, modified, published, withdrawn, summary,
                        details, aliases, upstream, related, refs, severity
                 FROM advisories WHERE rowid = ?1",
            )
            .map_err(|e| self.err(e))?;
        let Some(mut adv) = st
            .query_row([row], advisory_columns)
            .optional()
            .map_err(|e| self.err(e))?
        else {
            return Ok(None);
        };
        // Two single-table reads by the advisory, paired by entry index. (A join here
        // would be re-prepared on every call: SQLite marks the bound id as
        // plan-relevant through the join's transitive constraint.)
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT idx, name_orig, ranges, versions FROM affected WHERE advisory = ?1",
            )
            .map_err(|e| self.err(e))?;
        let light: BTreeMap<i64, (String, Option<String>, Option<String>)> = st
            .query_map([row], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT idx, ecosystem, name, purl, severity, database_specific
                 FROM affected_extra WHERE advisory = ?1 ORDER BY idx",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([row]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let read = || -> rusqlite::Result<Affected> {
                let idx: i64 = r.get(0)?;
                let (name, ranges, versions) = light.get(&idx).cloned().unwrap_or_default();
                Ok(Affected {
                    ecosystem: r.get(1)?,
                    normalized_name: r.get(2)?,
                    name,
                    purl: r.get(3)?,
                    ranges: from_json(ranges),
                    versions: from_json(versions),
                    severity: from_json(r.get(4)?),
                    database_specific: r
                        .get::<_, Option<String>>(5)?
                        .and_then(|s| serde_json::from_str(&s).ok()),
                })
            };
            adv.affected.push(read().map_err(|e| self.err(e))?);
        }
        Ok(Some(adv))
    }

    /// Every (ecosystem, normalized package name) with at least one advisory, sorted.
    pub fn packages(&self) -> Result<Vec<(String, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT ecosystem, name FROM affected ORDER BY ecosystem, name")
            .map_err(|e| self.err(e))?;
        let it = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        it.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Path, schema, counts, origins and times.
    pub fn status(&self) -> Result<Status> {
        status_of(&self.conn, &self.path)
    }

    /// Seconds since the last update (None when never updated).
    pub fn age_seconds(&self) -> Result<Option<i64>> {
        Ok(meta_i64(&self.conn, "last_update", &self.path)?.map(|t| (now_unix() - t).max(0)))
    }

    /// Whether any advisory covers `ecosystem` (`Debian:12`, `PyPI`): one index seek,
    /// where [`Database::status`] counts everything.
    pub fn has_ecosystem(&self, ecosystem: &str) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM affected WHERE ecosystem = ?1 LIMIT 1")
            .and_then(|mut st| st.exists(params![ecosystem]))
            .map_err(|e| self.err(e))
    }
}

/// Columns 1..=13 of the advisory queries.
fn advisory_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<Advisory> {
    Ok(Advisory {
        source: r.get(1)?,
        scope: r.get(2)?,
        id: r.get(3)?,
        modified: r.get(4)?,
        published: r.get(5)?,
        withdrawn: r.get(6)?,
        summary: r.get(7)?,
        details: r.get(8)?,
        aliases: from_json(r.get(9)?),
        upstream: from_json(r.get(10)?),
        related: from_json(r.get(11)?),
        references: from_json::<Vec<Reference>>(r.get(12)?),
        severity: from_json::<Vec<SeverityScore>>(r.get(13)?),
        affected: Vec::new(),
    })
}

fn sort_advisories(v: &mut [Advisory]) {
    v.sort_by(|a, b| (&a.id, &a.source, &a.scope).cmp(&(&b.id, &b.source, &b.scope)));
}

fn meta_i64(conn: &Connection, key: &str, path: &Path) -> Result<Option<i64>> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .map_err(|e| Error::sql(path, e))?;
    Ok(v.and_then(|s| s.parse().ok()))
}

/// A `SELECT key, COUNT(...) ... GROUP BY key` query as a sorted map.
fn counts(conn: &Connection, path: &Path, sql: &str) -> Result<BTreeMap<String, i64>> {
    let e = |err| Error::sql(path, err);
    let mut st = conn.prepare(sql).map_err(e)?;
    let it = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(e)?;
    it.collect::<rusqlite::Result<_>>().map_err(e)
}

fn status_of(conn: &Connection, path: &Path) -> Result<Status> {
    let e = |err| Error::sql(path, err);
    let sources = counts(
        conn,
        path,
        "SELECT source, COUNT(*) FROM advisories GROUP BY source",
    )?;
    let ecosystems = counts(
        conn,
        path,
        "SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected GROUP BY ecosystem",
    )?;
    let mut origins = Vec::new();
    {
        let mut st = conn
            .prepare("SELECT location, kind, etag, last_modified, fetched_at, records, skipped FROM origins ORDER BY location")
            .map_err(e)?;
        let it = st
            .query_map([], |r| {
                Ok(OriginStatus {
                    location: r.get(0)?,
                    kind: r.get(1)?,
                    etag: r.get(2)?,
                    last_modified: r.get(3)?,
                    fetched_at: r.get(4)?,
                    records: r.get(5)?,
                    skipped: r.get(6)?,
                })
            })
            .map_err(e)?;
        for row in it {
            origins.push(row.map_err(e)?);
        }
    }
    let (advisories, withdrawn): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(withdrawn) FROM advisories",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(e)?;
    Ok(Status {
        path: path.to_path_buf(),
        schema_version: SCHEMA_VERSION,
        size_bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        created_at: meta_i64(conn, "created_at", path)?,
        last_update: meta_i64(conn, "last_update", path)?,
        advisories,
        withdrawn,
        sources,
        ecosystems,
        origins,
    })
}

/// Builds a new database file next to the target: a copy of the current one
/// (or an empty one), changed in place, then renamed over the target by
/// [`Writer::commit`]. Until then the target is untouched; dropping the writer
/// (an error, a kill) leaves only a temporary file behind (deleted on drop).
pub struct Writer {
    target: PathBuf,
    tmp: tempfile::TempPath,
    conn: Connection,
    now: i64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("target", &self.target)
            .finish()
    }
}

impl Writer {
    /// Start from the current database at `target` (when there is one).
    pub fn begin(target: &Path) -> Result<Writer> {
        Self::start(target, true)
    }

    /// Start from an empty database, whatever `target` holds now.
    pub fn fresh(target: &Path) -> Result<Writer> {
        Self::start(target, false)
    }

    fn start(target: &Path, keep: bool) -> Result<Writer> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        remove_stale_temporaries(&dir);
        let tmp = tempfile::Builder::new()
            .prefix(".moat-db-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .into_temp_path();
        let existing = keep && target.exists();
        if existing {
            // Refuse to build on something that is not ours.
            Database::open_read_only(target)?;
            std::fs::copy(target, &tmp).map_err(|e| Error::io(target, e))?;
        }
        let conn = Connection::open(&tmp).map_err(|e| Error::sql(&*tmp, e))?;
        // The file is private until the rename: no journal, no syncs.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )
        .map_err(|e| Error::sql(&*tmp, e))?;
        let now = now_unix();
        if !existing {
            conn.execute_batch(SCHEMA)
                .map_err(|e| Error::sql(&*tmp, e))?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1), ('created_at', ?2)",
                params![SCHEMA_VERSION.to_string(), now.to_string()],
            )
            .map_err(|e| Error::sql(&*tmp, e))?;
        }
        conn.execute_batch("BEGIN")
            .map_err(|e| Error::sql(&*tmp, e))?;
        Ok(Writer {
            target: target.to_path_buf(),
            tmp,
            conn,
            now,
        })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        Error::sql(&*self.tmp, e)
    }

    /// The recorded origin `location` (for conditional GET).
    pub fn origin(&self, location: &str) -> Result<Option<OriginStatus>> {
        self.conn
            .query_row(
                "SELECT location, kind, etag, last_modified, fetched_at, records, skipped FROM origins WHERE location = ?1",
                [location],
                |r| {
                    Ok(OriginStatus {
                        location: r.get(0)?,
                        kind: r.get(1)?,
                        etag: r.get(2)?,
                        last_modified: r.get(3)?,
                        fetched_at: r.get(4)?,
                        records: r.get(5)?,
                        skipped: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Import a local path (file, directory, zip); its origin is the path.
    pub fn import_path(&mut self, path: &Path) -> Result<ImportReport> {
        let location = std::fs::canonicalize(path)
            .map_err(|e| Error::io(path, e))?
            .to_string_lossy()
            .into_owned();
        let kind = if path.is_dir() {
            InputKind::Directory
        } else {
            InputKind::OsvJson
        };
        self.import_origin(&location, kind, None, None, |report, sink| {
            import::read_path(path, report, sink)
        })
    }

    /// Import a downloaded file as origin `location` (a URL), recording its
    /// validators for the next conditional GET.
    pub fn import_download(
        &mut self,
        location: &str,
        file: &Path,
        kind: InputKind,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<ImportReport> {
        self.import_origin(location, kind, etag, last_modified, |report, sink| {
            import::read_file(file, Some(kind), report, sink)
        })
    }

    /// Mark origin `location` as confirmed current (HTTP 304).
    pub fn touch_origin(&mut self, location: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE origins SET fetched_at = ?2 WHERE location = ?1",
                params![location, self.now],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn import_origin(
        &mut self,
        location: &str,
        kind: InputKind,
        etag: Option<&str>,
        last_modified: Option<&str>,
        read: impl FnOnce(&mut ImportReport, &mut import::Sink<'_>) -> Result<()>,
    ) -> Result<ImportReport> {
        let kind_s = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let origin: i64 = self
            .conn
            .query_row(
                "INSERT INTO origins (location, kind, etag, last_modified, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (location) DO UPDATE SET kind = ?2, etag = ?3, last_modified = ?4, fetched_at = ?5
                 RETURNING id",
                params![location, kind_s, etag, last_modified, self.now],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        // Replace whatever this origin gave last time.
        self.conn
            .execute(
                "DELETE FROM affected WHERE advisory IN (SELECT rowid FROM advisories WHERE origin = ?1)",
                [origin],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "DELETE FROM affected_extra WHERE advisory IN (SELECT rowid FROM advisories WHERE origin = ?1)",
                [origin],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute("DELETE FROM advisories WHERE origin = ?1", [origin])
            .map_err(|e| self.err(e))?;

        let mut report = ImportReport {
            location: location.to_string(),
            ..ImportReport::default()
        };
        let mut stored: BTreeMap<String, usize> = BTreeMap::new();
        let mut ecosystems: BTreeMap<String, usize> = BTreeMap::new();
        let mut withdrawn = 0;
        let mut skipped = Vec::new();
        {
            let conn = &self.conn;
            let tmp: &Path = &self.tmp;
            let mut sink = |u: Unit| -> Result<()> {
                match u {
                    Unit::Skip(s) => skipped.push(s),
                    Unit::Advisory(a) => {
                        insert(conn, origin, &a).map_err(|e| Error::sql(tmp, e))?;
                        *stored.entry(a.source.clone()).or_default() += 1;
                        let mut ecos: Vec<&str> =
                            a.affected.iter().map(|f| f.ecosystem.as_str()).collect();
                        ecos.sort_unstable();
                        ecos.dedup();
                        for e in ecos {
                            *ecosystems.entry(e.to_string()).or_default() += 1;
                        }
                        if a.withdrawn.is_some() {
                            withdrawn += 1;
                        }
                    }
                }
                Ok(())
            };
            read(&mut report, &mut sink)?;
        }
        skipped.sort();
        report.stored = stored;
        report.ecosystems = ecosystems;
        report.withdrawn = withdrawn;
        report.skipped = skipped;
        self.conn
            .execute(
                "UPDATE origins SET records = ?2, skipped = ?3 WHERE id = ?1",
                params![origin, report.total() as i64, report.skipped.len() as i64],
            )
            .map_err(|e| self.err(e))?;
        Ok(report)
    }

    /// Finish: record the update time, write the file, and rename it over the
    /// target atomically.
    pub fn commit(self) -> Result<Status> {
        let Writer {
            target,
            tmp,
            conn,
            now,
        } = self;
        let e = |err| Error::sql(&*tmp, err);
        // Origins that no longer own any advisory (all replaced by later imports)
        // stay listed with records = 0; recount them so status is honest.
        conn.execute_batch(
            "UPDATE origins SET records = (SELECT COUNT(*) FROM advisories WHERE origin = origins.id);",
        )
        .map_err(e)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('last_update', ?1)
             ON CONFLICT (key) DO UPDATE SET value = ?1",
            [now.to_string()],
        )
        .map_err(e)?;
        conn.execute_batch("COMMIT;").map_err(e)?;
        conn.close().map_err(|(_, err)| e(err))?;
        // Durable before it becomes visible.
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|err| Error::io(&*tmp, err))?;
        tmp.persist(&target)
            .map_err(|err| Error::io(&target, err.error))?;
        if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Best effort: make the rename itself durable.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Database::open_read_only(&target)?.status()
    }
}

/// Temporary files older than this were left by a killed process.
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Remove `.moat-db-*.tmp` and `.moat-download-*.tmp` files a killed import or
/// update left in `dir` (SIGKILL runs no destructor). Only old ones: a younger one
/// may belong to an update running right now. Best effort.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let ours = (name.starts_with(".moat-db-") || name.starts_with(".moat-download-"))
            && name.ends_with(".tmp");
        let old = e
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMPORARY);
        if ours && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn insert(conn: &Connection, origin: i64, a: &Advisory) -> rusqlite::Result<()> {
    // The same advisory from another origin is replaced (last import wins).
    let old: Option<i64> = conn
        .prepare_cached(
            "SELECT rowid FROM advisories WHERE source = ?1 AND scope = ?2 AND id = ?3",
        )?
        .query_row(params![a.source, a.scope, a.id], |r| r.get(0))
        .optional()?;
    if let Some(old) = old {
        conn.prepare_cached("DELETE FROM affected WHERE advisory = ?1")?
            .execute([old])?;
        conn.prepare_cached("DELETE FROM affected_extra WHERE advisory = ?1")?
            .execute([old])?;
        conn.prepare_cached("DELETE FROM advisories WHERE rowid = ?1")?
            .execute([old])?;
    }
    conn.prepare_cached(
        "INSERT INTO advisories (origin, source, scope, id, modified, published, withdrawn, summary, details, aliases, upstream, related, refs, severity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        origin,
        a.source,
        a.scope,
        a.id,
        a.modified,
        a.published,
        a.withdrawn,
        a.summary,
        a.details,
        json_list(&a.aliases),
        json_list(&a.upstream),
        json_list(&a.related),
        json_list(&a.references),
        json_list(&a.severity),
    ])?;
    let row = conn.last_insert_rowid();
    let mut light = conn.prepare_cached(
        "INSERT OR REPLACE INTO affected (ecosystem, name, advisory, idx, advisory_id, source, scope, withdrawn, name_orig, ranges, versions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut extra = conn.prepare_cached(
        "INSERT OR REPLACE INTO affected_extra (advisory, idx, ecosystem, name, purl, severity, database_specific)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (idx, f) in a.affected.iter().enumerate() {
        light.execute(params![
            f.ecosystem,
            f.normalized_name,
            row,
            idx as i64,
            a.id,
            a.source,
            a.scope,
            a.withdrawn.is_some(),
            f.name,
            json_list(&f.ranges),
            json_list(&f.versions),
        ])?;
        extra.execute(params![
            row,
            idx as i64,
            f.ecosystem,
            f.normalized_name,
            f.purl,
            json_list(&f.severity),
            f.database_specific
                .as_ref()
                .and_then(|v| serde_json::to_string(v).ok()),
        ])?;
    }
    Ok(())
}
