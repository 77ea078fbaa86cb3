//! The job queue: rows of `jobs`, claimed with `SELECT … FOR UPDATE SKIP LOCKED` under a
//! lease. A worker that dies (SIGKILL, lost host) stops renewing its lease; when the
//! lease expires another worker claims the job again. A job is finished only by the
//! holder of its current lease (the finishing transaction is guarded on it), so each job
//! has exactly one result even when a slow worker's lease was taken over.

use crate::error::{Error, Result};
use crate::store::{Row, Stmt, Store, Val, now_ms};

/// After this many claims a job is failed instead of claimed again (a job that kills
/// its worker every time must not take the fleet down with it).
pub const MAX_ATTEMPTS: i64 = 5;

/// Bounds on what a request may enqueue.
pub const MAX_SOURCE_LEN: usize = 4096;
pub const MAX_SBOM_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Scan a source (image reference, archive) the worker can read.
    Scan,
    /// Match an uploaded inventory (`moat sbom --format json`).
    Sbom,
    /// Match every stored inventory again (new advisory data).
    Rematch,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Scan => "scan",
            JobKind::Sbom => "sbom",
            JobKind::Rematch => "rematch",
        }
    }
    pub fn parse(s: &str) -> Option<JobKind> {
        Some(match s {
            "scan" => JobKind::Scan,
            "sbom" => JobKind::Sbom,
            "rematch" => JobKind::Rematch,
            _ => return None,
        })
    }
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub tenant: String,
    pub kind: JobKind,
    pub source: String,
    pub reference: String,
    pub sbom: Option<String>,
    pub attempts: i64,
    /// The image digest given with an uploaded inventory (agents: the image id).
    pub digest: Option<String>,
}

/// Enqueue a job; its id.
pub async fn submit(
    store: &Store,
    tenant: &str,
    kind: JobKind,
    source: &str,
    reference: &str,
    sbom: Option<String>,
) -> Result<i64> {
    submit_with_digest(store, tenant, kind, source, reference, sbom, None).await
}

/// [`submit`] with the digest of the image an uploaded inventory describes.
pub async fn submit_with_digest(
    store: &Store,
    tenant: &str,
    kind: JobKind,
    source: &str,
    reference: &str,
    sbom: Option<String>,
    digest: Option<String>,
) -> Result<i64> {
    let rows = store
        .query(
            "INSERT INTO jobs (tenant, kind, source, reference, sbom, state, attempts, created_ms, digest) \
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7) RETURNING id",
            vec![
                tenant.into(),
                kind.as_str().into(),
                source.into(),
                reference.into(),
                sbom.into(),
                now_ms().into(),
                digest.into(),
            ],
        )
        .await?;
    first_int(&rows).ok_or(Error::Internal("INSERT … RETURNING gave no id".into()))
}

fn first_int(rows: &[Row]) -> Option<i64> {
    rows.first().and_then(|r| r.first()).and_then(Val::int)
}

/// Claim the oldest queued job, or a running one whose lease expired, for `owner`
/// until now + `lease_ms`. Jobs claimed `MAX_ATTEMPTS` times are failed first.
pub async fn claim(store: &Store, owner: &str, lease_ms: i64) -> Result<Option<Job>> {
    let now = now_ms();
    store
        .query(
            "UPDATE jobs SET state = 'failed', error = 'its worker was lost too many times', \
             finished_ms = $1, lease_owner = NULL \
             WHERE state = 'running' AND lease_until_ms < $1 AND attempts >= $2",
            vec![now.into(), MAX_ATTEMPTS.into()],
        )
        .await?;
    let rows = store
        .query(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
             lease_until_ms = $2 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE state = 'queued' OR (state = 'running' AND lease_until_ms < $3) \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, tenant, kind, source, reference, sbom, attempts, digest",
            vec![owner.into(), (now + lease_ms).into(), now.into()],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Job {
        id: r[0].int().unwrap_or(0),
        tenant: r[1].string(),
        kind: JobKind::parse(r[2].text().unwrap_or_default())
            .ok_or(Error::Internal(format!("job {:?}: unknown kind", r[0])))?,
        source: r[3].string(),
        reference: r[4].string(),
        sbom: r[5].text().map(str::to_string),
        attempts: r[6].int().unwrap_or(0),
        digest: r[7].text().map(str::to_string),
    }))
}

/// Extend the lease; false when the job is no longer ours.
pub async fn renew(store: &Store, job: i64, owner: &str, lease_ms: i64) -> Result<bool> {
    let rows = store
        .query(
            "UPDATE jobs SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3 \
             AND state = 'running' RETURNING id",
            vec![(now_ms() + lease_ms).into(), job.into(), owner.into()],
        )
        .await?;
    Ok(!rows.is_empty())
}

/// The guard that opens every finishing transaction: the job is still ours.
pub fn finish_guard(job: i64, owner: &str, state: &str, error: Option<String>) -> Stmt {
    Stmt::guard(
        "UPDATE jobs SET state = $1, error = $2, finished_ms = $3, done_by = $4, \
         lease_owner = NULL WHERE id = $5 AND lease_owner = $4 AND state = 'running' \
         RETURNING id",
        vec![
            state.into(),
            error.into(),
            now_ms().into(),
            owner.into(),
            job.into(),
        ],
    )
}

/// Fail a job (its source cannot be read: retrying would not help).
pub async fn fail(store: &Store, job: i64, owner: &str, error: &str) -> Result<bool> {
    Ok(store
        .transaction(vec![finish_guard(
            job,
            owner,
            "failed",
            Some(error.to_string()),
        )])
        .await?
        .is_some())
}

/// What one pass of the loop did (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Idle,
    /// A job finished by this worker.
    Done {
        job: i64,
        state: &'static str,
    },
    /// A job whose lease was lost before it finished (another worker owns it now).
    Lost {
        job: i64,
    },
    Delivered {
        delivery: i64,
        status: Option<u16>,
    },
}
