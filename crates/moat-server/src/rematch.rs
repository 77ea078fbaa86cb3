//! Re-match on new advisory data: every stored inventory is matched again against the
//! current advisory database; findings that were not there before are stored and, for
//! tenants with webhooks, queued as one signed delivery per image and webhook.
//!
//! Each image is updated in its own transaction, guarded on the job's lease: a re-match
//! that dies half way is resumed by another worker, and images already updated yield no
//! new findings the second time, so no receiver hears of a finding twice.

use crate::config::WorkerConfig;
use crate::error::{Error, Result};
use crate::matching::{FindingKey, finding_rows, insert_findings, match_inventory};
use crate::queue::Job;
use crate::store::{Stmt, Store, now_ms};
use moat_model::Inventory;
use std::collections::BTreeSet;

/// Images read per batch.
const BATCH: i64 = 100;

/// Run a re-match job; false when its lease was lost.
pub async fn run(store: &Store, cfg: &WorkerConfig, job: &Job) -> Result<bool> {
    let mut after = 0i64;
    let lease = i64::try_from(cfg.lease.as_millis()).unwrap_or(30_000);
    loop {
        let rows = store
            .query(
                "SELECT id, tenant, reference, inventory FROM images WHERE id > $1 \
                 AND ($2 = '*' OR tenant = $2) ORDER BY id LIMIT $3",
                vec![after.into(), job.tenant.as_str().into(), BATCH.into()],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        after = rows.last().and_then(|r| r[0].int()).unwrap_or(after);
        // Match the batch on a blocking thread (the advisory database is not Sync).
        let batch: Vec<(i64, String, String, Option<String>)> = rows
            .iter()
            .map(|r| {
                (
                    r[0].int().unwrap_or(0),
                    r[1].string(),
                    r[2].string(),
                    r[3].text().map(str::to_string),
                )
            })
            .collect();
        let path = cfg.advisory_db.clone();
        let matched = tokio::task::spawn_blocking(move || -> Result<Vec<_>> {
            let db = crate::matching::open_advisories(&path)?;
            let mut out = Vec::new();
            for (id, tenant, reference, inv) in batch {
                // An inventory that no longer parses is skipped, not fatal to the job.
                let Some(inv) = inv.and_then(|t| serde_json::from_str::<Inventory>(&t).ok()) else {
                    continue;
                };
                out.push((
                    id,
                    tenant,
                    reference.clone(),
                    match_inventory(&db, &inv, &reference)?,
                ));
            }
            Ok(out)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        for (id, tenant, reference, report) in matched {
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
            if new.is_empty() && gone.is_empty() {
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
                let body = serde_json::json!({
                    "event": "new-findings",
                    "tenant": tenant,
                    "image": { "id": id, "reference": reference },
                    "job": job.id,
                    "findings": new.iter().map(|(k, f)| serde_json::json!({
                        "id": k.0, "package": k.1, "version": k.2,
                        "ecosystem": f.package.ecosystem.to_string(),
                        "severity": f.severity.as_str(),
                        "fixed": f.fixed_versions,
                        "title": f.title,
                    })).collect::<Vec<_>>(),
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
    }
    Ok(store
        .transaction(vec![crate::queue::finish_guard(
            job.id, &cfg.owner, "done", None,
        )])
        .await?
        .is_some())
}
