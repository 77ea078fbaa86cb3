//! A worker: claims jobs, scans with moat-scan (or matches an uploaded inventory), stores
//! the report, the inventory and the findings; re-matches stored inventories when the
//! advisory database changed; delivers webhooks. Any number of workers on any hosts
//! share one PostgreSQL queue; `moat serve` on SQLite runs one in-process.

pub use crate::config::WorkerConfig;
use crate::error::{Error, Result};
use crate::keys::Key;
use crate::matching::{
    FindingKey, finding_rows, insert_findings, match_inventory, open_advisories,
};
pub use crate::queue::Step;
use crate::queue::{self, Job, JobKind};
use crate::store::{Stmt, Store, now_ms};
use moat_model::report::Report;
use moat_model::{Inventory, VulnFinding};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Run forever (until `stop` resolves): claim, run, repeat; `log` gets one line a step.
pub async fn run(
    store: Store,
    cfg: Arc<WorkerConfig>,
    stop: tokio::sync::watch::Receiver<bool>,
    log: impl Fn(&str) + Send + Sync + 'static,
) -> Result<()> {
    let mut stamp = String::new();
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if cfg.watch_advisories {
            match watch_advisories(&store, &cfg, &mut stamp).await {
                Ok(Some(job)) => log(&format!("advisory database changed: re-match job {job}")),
                Ok(None) => {}
                Err(e) => log(&format!("advisory watch: {e}")),
            }
        }
        let step = match step(&store, &cfg).await {
            Ok(s) => s,
            Err(e) => {
                log(&format!("error: {e}"));
                Step::Idle
            }
        };
        match step {
            Step::Idle => {
                let mut stop = stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(cfg.poll) => {}
                    _ = stop.changed() => {}
                }
            }
            Step::Done { job, state } => log(&format!("job {job} {state}")),
            Step::Lost { job } => log(&format!("job {job} lost its lease")),
            Step::Delivered { delivery, status } => log(&format!(
                "delivery {delivery}: {}",
                status.map_or("no answer".to_string(), |s| format!("HTTP {s}"))
            )),
        }
    }
}

/// One pass: a due webhook delivery first, else a job.
pub async fn step(store: &Store, cfg: &WorkerConfig) -> Result<Step> {
    if let Some(s) = crate::webhook::deliver_one(store, cfg.webhook_ca.as_deref()).await? {
        return Ok(s);
    }
    let Some(job) = queue::claim(store, &cfg.owner, cfg.lease_ms()).await? else {
        return Ok(Step::Idle);
    };
    // Renew the lease while the job runs.
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let renewer = {
        let store = store.clone();
        let owner = cfg.owner.clone();
        let lease = cfg.lease_ms();
        let every = (cfg.lease / 3).max(Duration::from_millis(100));
        let id = job.id;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {
                        if !matches!(queue::renew(&store, id, &owner, lease).await, Ok(true)) {
                            return;
                        }
                    }
                    _ = &mut rx => return,
                }
            }
        })
    };
    let result = run_job(store, cfg, &job).await;
    let _ = tx.send(());
    let _ = renewer.await;
    match result {
        Ok(true) => Ok(Step::Done {
            job: job.id,
            state: "done",
        }),
        Ok(false) => Ok(Step::Lost { job: job.id }),
        Err(Error::Scan(msg)) => {
            if queue::fail(store, job.id, &cfg.owner, &msg).await? {
                Ok(Step::Done {
                    job: job.id,
                    state: "failed",
                })
            } else {
                Ok(Step::Lost { job: job.id })
            }
        }
        Err(e) => Err(e),
    }
}

/// Run a claimed job; false when its lease was lost before the result was stored.
async fn run_job(store: &Store, cfg: &WorkerConfig, job: &Job) -> Result<bool> {
    match job.kind {
        JobKind::Rematch => crate::rematch::run(store, cfg, job).await,
        JobKind::Scan | JobKind::Sbom => {
            let cfg2 = cfg.clone();
            let job2 = job.clone();
            let scanned = tokio::task::spawn_blocking(move || scan_and_key(&cfg2, &job2))
                .await
                .map_err(|e| Error::Internal(e.to_string()))??;
            store_result(store, cfg, job, &scanned).await
        }
    }
}

