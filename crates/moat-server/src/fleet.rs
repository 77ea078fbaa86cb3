//! The fleet: what `moat agent` posts from each Docker host (the host, its running
//! containers, the inventories of images the server does not know yet, `monitor`
//! alerts) and what is read back (hosts, containers, alerts, and the running containers
//! whose image has a finding).
//!
//! Containers are joined to images by digest: an agent uploads an image's inventory with
//! its image id as the digest, so a container is affected when a stored image of its
//! tenant with that digest has findings.

use crate::auth::{Caller, Role};
use crate::error::{Error, Result};
use crate::queue::{self, JobKind};
use crate::state::App;
use crate::store::{Row, Stmt, Store, Val, now_ms};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Bounds on what one agent request may carry.
pub const MAX_CONTAINERS: usize = 10_000;
pub const MAX_ALERTS: usize = 1_000;
const MAX_AUDIT_BYTES: usize = 4 << 20;
const MAX_ALERT_BYTES: usize = 1 << 20;

fn clean(field: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "{field}: 1-{max} bytes without control characters"
        )));
    }
    Ok(())
}

fn clean_opt(field: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() {
        Ok(())
    } else {
        clean(field, s, max)
    }
}

#[derive(Deserialize)]
pub struct HostInfo {
    pub name: String,
    #[serde(default)]
    pub engine_version: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub agent_version: String,
}

#[derive(Deserialize)]
pub struct ContainerInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The image reference the container was created from (`nginx:1.25`).
    #[serde(default)]
    pub image: String,
    /// The image id (`sha256:…`).
    pub image_id: String,
    #[serde(default = "running")]
    pub state: String,
}

fn running() -> String {
    "running".into()
}

#[derive(Deserialize)]
pub struct AgentReport {
    pub host: HostInfo,
    #[serde(default)]
    pub containers: Vec<ContainerInfo>,
    /// The host's `moat audit`, if the agent ran one: `{"summary": {…}, "report": {…}}`.
    #[serde(default)]
    pub audit: Option<Value>,
}

