//! The [`Writer`]: builds a new database beside the target and renames it over it.

use super::query::{Database, OriginStatus, Status};
use super::schema::{SCHEMA, SCHEMA_VERSION, json_list, now_unix, older_schema};
use crate::Result;
use crate::cve::CveRecord;
use crate::error::Error;
use crate::import::{self, ImportReport, InputKind, Unit};
use crate::model::Advisory;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Builds a new database file next to the target: a copy of the current one
/// (or an empty one), changed in place, then renamed over the target by
/// [`Writer::commit`]. Until then the target is untouched; dropping the writer
/// (an error, a kill) leaves only a temporary file behind (deleted on drop).
pub struct Writer {
    target: PathBuf,
    tmp: tempfile::TempPath,
    conn: Connection,
    now: i64,
    replaced_schema: Option<i64>,
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
        // A database of an older schema is rebuilt from scratch (what it held is
        // re-imported or re-fetched by the caller); anything else that is not ours is
        // refused, never overwritten.
        let replaced_schema = if keep && target.exists() {
            older_schema(target)
        } else {
            None
        };
        let existing = keep && target.exists() && replaced_schema.is_none();
        if existing {
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
            replaced_schema,
        })
    }

    /// The schema version of the database this writer replaces from scratch because
    /// it was older than this build's (its advisories are not carried over).
    pub fn replaced_schema(&self) -> Option<i64> {
        self.replaced_schema
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
        self.import_origin(&location, kind, None, None, true, |report, sink| {
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
        self.import_origin(location, kind, etag, last_modified, true, |report, sink| {
            import::read_file(file, Some(kind), report, sink)
        })
    }

    /// Import one page of a paged source (the NVD CVE API) as part of origin
    /// `location`, keeping what earlier pages (and earlier runs) of that origin gave
    /// unless `replace`: a record in the page replaces the stored record of the same
    /// CVE and format. The origin's validators are left as they were (see
    /// [`Writer::set_origin_state`]).
    pub fn import_page(
        &mut self,
        location: &str,
        file: &Path,
        kind: InputKind,
        replace: bool,
    ) -> Result<ImportReport> {
        let old = self.origin(location)?;
        let (etag, lm) = old.map_or((None, None), |o| (o.etag, o.last_modified));
        self.import_origin(
            location,
            kind,
            etag.as_deref(),
            lm.as_deref(),
            replace,
            |report, sink| import::read_file(file, Some(kind), report, sink),
        )
    }

    /// Record origin `location`'s validators after a paged fetch: `last_modified`
    /// holds the source's own watermark (the NVD CVE API's last-modified time the
    /// next incremental fetch starts from), `skipped` the records skipped in this run.
    pub fn set_origin_state(
        &mut self,
        location: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        skipped: usize,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE origins SET etag = ?2, last_modified = ?3, skipped = ?4, fetched_at = ?5 WHERE location = ?1",
                params![location, etag, last_modified, skipped as i64, self.now],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
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
        replace: bool,
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
        // Replace whatever this origin gave last time (a page of a paged source adds
        // to it instead).
        if replace {
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
                .execute(
                    "DELETE FROM cve_refs WHERE advisory IN (SELECT rowid FROM advisories WHERE origin = ?1)",
                    [origin],
                )
                .map_err(|e| self.err(e))?;
            self.conn
                .execute("DELETE FROM advisories WHERE origin = ?1", [origin])
                .map_err(|e| self.err(e))?;
            self.conn
                .execute("DELETE FROM cve_records WHERE origin = ?1", [origin])
                .map_err(|e| self.err(e))?;
        }

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
                    Unit::Cve(c) => insert_cve(conn, origin, &c).map_err(|e| Error::sql(tmp, e))?,
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
                params![
                    origin,
                    (report.total() + report.other_records.values().sum::<usize>()) as i64,
                    report.skipped.len() as i64
                ],
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
            ..
        } = self;
        let e = |err| Error::sql(&*tmp, err);
        // Origins that no longer own any advisory (all replaced by later imports)
        // stay listed with records = 0; recount them so status is honest.
        conn.execute_batch(
            "UPDATE origins SET records = (SELECT COUNT(*) FROM advisories WHERE origin = origins.id)
               + (SELECT COUNT(*) FROM cve_records WHERE origin = origins.id);",
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
        conn.prepare_cached("DELETE FROM cve_refs WHERE advisory = ?1")?
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
    let mut refs =
        conn.prepare_cached("INSERT OR IGNORE INTO cve_refs (cve, advisory) VALUES (?1, ?2)")?;
    for id in std::iter::once(a.id.as_str()).chain(a.other_ids()) {
        // `DEBIAN-CVE-…`, `UBUNTU-CVE-…` name their CVE in the id too.
        let cve = id.find("CVE-").map_or(id, |i| &id[i..]);
        if crate::cve::valid_cve_id(cve) {
            refs.execute(params![cve, row])?;
        }
    }
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

/// Store a CVE record: one row per CVE and format (a later import of the same record
/// replaces it).
fn insert_cve(conn: &Connection, origin: i64, c: &CveRecord) -> rusqlite::Result<()> {
    let record = serde_json::to_string(c)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let format = c.formats.first().map_or("", String::as_str);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO cve_records (id, format, origin, record) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![c.id, format, origin, record])?;
    Ok(())
}