/// Is `source` a local path inside one of `allow`? Registry references pass; the
/// Docker Engine (`docker:`) is refused (a tenant must not read the worker host's
/// images).
pub fn check_source(source: &str, allow: &[PathBuf]) -> Result<()> {
    use moat_image::Source;
    let parsed = Source::parse(source).map_err(|e| Error::Scan(e.to_string()))?;
    let path: &Path = match &parsed {
        Source::Registry(_) => return Ok(()),
        Source::Docker(_) => {
            return Err(Error::Scan(format!(
                "{source}: docker: sources are not read by the service; push the image to a registry or upload its SBOM"
            )));
        }
        Source::DockerArchive(p) | Source::OciArchive(p) | Source::Rootfs(p) | Source::Dir(p) => p,
        Source::OciDir { path, .. } => path,
        _ => {
            return Err(Error::Scan(format!(
                "{source}: this kind of source is not read by the service"
            )));
        }
    };
    let real = path
        .canonicalize()
        .map_err(|e| Error::Scan(format!("{source}: {e}")))?;
    if allow
        .iter()
        .filter_map(|a| a.canonicalize().ok())
        .any(|a| real.starts_with(a))
    {
        Ok(())
    } else {
        Err(Error::Scan(format!(
            "{source}: local paths are read only under the worker's --allow-path directories"
        )))
    }
}

fn scan_options(cfg: &WorkerConfig) -> moat_scan::ScanOptions {
    moat_scan::ScanOptions {
        image: moat_image::OpenOptions {
            cache_dir: cfg.cache_dir.clone(),
            ..Default::default()
        },
        scanners: moat_scan::Scanners::default(),
        db_path: cfg.advisory_db.clone(),
        severities: None,
        ignore_unfixed: false,
        ignore_file: None,
        vex: Vec::new(),
        max_db_age_days: u64::MAX,
        use_cache: true,
        now: time::OffsetDateTime::now_utc(),
        offline: false,
        catalog_limits: moat_catalog::Limits::default(),
    }
}

/// What a scan job stores.
pub struct Scanned {
    pub report: Report,
    pub inventory: Inventory,
    /// The inventory's advisory lookup keys (crate::keys).
    pub keys: BTreeSet<Key>,
    /// The keys' prints in the database the report was matched with; empty when the
    /// database file was replaced during the scan (the keys then count as changed at
    /// the next re-match).
    pub prints: crate::keys::Prints,
}

/// The scan of one job, blocking, with the keys and prints of its inventory.
fn scan_and_key(cfg: &WorkerConfig, job: &Job) -> Result<Scanned> {
    let before = advisory_stamp(&cfg.advisory_db);
    let (report, inventory) = scan(cfg, job)?;
    let keys = crate::keys::package_keys(&inventory);
    let mut prints = BTreeMap::new();
    if let Ok(db) = crate::matching::open_advisories(&cfg.advisory_db) {
        // Prints only from the database the scan used: the same file before and after.
        if before.is_some() && before == advisory_stamp(&cfg.advisory_db) {
            prints = crate::keys::prints(&db, &keys)?;
        }
    }
    Ok(Scanned {
        report,
        inventory,
        keys,
        prints,
    })
}

/// The scan of one job, blocking: its report and inventory.
fn scan(cfg: &WorkerConfig, job: &Job) -> Result<(Report, Inventory)> {
    match job.kind {
        JobKind::Scan => {
            check_source(&job.source, &cfg.allow_paths)?;
            let plan = moat_scan::ScanPlan::new(&job.source, scan_options(cfg))
                .map_err(|e| Error::Scan(e.to_string()))?;
            let out = plan.run().map_err(|e| Error::Scan(e.to_string()))?;
            let inv = Inventory {
                distro: out.report.distro.clone(),
                packages: out.report.packages.clone(),
                unknowns: out.report.unknowns.clone(),
                dependencies: out.report.dependencies.clone(),
            };
            Ok((out.report, inv))
        }
        JobKind::Sbom => {
            let text = job.sbom.as_deref().unwrap_or_default();
            let inv: Inventory = serde_json::from_str(text)
                .map_err(|e| Error::Scan(format!("the uploaded SBOM: {e}")))?;
            if inv.packages.len() > cfg.max_packages {
                return Err(Error::Scan(format!(
                    "the uploaded SBOM has {} packages, more than {}",
                    inv.packages.len(),
                    cfg.max_packages
                )));
            }
            let db = open_advisories(&cfg.advisory_db)?;
            let report = match_inventory(&db, &inv, &job.reference)?;
            Ok((report, inv))
        }
        JobKind::Rematch => Err(Error::Internal("a re-match is not a scan".into())),
    }
}