/// `POST /api/v1/agent/report`: the host and its containers (replacing what the host
/// posted before); answers the host's id, the alert cursor the server holds, and the
/// image ids whose inventories it does not have yet.
pub async fn report(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Json(r): Json<AgentReport>,
) -> Result<Json<Value>> {
    c.require(Role::Submitter)?;
    let h = &r.host;
    clean("host.name", &h.name, 256)?;
    clean_opt("host.engine_version", &h.engine_version, 256)?;
    clean_opt("host.os", &h.os, 256)?;
    clean_opt("host.agent_version", &h.agent_version, 256)?;
    if r.containers.len() > MAX_CONTAINERS {
        return Err(Error::BadRequest(format!(
            "containers: at most {MAX_CONTAINERS}"
        )));
    }
    for k in &r.containers {
        clean("container.id", &k.id, 256)?;
        clean("container.image_id", &k.image_id, 256)?;
        clean_opt("container.name", &k.name, 512)?;
        clean_opt("container.image", &k.image, 1024)?;
        clean("container.state", &k.state, 64)?;
    }
    let audit = match &r.audit {
        Some(a) => {
            let t = a.to_string();
            if t.len() > MAX_AUDIT_BYTES {
                return Err(Error::BadRequest(format!(
                    "audit: at most {MAX_AUDIT_BYTES} bytes"
                )));
            }
            Some(t)
        }
        None => None,
    };
    let tenant = c.tenant.as_str();
    let now = now_ms();
    let mut stmts = vec![
        Stmt::new(
            "INSERT INTO hosts (tenant, name, engine_version, os, agent_version, audit, first_seen_ms, last_seen_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (tenant, name) DO UPDATE SET \
             engine_version = excluded.engine_version, os = excluded.os, \
             agent_version = excluded.agent_version, last_seen_ms = excluded.last_seen_ms, \
             audit = COALESCE(excluded.audit, hosts.audit) RETURNING id, alert_cursor",
            vec![
                tenant.into(),
                h.name.as_str().into(),
                h.engine_version.as_str().into(),
                h.os.as_str().into(),
                h.agent_version.as_str().into(),
                audit.into(),
                now.into(),
            ],
        ),
        Stmt::new(
            "DELETE FROM containers WHERE host_id = (SELECT id FROM hosts WHERE tenant = $1 AND name = $2)",
            vec![tenant.into(), h.name.as_str().into()],
        ),
    ];
    // One row per container id (an engine lists each once; a hostile agent may not).
    let mut by_id: BTreeMap<&str, &ContainerInfo> = BTreeMap::new();
    for k in &r.containers {
        by_id.insert(k.id.as_str(), k);
    }
    let rows: Vec<&ContainerInfo> = by_id.into_values().collect();
    for chunk in rows.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO containers (host_id, tenant, container_id, name, image_ref, image_id, state, seen_ms) \
             SELECT h.id, CAST($1 AS TEXT), v.* FROM (SELECT id FROM hosts WHERE tenant = $1 AND name = $2) h, (",
        );
        let mut params: Vec<Val> = vec![tenant.into(), h.name.as_str().into()];
        for (n, k) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push_str(" UNION ALL ");
            }
            let b = params.len();
            sql.push_str(&format!(
                "SELECT CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT)",
                b + 1, b + 2, b + 3, b + 4, b + 5, b + 6
            ));
            params.extend([
                k.id.as_str().into(),
                k.name.as_str().into(),
                k.image.as_str().into(),
                k.image_id.as_str().into(),
                k.state.as_str().into(),
                now.into(),
            ]);
        }
        sql.push_str(") v");
        stmts.push(Stmt::new(sql, params));
    }
    let out = app
        .store
        .transaction(stmts)
        .await?
        .ok_or(Error::Internal("the host upsert returned nothing".into()))?;
    let (host_id, cursor) = out
        .first()
        .and_then(|rows| rows.first())
        .map(|r| (r[0].int(), r[1].int()))
        .ok_or(Error::Internal("the host upsert returned no row".into()))?;
    let wanted: BTreeSet<&str> = rows.iter().map(|k| k.image_id.as_str()).collect();
    let known = known_digests(&app.store, tenant, &wanted).await?;
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|d| !known.contains(**d))
        .copied()
        .collect();
    Ok(Json(json!({
        "host": host_id, "alert_cursor": cursor, "missing_images": missing,
    })))
}

/// The digests among `wanted` that the tenant has an image or a job (any state) for.
async fn known_digests(
    store: &Store,
    tenant: &str,
    wanted: &BTreeSet<&str>,
) -> Result<BTreeSet<String>> {
    let mut known = BTreeSet::new();
    let list: Vec<&&str> = wanted.iter().collect();
    for chunk in list.chunks(200) {
        let mut params: Vec<Val> = vec![tenant.into()];
        let mut marks = Vec::new();
        for d in chunk {
            params.push((**d).into());
            marks.push(format!("${}", params.len()));
        }
        let marks = marks.join(", ");
        let rows = store
            .query(
                &format!(
                    "SELECT digest FROM images WHERE tenant = $1 AND digest IN ({marks}) \
                     UNION SELECT digest FROM jobs WHERE tenant = $1 AND digest IN ({marks})"
                ),
                params,
            )
            .await?;
        known.extend(rows.iter().map(|r| r[0].string()));
    }
    Ok(known)
}

#[derive(Deserialize)]
pub struct ImageUpload {
    /// The image id (`sha256:…`): the digest containers are joined on.
    pub image_id: String,
    /// The reference shown for it (`nginx:1.25@sha256:…`).
    pub reference: String,
    /// moat's inventory (`moat sbom --format json`).
    pub sbom: Value,
}

