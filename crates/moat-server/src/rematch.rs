//! Re-match on new advisory data: stored inventories are matched again against the
//! current advisory database; findings that were not there before are stored and, for
//! tenants with webhooks, queued as one signed delivery per image and webhook, naming
//! the running containers (from agents) of that image.
//!
//! A re-match of the whole fleet (the advisory database changed) matches only the
//! inventories the change touches: those with a package whose advisory key's print
//! changed (see [`crate::keys`]), plus inventories stored before keys were recorded. A
//! re-match requested for one tenant (`POST /api/v1/rematch`) matches all its images.
//!
//! Each image is updated in its own transaction, guarded on the job's lease: a re-match
//! that dies half way is resumed by another worker, and images already updated yield no
//! new findings the second time, so no receiver hears of a finding twice. The new prints
//! are recorded with the job's end, in the transaction that finishes it.

use crate::config::WorkerConfig;
use crate::error::{Error, Result};
use crate::keys::Key;
use crate::matching::{FindingKey, finding_rows, insert_findings, match_inventory};
use crate::queue::Job;
use crate::store::{Stmt, Store, now_ms};
use moat_model::Inventory;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// Images read per batch.
const BATCH: i64 = 100;

/// What a re-match did (stored as the job's `detail`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    /// Whole fleet, only touched inventories (true) or all of one tenant's (false).
    pub incremental: bool,
    /// Advisory keys (namespace, package) of stored inventories whose data changed.
    pub changed_keys: usize,
    /// Inventories in scope.
    pub images: i64,
    /// Inventories matched again.
    pub matched: i64,
    /// Inventories whose findings changed.
    pub updated: i64,
}

type Db = Arc<Mutex<moat_db::Database>>;

fn lock(db: &Db) -> Result<std::sync::MutexGuard<'_, moat_db::Database>> {
    db.lock().map_err(|_| Error::Poisoned)
}