/// Store a scan's result, guarded on the job's lease: false when the lease was lost.
async fn store_result(
    store: &Store,
    cfg: &WorkerConfig,
    job: &Job,
    scanned: &Scanned,
) -> Result<bool> {
    let (report, inventory) = (&scanned.report, &scanned.inventory);
    let now = now_ms();
    let reference = job.reference.as_str();
    let tenant = job.tenant.as_str();
    // An uploaded inventory carries the digest its submitter gave (agents: the image id).
    let digest = report
        .image
        .as_ref()
        .map(|i| i.digest.clone())
        .or_else(|| job.digest.clone());
    let report_json = serde_json::to_string(report).map_err(|e| Error::Internal(e.to_string()))?;
    let inv_json = serde_json::to_string(inventory).map_err(|e| Error::Internal(e.to_string()))?;
    let image = "(SELECT id FROM images WHERE tenant = $1 AND reference = $2)";
    let mut stmts = vec![
        queue::finish_guard(job.id, &cfg.owner, "done", None),
        Stmt::new(
            "INSERT INTO images (tenant, reference, digest, inventory, updated_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, reference) DO UPDATE SET \
             digest = excluded.digest, inventory = excluded.inventory, updated_ms = excluded.updated_ms",
            vec![
                tenant.into(),
                reference.into(),
                digest.into(),
                inv_json.into(),
                now.into(),
            ],
        ),
        Stmt::new(
            format!("UPDATE jobs SET image_id = {image} WHERE id = $3"),
            vec![tenant.into(), reference.into(), job.id.into()],
        ),
        Stmt::new(
            format!(
                "INSERT INTO reports (image_id, job_id, tenant, report, created_ms) \
                 SELECT id, CAST($3 AS BIGINT), CAST($1 AS TEXT), CAST($4 AS TEXT), CAST($5 AS BIGINT) FROM {image} x"
            ),
            vec![
                tenant.into(),
                reference.into(),
                job.id.into(),
                report_json.into(),
                now.into(),
            ],
        ),
        Stmt::new(
            format!("DELETE FROM findings WHERE image_id = {image}"),
            vec![tenant.into(), reference.into()],
        ),
    ];
    let rows = finding_rows(report);
    let list: Vec<(&FindingKey, &VulnFinding)> = rows.iter().map(|(k, v)| (k, *v)).collect();
    stmts.extend(insert_findings(tenant, reference, &list, now));
    stmts.extend(crate::keys::store_image_keys(
        tenant,
        reference,
        &scanned.keys,
    ));
    stmts.extend(crate::keys::insert_new_prints(&scanned.prints));
    Ok(store.transaction(stmts).await?.is_some())
}

/// The advisory database's identity: size and modification time (an update or import
/// renames a new file into place).
pub fn advisory_stamp(path: &Path) -> Option<String> {
    let m = std::fs::metadata(path).ok()?;
    let mtime = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}-{}", m.len(), mtime.as_nanos()))
}

/// When the advisory database changed since the stamp the fleet recorded, record the
/// new one and enqueue a re-match (one replica or worker wins the race); the job id.
async fn watch_advisories(
    store: &Store,
    cfg: &WorkerConfig,
    last: &mut String,
) -> Result<Option<i64>> {
    let Some(stamp) = advisory_stamp(&cfg.advisory_db) else {
        return Ok(None);
    };
    if *last == stamp {
        return Ok(None);
    }
    let had = store
        .query(
            "SELECT value FROM meta WHERE key = 'advisory_stamp'",
            vec![],
        )
        .await?;
    *last = stamp.clone();
    let Some(old) = had.first().map(|r| r[0].string()) else {
        // The first worker ever: nothing stored was matched with another database.
        store
            .query(
                "INSERT INTO meta (key, value) VALUES ('advisory_stamp', $1) ON CONFLICT (key) DO NOTHING",
                vec![stamp.into()],
            )
            .await?;
        return Ok(None);
    };
    if old == stamp {
        return Ok(None);
    }
    let out = store
        .transaction(vec![
            Stmt::guard(
                "UPDATE meta SET value = $1 WHERE key = 'advisory_stamp' AND value = $2 RETURNING key",
                vec![stamp.into(), old.into()],
            ),
            Stmt::new(
                "INSERT INTO jobs (tenant, kind, source, reference, state, attempts, created_ms) \
                 VALUES ('*', 'rematch', 'advisory database changed', '', 'queued', 0, $1) RETURNING id",
                vec![now_ms().into()],
            ),
        ])
        .await?;
    Ok(out.and_then(|r| {
        r.get(1)
            .and_then(|rows| rows.first().and_then(|r| r[0].int()))
    }))
}