/// `POST /api/v1/agent/images`: queue the inventory of an image read on a host.
pub async fn image(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Json(u): Json<ImageUpload>,
) -> Result<(StatusCode, Json<Value>)> {
    c.require(Role::Submitter)?;
    clean("image_id", &u.image_id, 256)?;
    clean("reference", &u.reference, 1024)?;
    let inv: moat_model::Inventory = serde_json::from_value(u.sbom)
        .map_err(|e| Error::BadRequest(format!("sbom: not a moat inventory: {e}")))?;
    let text = serde_json::to_string(&inv).map_err(|e| Error::Internal(e.to_string()))?;
    let id = queue::submit_with_digest(
        &app.store,
        &c.tenant,
        JobKind::Sbom,
        "agent",
        &u.reference,
        Some(text),
        Some(u.image_id),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job": id, "state": "queued" })),
    ))
}

#[derive(Deserialize)]
pub struct AlertIn {
    /// The record's position in the agent's store (the cursor).
    pub seq: i64,
    pub time_ns: i64,
    #[serde(default)]
    pub container: Option<String>,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub body: Value,
}

#[derive(Deserialize)]
pub struct AlertsIn {
    pub host: String,
    pub alerts: Vec<AlertIn>,
}

/// `POST /api/v1/agent/alerts`: alerts of a host's `moat monitor` store, each once
/// (by its position there); answers the new cursor (the highest position stored).
pub async fn post_alerts(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Json(a): Json<AlertsIn>,
) -> Result<Json<Value>> {
    c.require(Role::Submitter)?;
    clean("host", &a.host, 256)?;
    if a.alerts.len() > MAX_ALERTS {
        return Err(Error::BadRequest(format!("alerts: at most {MAX_ALERTS}")));
    }
    let tenant = c.tenant.as_str();
    let now = now_ms();
    let mut stmts = vec![Stmt::guard(
        "SELECT id FROM hosts WHERE tenant = $1 AND name = $2",
        vec![tenant.into(), a.host.as_str().into()],
    )];
    let mut max = 0i64;
    for chunk in a.alerts.chunks(50) {
        let mut sql = String::from(
            "INSERT INTO alerts (tenant, host_id, seq, time_ns, container_id, container_name, rule, severity, body, received_ms) \
             SELECT CAST($1 AS TEXT), h.id, v.* FROM (SELECT id FROM hosts WHERE tenant = $1 AND name = $2) h, (",
        );
        let mut params: Vec<Val> = vec![tenant.into(), a.host.as_str().into()];
        for (n, al) in chunk.iter().enumerate() {
            if al.seq <= 0 {
                return Err(Error::BadRequest("alert seq: a positive integer".into()));
            }
            for (f, v, m) in [
                ("container", &al.container, 256),
                ("rule", &al.rule, 512),
                ("severity", &al.severity, 32),
            ] {
                if let Some(v) = v {
                    clean(&format!("alert {f}"), v, m)?;
                }
            }
            let body = al.body.to_string();
            if body.len() > MAX_ALERT_BYTES {
                return Err(Error::BadRequest(format!(
                    "alert body: at most {MAX_ALERT_BYTES} bytes"
                )));
            }
            let cname = al
                .body
                .get("container")
                .and_then(|c| c.get("name"))
                .and_then(Value::as_str)
                .map(|s| s.chars().take(512).collect::<String>());
            max = max.max(al.seq);
            if n > 0 {
                sql.push_str(" UNION ALL ");
            }
            let b = params.len();
            sql.push_str(&format!(
                "SELECT CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT)",
                b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8
            ));
            params.extend([
                al.seq.into(),
                al.time_ns.into(),
                al.container.clone().into(),
                cname.into(),
                al.rule.clone().into(),
                al.severity.clone().map(|s| s.to_ascii_uppercase()).into(),
                body.into(),
                now.into(),
            ]);
        }
        // SQLite needs a WHERE before an upsert clause after a SELECT.
        sql.push_str(") v WHERE 1 = 1 ON CONFLICT (host_id, seq) DO NOTHING");
        stmts.push(Stmt::new(sql, params));
    }
    stmts.push(Stmt::new(
        "UPDATE hosts SET alert_cursor = CASE WHEN alert_cursor IS NULL OR alert_cursor < $3 \
         THEN CAST($3 AS BIGINT) ELSE alert_cursor END WHERE tenant = $1 AND name = $2 RETURNING alert_cursor",
        vec![tenant.into(), a.host.as_str().into(), max.into()],
    ));
    let out = app.store.transaction(stmts).await?.ok_or(Error::NotFound)?;
    let cursor = out
        .last()
        .and_then(|rows| rows.first())
        .and_then(|r| r[0].int());
    Ok(Json(
        json!({ "alert_cursor": cursor, "received": a.alerts.len() }),
    ))
}

