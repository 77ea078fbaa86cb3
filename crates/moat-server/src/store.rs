//! The service's database: SQLite (one process, no setup) or PostgreSQL (replicas and
//! workers on many hosts). Every query is written once, in PostgreSQL's dialect with
//! `$N` parameters; for SQLite the parameters become `?N` and `FOR UPDATE SKIP LOCKED`
//! is dropped (one connection behind a mutex serializes everything there).
//!
//! Values cross the boundary as [`Val`]: 64-bit integers and text, each nullable, so
//! both drivers read and bind the same few types (no booleans, no JSON columns: JSON is
//! stored as text).

use crate::error::{Error, Result, redact};
use std::sync::{Arc, Mutex};

/// A bound parameter or a read column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    I(Option<i64>),
    T(Option<String>),
}

impl Val {
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::I(v) => *v,
            Val::T(_) => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Val::T(v) => v.as_deref(),
            Val::I(_) => None,
        }
    }
    pub fn string(&self) -> String {
        self.text().unwrap_or_default().to_string()
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::I(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::T(Some(v.to_string()))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::T(Some(v))
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::T(Some(v.clone()))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::T(v)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::I(v)
    }
}

pub type Row = Vec<Val>;

/// One statement of a transaction ([`Store::transaction`]).
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Val>,
    /// Roll the whole transaction back (and return `None`) when this statement
    /// returns no row: the guard of a conditional update.
    pub must_return: bool,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<Val>) -> Stmt {
        Stmt {
            sql: sql.into(),
            params,
            must_return: false,
        }
    }
    pub fn guard(sql: impl Into<String>, params: Vec<Val>) -> Stmt {
        Stmt {
            sql: sql.into(),
            params,
            must_return: true,
        }
    }
}

/// Where the service keeps its state.
#[derive(Clone)]
pub enum Store {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(deadpool_postgres::Pool),
}

/// The schema, one entry per migration, applied in order at start. `{SERIAL}` is an
/// auto-incrementing 64-bit primary key in either dialect.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE tenants (name TEXT PRIMARY KEY, created_ms BIGINT NOT NULL);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL,
    label TEXT NOT NULL, revoked BIGINT NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL);
CREATE TABLE images (
    id {SERIAL}, tenant TEXT NOT NULL, reference TEXT NOT NULL, digest TEXT,
    inventory TEXT NOT NULL, updated_ms BIGINT NOT NULL, UNIQUE (tenant, reference));
CREATE TABLE jobs (
    id {SERIAL}, tenant TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
    reference TEXT NOT NULL, sbom TEXT, state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0, lease_owner TEXT, lease_until_ms BIGINT,
    done_by TEXT, image_id BIGINT, error TEXT, created_ms BIGINT NOT NULL, finished_ms BIGINT);
CREATE INDEX jobs_queue ON jobs (state, id);
CREATE TABLE reports (
    id {SERIAL}, image_id BIGINT NOT NULL, job_id BIGINT NOT NULL, tenant TEXT NOT NULL,
    report TEXT NOT NULL, created_ms BIGINT NOT NULL, UNIQUE (job_id, image_id));
CREATE INDEX reports_image ON reports (image_id, id);
CREATE TABLE findings (
    image_id BIGINT NOT NULL, tenant TEXT NOT NULL, vuln_id TEXT NOT NULL,
    package TEXT NOT NULL, version TEXT NOT NULL, ecosystem TEXT NOT NULL,
    severity TEXT NOT NULL, severity_rank BIGINT NOT NULL, fixed TEXT NOT NULL,
    title TEXT NOT NULL, first_seen_ms BIGINT NOT NULL,
    PRIMARY KEY (image_id, vuln_id, package, version));
CREATE INDEX findings_tenant ON findings (tenant, severity_rank);
CREATE TABLE audit_log (
    id {SERIAL}, at_ms BIGINT NOT NULL, tenant TEXT, token_id TEXT, method TEXT NOT NULL,
    path TEXT NOT NULL, status BIGINT NOT NULL);
CREATE TABLE webhooks (
    id {SERIAL}, tenant TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
    created_ms BIGINT NOT NULL);
CREATE TABLE deliveries (
    id {SERIAL}, webhook_id BIGINT NOT NULL, tenant TEXT NOT NULL, event TEXT NOT NULL,
    body TEXT NOT NULL, state TEXT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,
    next_ms BIGINT NOT NULL, lease_until_ms BIGINT, delivered_ms BIGINT);
CREATE INDEX deliveries_due ON deliveries (state, next_ms);
CREATE TABLE delivery_attempts (
    id {SERIAL}, delivery_id BIGINT NOT NULL, at_ms BIGINT NOT NULL, status BIGINT,
    error TEXT);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    r#"