/// Run a re-match job; false when its lease was lost.
pub async fn run(store: &Store, cfg: &WorkerConfig, job: &Job) -> Result<bool> {
    let start = now_ms();
    let lease = cfg.lease_ms();
    // One snapshot of the database for the whole job: the file may be replaced while
    // it runs (a rename), the open handle keeps reading the one the prints describe.
    let path = cfg.advisory_db.clone();
    let db: Db = tokio::task::spawn_blocking(move || {
        crate::matching::open_advisories(&path).map(|d| Arc::new(Mutex::new(d)))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    let incremental = job.tenant == "*";
    let mut stats = Stats {
        incremental,
        ..Stats::default()
    };
    let mut new_prints = BTreeMap::new();
    if incremental {
        let keys: Vec<Key> = store
            .query(
                "SELECT DISTINCT namespace, name FROM image_packages",
                vec![],
            )
            .await?
            .iter()
            .map(|r| (r[0].string(), r[1].string()))
            .collect();
        let stored: crate::keys::Prints = store
            .query("SELECT namespace, name, print FROM advisory_prints", vec![])
            .await?
            .iter()
            .map(|r| ((r[0].string(), r[1].string()), r[2].string()))
            .collect();
        let db2 = Arc::clone(&db);
        new_prints = tokio::task::spawn_blocking(move || -> Result<crate::keys::Prints> {
            let db = lock(&db2)?;
            crate::keys::prints(&db, &keys)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let changed: BTreeSet<Key> = new_prints
            .iter()
            .filter(|(k, p)| stored.get(*k) != Some(*p))
            .map(|(k, _)| k.clone())
            .collect();
        stats.changed_keys = changed.len();
        let mut stmts = vec![Stmt::new(
            "DELETE FROM rematch_keys WHERE job_id = $1",
            vec![job.id.into()],
        )];
        stmts.extend(crate::keys::insert_changed(job.id, &changed));
        store.transaction(stmts).await?;
    }
    stats.images = store
        .query(
            "SELECT COUNT(*) FROM images WHERE ($1 = '*' OR tenant = $1)",
            vec![job.tenant.as_str().into()],
        )
        .await?
        .first()
        .and_then(|r| r[0].int())
        .unwrap_or(0);

    // The images to match: all of the tenant's, or (fleet) those touched by a change.
    let touched = "(i.keyed = 0 OR EXISTS (SELECT 1 FROM image_packages p JOIN rematch_keys k \
                   ON k.namespace = p.namespace AND k.name = p.name \
                   WHERE k.job_id = $2 AND p.image_id = i.id))";
    let select = format!(
        "SELECT i.id, i.tenant, i.reference, i.inventory, i.keyed FROM images i \
         WHERE i.id > $1 AND ($5 = '*' OR i.tenant = $5) AND i.updated_ms >= $4 \
         AND (CAST($6 AS BIGINT) = 0 OR {touched}) ORDER BY i.id LIMIT $3"
    );
    let passes: &[i64] = if incremental { &[0, start] } else { &[0] };
    for &since in passes {
        let mut after = 0i64;
        loop {
            let rows = store
                .query(
                    &select,
                    vec![
                        after.into(),
                        job.id.into(),
                        BATCH.into(),
                        since.into(),
                        job.tenant.as_str().into(),
                        i64::from(incremental).into(),
                    ],
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            after = rows.last().and_then(|r| r[0].int()).unwrap_or(after);
            let batch: Vec<(i64, String, String, Option<String>, bool)> = rows
                .iter()
                .map(|r| {
                    (
                        r[0].int().unwrap_or(0),
                        r[1].string(),
                        r[2].string(),
                        r[3].text().map(str::to_string),
                        r[4].int().unwrap_or(0) != 0,
                    )
                })
                .collect();
            if !match_batch(store, cfg, job, &db, batch, lease, &mut stats).await? {
                return Ok(false);
            }
        }
    }

    let mut stmts = vec![crate::queue::finish_guard(job.id, &cfg.owner, "done", None)];
    stmts.extend(crate::keys::upsert_prints(&new_prints));
    stmts.push(Stmt::new(
        "DELETE FROM rematch_keys WHERE job_id = $1",
        vec![job.id.into()],
    ));
    stmts.push(Stmt::new(
        "UPDATE jobs SET detail = $1 WHERE id = $2",
        vec![
            serde_json::to_string(&stats)
                .map_err(|e| Error::Internal(e.to_string()))?
                .into(),
            job.id.into(),
        ],
    ));
    Ok(store.transaction(stmts).await?.is_some())
}

/// Match a batch of images and store what changed; false when the lease was lost.
async fn match_batch(
    store: &Store,
    cfg: &WorkerConfig,
    job: &Job,
    db: &Db,
    batch: Vec<(i64, String, String, Option<String>, bool)>,
    lease: i64,
    stats: &mut Stats,
) -> Result<bool> {
    let db2 = Arc::clone(db);
    // Match on a blocking thread (the advisory database is not Sync).
    let matched = tokio::task::spawn_blocking(move || -> Result<Vec<_>> {
        let db = lock(&db2)?;
        let mut out = Vec::new();
        for (id, tenant, reference, inv, keyed) in batch {
            // An inventory that no longer parses is skipped, not fatal to the job.
            let Some(inv) = inv.and_then(|t| serde_json::from_str::<Inventory>(&t).ok()) else {
                continue;
            };
            let report = match_inventory(&db, &inv, &reference)?;
            let keys = (!keyed).then(|| crate::keys::package_keys(&inv));
            out.push((id, tenant, reference, report, keys));
        }
        Ok(out)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    for (id, tenant, reference, report, keys) in matched {
        stats.matched += 1;
        let old: BTreeSet<FindingKey> = store
            .query(
                "SELECT vuln_id, package, version FROM findings WHERE image_id = $1",
                vec![id.into()],
            )
            .await?
            .iter()
            .map(|r| (r[0].string(), r[1].string(), r[2].string()))
            .collect();
        let now = now_ms();
        let current = finding_rows(&report);
        let new: Vec<_> = current
            .iter()
            .filter(|(k, _)| !old.contains(*k))
            .map(|(k, v)| (k, *v))
            .collect();
        let gone: Vec<&FindingKey> = old.iter().filter(|k| !current.contains_key(*k)).collect();
        if new.is_empty() && gone.is_empty() && keys.is_none() {
            continue;
        }
        // The guard: still our job (renews the lease too).
        let mut stmts = vec![Stmt::guard(
            "UPDATE jobs SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3 \
             AND state = 'running' RETURNING id",
            vec![
                (now + lease).into(),
                job.id.into(),
                cfg.owner.as_str().into(),
            ],
        )];
        if let Some(keys) = &keys {
            stmts.extend(crate::keys::store_image_keys(&tenant, &reference, keys));
        }
        if new.is_empty() && gone.is_empty() {
            if store.transaction(stmts).await?.is_none() {
                return Ok(false);
            }
            continue;
        }
        stats.updated += 1;
        for k in &gone {
            stmts.push(Stmt::new(
                "DELETE FROM findings WHERE image_id = $1 AND vuln_id = $2 AND package = $3 AND version = $4",
                vec![
                    id.into(),
                    k.0.as_str().into(),
                    k.1.as_str().into(),
                    k.2.as_str().into(),
                ],
            ));
        }
        stmts.extend(insert_findings(&tenant, &reference, &new, now));
        let report_json =
            serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
        stmts.push(Stmt::new(
            "INSERT INTO reports (image_id, job_id, tenant, report, created_ms) VALUES ($1, $2, $3, $4, $5)",
            vec![
                id.into(),
                job.id.into(),
                tenant.as_str().into(),
                report_json.into(),
                now.into(),
            ],
        ));
        if !new.is_empty() {
            let containers = crate::fleet::running_containers_of_image(store, id).await?;
            let body = json!({
                "event": "new-findings",
                "tenant": tenant,
                "image": { "id": id, "reference": reference },
                "job": job.id,
                "findings": new.iter().map(|(k, f)| json!({
                    "id": k.0, "package": k.1, "version": k.2,
                    "ecosystem": f.package.ecosystem.to_string(),
                    "severity": f.severity.as_str(),
                    "fixed": f.fixed_versions,
                    "title": f.title,
                })).collect::<Vec<_>>(),
                "containers": containers,
            })
            .to_string();
            stmts.push(Stmt::new(
                "INSERT INTO deliveries (webhook_id, tenant, event, body, state, attempts, next_ms) \
                 SELECT id, tenant, 'new-findings', CAST($2 AS TEXT), 'pending', 0, CAST($3 AS BIGINT) \
                 FROM webhooks WHERE tenant = $1",
                vec![tenant.as_str().into(), body.into(), now.into()],
            ));
        }
        if store.transaction(stmts).await?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}