#[derive(Deserialize)]
pub struct ListQuery {
    after: Option<i64>,
    limit: Option<i64>,
    host: Option<i64>,
}

impl ListQuery {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

fn audit_summary(text: Option<&str>) -> Value {
    // The audit report as posted is kept; the listing shows its summary.
    text.and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|v| v.get("summary").cloned().unwrap_or(Value::Null))
        .unwrap_or(Value::Null)
}

/// The tenant's hosts.
pub async fn list_hosts(store: &Store, tenant: &str) -> Result<Vec<Value>> {
    let rows = store
        .query(
            "SELECT h.id, h.name, h.engine_version, h.os, h.agent_version, h.first_seen_ms, \
             h.last_seen_ms, h.alert_cursor, h.audit, \
             (SELECT COUNT(*) FROM containers c WHERE c.host_id = h.id), \
             (SELECT COUNT(*) FROM alerts a WHERE a.host_id = h.id) \
             FROM hosts h WHERE h.tenant = $1 ORDER BY h.name LIMIT 10000",
            vec![tenant.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({
                "id": r[0].int(), "name": r[1].text(), "engine_version": r[2].text(),
                "os": r[3].text(), "agent_version": r[4].text(), "first_seen_ms": r[5].int(),
                "last_seen_ms": r[6].int(), "alert_cursor": r[7].int(),
                "audit": audit_summary(r[8].text()), "containers": r[9].int(), "alerts": r[10].int(),
            })
        })
        .collect())
}

pub async fn hosts(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "hosts": list_hosts(&app.store, &c.tenant).await? }),
    ))
}

pub async fn containers(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>> {
    let rows = app
        .store
        .query(
            "SELECT c.host_id, h.name, c.container_id, c.name, c.image_ref, c.image_id, c.state, c.seen_ms, \
             (SELECT MIN(i.id) FROM images i WHERE i.tenant = c.tenant AND i.digest = c.image_id) \
             FROM containers c JOIN hosts h ON h.id = c.host_id \
             WHERE c.tenant = $1 AND (CAST($2 AS BIGINT) < 0 OR c.host_id = CAST($2 AS BIGINT)) \
             ORDER BY h.name, c.name LIMIT $3",
            vec![
                c.tenant.as_str().into(),
                q.host.unwrap_or(-1).into(),
                q.limit.unwrap_or(1000).clamp(1, 10_000).into(),
            ],
        )
        .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "host_id": r[0].int(), "host": r[1].text(), "id": r[2].text(), "name": r[3].text(),
                "image": r[4].text(), "image_id": r[5].text(), "state": r[6].text(),
                "seen_ms": r[7].int(), "image_row": r[8].int(),
            })
        })
        .collect();
    Ok(Json(json!({ "containers": list })))
}

/// The tenant's alerts, oldest first after `after` (their server id).
pub async fn list_alerts(
    store: &Store,
    tenant: &str,
    after: i64,
    host: i64,
    limit: i64,
    newest_first: bool,
) -> Result<Vec<Value>> {
    let order = if newest_first { "DESC" } else { "ASC" };
    let rows = store
        .query(
            &format!(
                "SELECT a.id, h.name, a.seq, a.time_ns, a.container_id, a.container_name, a.rule, \
                 a.severity, a.body FROM alerts a JOIN hosts h ON h.id = a.host_id \
                 WHERE a.tenant = $1 AND a.id > $2 AND (CAST($3 AS BIGINT) < 0 OR a.host_id = CAST($3 AS BIGINT)) \
                 ORDER BY a.id {order} LIMIT $4"
            ),
            vec![tenant.into(), after.into(), host.into(), limit.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({
                "id": r[0].int(), "host": r[1].text(), "seq": r[2].int(), "time_ns": r[3].int(),
                "container": r[4].text(), "container_name": r[5].text(), "rule": r[6].text(),
                "severity": r[7].text(),
                "body": r[8].text().and_then(|t| serde_json::from_str::<Value>(t).ok()),
            })
        })
        .collect())
}