CREATE TABLE hosts (
    id {SERIAL}, tenant TEXT NOT NULL, name TEXT NOT NULL, engine_version TEXT NOT NULL,
    os TEXT NOT NULL, agent_version TEXT NOT NULL, alert_cursor BIGINT, audit TEXT,
    first_seen_ms BIGINT NOT NULL, last_seen_ms BIGINT NOT NULL, UNIQUE (tenant, name));
CREATE TABLE containers (
    host_id BIGINT NOT NULL, tenant TEXT NOT NULL, container_id TEXT NOT NULL,
    name TEXT NOT NULL, image_ref TEXT NOT NULL, image_id TEXT NOT NULL, state TEXT NOT NULL,
    seen_ms BIGINT NOT NULL, PRIMARY KEY (host_id, container_id));
CREATE INDEX containers_image ON containers (tenant, image_id);
CREATE TABLE alerts (
    id {SERIAL}, tenant TEXT NOT NULL, host_id BIGINT NOT NULL, seq BIGINT NOT NULL,
    time_ns BIGINT NOT NULL, container_id TEXT, container_name TEXT, rule TEXT, severity TEXT,
    body TEXT NOT NULL, received_ms BIGINT NOT NULL, UNIQUE (host_id, seq));
CREATE INDEX alerts_tenant ON alerts (tenant, id);
CREATE INDEX images_digest ON images (tenant, digest);
ALTER TABLE jobs ADD COLUMN digest TEXT;
ALTER TABLE jobs ADD COLUMN detail TEXT;
CREATE INDEX jobs_digest ON jobs (tenant, digest);
ALTER TABLE images ADD COLUMN keyed BIGINT NOT NULL DEFAULT 0;
CREATE TABLE image_packages (
    image_id BIGINT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (image_id, namespace, name));
CREATE INDEX image_packages_key ON image_packages (namespace, name);
CREATE TABLE advisory_prints (
    namespace TEXT NOT NULL, name TEXT NOT NULL, print TEXT NOT NULL,
    PRIMARY KEY (namespace, name));
CREATE TABLE rematch_keys (
    job_id BIGINT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (job_id, namespace, name));
"#,
];

/// How many migrations there are (the schema's version once all are applied).
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// An arbitrary constant: the advisory lock that serializes migrations across replicas.
const MIGRATION_LOCK: i64 = 0x6d6f_6174_0001;

