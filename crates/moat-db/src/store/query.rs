//! The read-only [`Database`]: queries and status.

use super::schema::{SCHEMA_VERSION, check_schema, from_json, now_unix};
use crate::Result;
use crate::cve::CveRecord;
use crate::error::Error;
use crate::eval::affected_by;
use crate::model::{Advisory, Affected, AffectedEntry, Range, Reference, SeverityScore};
use crate::normalize::normalize_name;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// CVE records (ratings, KEV) per format (`cve-json-5`, `nvd-cve-api-2`).
    #[serde(default)]
    pub cve_records: BTreeMap<String, i64>,
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

    /// What the CVE records say about `id` (`CVE-…`), merged across formats; `None`
    /// when no CVE record of it was imported.
    pub fn cve(&self, id: &str) -> Result<Option<CveRecord>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT record FROM cve_records WHERE id = ?1 ORDER BY format")
            .map_err(|e| self.err(e))?;
        let rows: Vec<String> = st
            .query_map([id], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut out: Option<CveRecord> = None;
        for r in rows {
            let Ok(rec) = serde_json::from_str::<CveRecord>(&r) else {
                continue;
            };
            match out.as_mut() {
                Some(o) => o.merge(rec),
                None => out = Some(rec),
            }
        }
        Ok(out)
    }

    /// The advisories that name CVE `id` (as id, alias or upstream) and their
    /// advisory-level severities, sorted by advisory id: the other records of the
    /// same CVE, for their ratings.
    pub fn advisories_naming_cve(&self, id: &str) -> Result<Vec<(String, Vec<SeverityScore>)>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT a.id, a.severity FROM cve_refs r JOIN advisories a ON a.rowid = r.advisory
                 WHERE r.cve = ?1 ORDER BY a.id, a.source, a.scope",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    from_json::<Vec<SeverityScore>>(r.get(1)?),
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Whether any CVE record (ratings, KEV) was imported: without them, KEV membership
    /// is unknown rather than absent.
    pub fn has_cve_records(&self) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM cve_records LIMIT 1")
            .and_then(|mut st| st.exists([]))
            .map_err(|e| self.err(e))
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

pub(super) fn status_of(conn: &Connection, path: &Path) -> Result<Status> {
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
    let cve_records = counts(
        conn,
        path,
        "SELECT format, COUNT(*) FROM cve_records GROUP BY format",
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
        cve_records,
        origins,
    })
}