pub async fn alerts(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>> {
    let list = list_alerts(
        &app.store,
        &c.tenant,
        q.after.unwrap_or(0),
        q.host.unwrap_or(-1),
        q.limit(),
        false,
    )
    .await?;
    Ok(Json(json!({ "alerts": list })))
}

/// The tenant's running containers whose image has findings: host, container, image,
/// findings by severity and the advisories (at most 100 named per container).
pub async fn list_affected(store: &Store, tenant: &str) -> Result<Vec<Value>> {
    let rows = store
        .query(
            "SELECT h.name, c.container_id, c.name, c.image_ref, c.image_id, i.id, i.reference, \
             f.vuln_id, f.severity, f.severity_rank, f.package, f.version, f.fixed \
             FROM containers c JOIN hosts h ON h.id = c.host_id \
             JOIN images i ON i.tenant = c.tenant AND i.digest = c.image_id \
             JOIN findings f ON f.image_id = i.id \
             WHERE c.tenant = $1 AND c.state = 'running' \
             ORDER BY h.name, c.name, c.container_id, i.id, f.severity_rank DESC, f.vuln_id LIMIT 200000",
            vec![tenant.into()],
        )
        .await?;
    Ok(group_affected(&rows))
}

fn group_affected(rows: &[Row]) -> Vec<Value> {
    // (host, container id) → the first image row and its findings.
    let mut out: Vec<Value> = Vec::new();
    let mut current: Option<(String, String, i64)> = None;
    for r in rows {
        let key = (r[0].string(), r[1].string());
        let image = r[5].int().unwrap_or(0);
        let same = current
            .as_ref()
            .is_some_and(|(h, c, _)| *h == key.0 && *c == key.1);
        if !same {
            current = Some((key.0.clone(), key.1.clone(), image));
            out.push(json!({
                "host": key.0, "container": key.1, "name": r[2].text(), "image": r[3].text(),
                "image_id": r[4].text(), "image_row": image, "reference": r[6].text(),
                "findings": {}, "advisories": [],
            }));
        }
        // Another stored image with the same digest: counted once, from the first.
        if current.as_ref().is_some_and(|(_, _, i)| *i != image) {
            continue;
        }
        let Some(entry) = out.last_mut() else {
            continue;
        };
        let sev = r[8].string();
        let n = entry["findings"][&sev].as_i64().unwrap_or(0);
        entry["findings"][&sev] = json!(n + 1);
        if let Some(list) = entry["advisories"].as_array_mut()
            && list.len() < 100
        {
            list.push(json!({
                "id": r[7].text(), "severity": sev, "package": r[10].text(),
                "version": r[11].text(), "fixed": r[12].text(),
            }));
        }
    }
    out
}

pub async fn affected(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "containers": list_affected(&app.store, &c.tenant).await? }),
    ))
}

/// The running containers (on every host of the image's tenant) of a stored image.
pub async fn running_containers_of_image(store: &Store, image: i64) -> Result<Vec<Value>> {
    let rows = store
        .query(
            "SELECT h.name, c.container_id, c.name, c.image_ref FROM containers c \
             JOIN hosts h ON h.id = c.host_id \
             JOIN images i ON i.tenant = c.tenant AND i.digest = c.image_id \
             WHERE i.id = $1 AND c.state = 'running' ORDER BY h.name, c.name LIMIT 10000",
            vec![image.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| json!({ "host": r[0].text(), "id": r[1].text(), "name": r[2].text(), "image": r[3].text() }))
        .collect())
}