fn sqlite_sql(sql: &str) -> String {
    // `$N` → `?N`; the queries contain no `$` elsewhere.
    let sql = sql.replace(" FOR UPDATE SKIP LOCKED", "");
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn ddl(sql: &str, postgres: bool) -> String {
    sql.replace(
        "{SERIAL}",
        if postgres {
            "BIGSERIAL PRIMARY KEY"
        } else {
            "INTEGER PRIMARY KEY AUTOINCREMENT"
        },
    )
}

impl Store {
    /// Open `sqlite:PATH` or `postgres://…` and apply the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let store = if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(Error::Config(format!("{url}: no path after sqlite:")));
            }
            let conn = rusqlite::Connection::open(path).map_err(|e| Error::db(url, e))?;
            conn.busy_timeout(std::time::Duration::from_secs(30))
                .map_err(|e| Error::db(url, e))?;
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(|e| Error::db(url, e))?;
            Store::Sqlite(Arc::new(Mutex::new(conn)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pg: tokio_postgres::Config = url
                .parse()
                .map_err(|e| Error::Config(format!("{}: {e}", redact(url))))?;
            let mgr = deadpool_postgres::Manager::from_config(
                pg,
                tokio_postgres::NoTls,
                deadpool_postgres::ManagerConfig {
                    recycling_method: deadpool_postgres::RecyclingMethod::Fast,
                },
            );
            let pool = deadpool_postgres::Pool::builder(mgr)
                .max_size(16)
                .build()
                .map_err(|e| Error::Config(format!("{}: {e}", redact(url))))?;
            Store::Postgres(pool)
        } else {
            return Err(Error::Config(format!(
                "{}: --database is sqlite:PATH or postgres://…",
                redact(url)
            )));
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    async fn migrate(&self) -> Result<()> {
        let pg = self.is_postgres();
        let mut stmts = Vec::new();
        if pg {
            stmts.push(Stmt::new(
                "SELECT pg_advisory_xact_lock($1)::text",
                vec![MIGRATION_LOCK.into()],
            ));
        }
        stmts.push(Stmt::new(
            "CREATE TABLE IF NOT EXISTS moat_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
            vec![],
        ));
        stmts.push(Stmt::new(
            "SELECT COALESCE(MAX(version), 0) FROM moat_migrations",
            vec![],
        ));
        // Two steps: read the version under the lock, then apply what is missing (also
        // under the lock, in a second transaction that re-checks).
        let out = self.transaction(stmts).await?;
        let have = out
            .and_then(|r| {
                r.last()
                    .and_then(|rows| rows.first().and_then(|r| r[0].int()))
            })
            .unwrap_or(0);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let version = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            if version <= have {
                continue;
            }
            let mut stmts = Vec::new();
            if pg {
                stmts.push(Stmt::new(
                    "SELECT pg_advisory_xact_lock($1)::text",
                    vec![MIGRATION_LOCK.into()],
                ));
            }
            // The guard: only the replica that records the version applies it.
            stmts.push(Stmt::guard(
                "INSERT INTO moat_migrations (version, applied_ms) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING RETURNING version",
                vec![version.into(), now_ms().into()],
            ));
            for part in ddl(m, pg).split(';') {
                if !part.trim().is_empty() {
                    stmts.push(Stmt::new(part.trim().to_string(), vec![]));
                }
            }
            self.transaction(stmts).await?;
        }
        Ok(())
    }

    /// Run one statement; its rows (those of `RETURNING` for writes).
    pub async fn query(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>> {
        Ok(self
            .transaction(vec![Stmt::new(sql, params)])
            .await?
            .and_then(|mut v| v.pop())
            .unwrap_or_default())
    }

    /// Run statements in one transaction; the rows of each. `None` (and nothing
    /// written) when a guard statement returned no row.
    pub async fn transaction(&self, stmts: Vec<Stmt>) -> Result<Option<Vec<Vec<Row>>>> {
        match self {
            Store::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                tokio::task::spawn_blocking(move || {
                    let mut c = conn.lock().map_err(|_| Error::Poisoned)?;
                    sqlite_tx(&mut c, &stmts)
                })
                .await
                .map_err(|e| Error::Internal(e.to_string()))?
            }
            Store::Postgres(pool) => {
                let mut client = pool.get().await.map_err(|e| Error::Pool(e.to_string()))?;
                let tx = client.transaction().await.map_err(Error::pg)?;
                let mut all = Vec::with_capacity(stmts.len());
                for s in &stmts {
                    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                        s.params.iter().map(pg_param).collect();
                    let rows = tx.query(s.sql.as_str(), &params).await.map_err(Error::pg)?;
                    let rows: Vec<Row> = rows.iter().map(pg_row).collect::<Result<_>>()?;
                    if s.must_return && rows.is_empty() {
                        tx.rollback().await.map_err(Error::pg)?;
                        return Ok(None);
                    }
                    all.push(rows);
                }
                tx.commit().await.map_err(Error::pg)?;
                Ok(Some(all))
            }
        }
    }
}

fn sqlite_tx(c: &mut rusqlite::Connection, stmts: &[Stmt]) -> Result<Option<Vec<Vec<Row>>>> {
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(Error::sqlite)?;
    let mut all = Vec::with_capacity(stmts.len());
    for s in stmts {
        let sql = sqlite_sql(&s.sql);
        let mut st = tx.prepare(&sql).map_err(Error::sqlite)?;
        let n = st.column_count();
        let params: Vec<rusqlite::types::Value> = s
            .params
            .iter()
            .map(|v| match v {
                Val::I(Some(i)) => rusqlite::types::Value::Integer(*i),
                Val::T(Some(t)) => rusqlite::types::Value::Text(t.clone()),
                _ => rusqlite::types::Value::Null,
            })
            .collect();
        let mut rows = st
            .query(rusqlite::params_from_iter(params))
            .map_err(Error::sqlite)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(Error::sqlite)? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                row.push(match r.get_ref(i).map_err(Error::sqlite)? {
                    ValueRef::Integer(v) => Val::I(Some(v)),
                    ValueRef::Text(t) => Val::T(Some(String::from_utf8_lossy(t).into_owned())),
                    ValueRef::Real(f) => Val::T(Some(f.to_string())),
                    ValueRef::Blob(b) => Val::T(Some(String::from_utf8_lossy(b).into_owned())),
                    ValueRef::Null => Val::T(None),
                });
            }
            out.push(row);
        }
        drop(rows);
        drop(st);
        if s.must_return && out.is_empty() {
            tx.rollback().map_err(Error::sqlite)?;
            return Ok(None);
        }
        all.push(out);
    }
    tx.commit().map_err(Error::sqlite)?;
    Ok(Some(all))
}

fn pg_param(v: &Val) -> &(dyn tokio_postgres::types::ToSql + Sync) {
    match v {
        Val::I(i) => i,
        Val::T(t) => t,
    }
}

fn pg_row(r: &tokio_postgres::Row) -> Result<Row> {
    use tokio_postgres::types::Type;
    let mut row = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let t = c.type_();
        row.push(if *t == Type::INT8 {
            Val::I(r.try_get::<_, Option<i64>>(i).map_err(Error::pg)?)
        } else if *t == Type::INT4 {
            Val::I(
                r.try_get::<_, Option<i32>>(i)
                    .map_err(Error::pg)?
                    .map(i64::from),
            )
        } else {
            Val::T(r.try_get::<_, Option<String>>(i).map_err(Error::pg)?)
        });
    }
    Ok(row)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
