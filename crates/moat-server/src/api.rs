//! The HTTP API (JSON under `/api/v1`), the OpenAPI document, the dashboard.
//!
//! Every request but `/healthz`, `/openapi.json` and `/login` carries a token
//! (`Authorization: Bearer moat_…`, or the `moat_token` cookie `/login` sets for the
//! dashboard) and is written to the audit log with its outcome, refused ones included.
//! Every query is scoped to the caller's tenant: another tenant's image is 404, the
//! same answer as an image that does not exist.

use crate::auth::{Caller, Role};
use crate::error::{Error, Result};
use crate::queue::{self, JobKind};
use crate::store::{Row, Store, now_ms};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub use crate::state::App;

/// The router: the API, the OpenAPI document, the dashboard.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/openapi.json", get(openapi))
        .route("/login", get(login))
        .route("/", get(dashboard))
        .route(
            "/api/v1/scans",
            post(submit).layer(DefaultBodyLimit::max(queue::MAX_SBOM_BYTES + 64 * 1024)),
        )
        .route("/api/v1/jobs/{id}", get(job))
        .route("/api/v1/jobs/{id}/report", get(job_report))
        .route(
            "/api/v1/agent/report",
            post(crate::fleet::report).layer(DefaultBodyLimit::max(16 << 20)),
        )
        .route(
            "/api/v1/agent/images",
            post(crate::fleet::image)
                .layer(DefaultBodyLimit::max(queue::MAX_SBOM_BYTES + 64 * 1024)),
        )
        .route(
            "/api/v1/agent/alerts",
            post(crate::fleet::post_alerts).layer(DefaultBodyLimit::max(64 << 20)),
        )
        .route("/api/v1/hosts", get(crate::fleet::hosts))
        .route("/api/v1/containers", get(crate::fleet::containers))
        .route("/api/v1/alerts", get(crate::fleet::alerts))
        .route("/api/v1/affected", get(crate::fleet::affected))
        .route("/api/v1/images", get(images))
        .route("/api/v1/images/{id}", get(image))
        .route("/api/v1/images/{id}/report", get(report))
        .route("/api/v1/findings", get(findings))
        .route("/api/v1/tokens", post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/webhooks", post(create_webhook))
        .route("/api/v1/webhooks/deliveries", get(deliveries))
        .route("/api/v1/rematch", post(rematch))
        .route("/api/v1/audit", get(audit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            authenticate,
        ))
        .with_state(app)
}

fn public(path: &str) -> bool {
    matches!(path, "/healthz" | "/openapi.json" | "/login")
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("moat_token=").map(str::to_string))
}

/// Authenticate (all but the public paths) and write the audit log.
async fn authenticate(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let path: String = req.uri().path().chars().take(512).collect();
    if public(&path) {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    let caller = match token_of(req.headers()) {
        None => Err(Error::Unauthorized("no token")),
        Some(t) => app.verifier.verify(&app.store, &t).await,
    };
    let (caller, resp) = match caller {
        Ok(c) => {
            req.extensions_mut().insert(c.clone());
            (Some(c), next.run(req).await)
        }
        Err(e) => (None, e.into_response()),
    };
    let status = i64::from(resp.status().as_u16());
    let logged = app
        .store
        .query(
            "INSERT INTO audit_log (at_ms, tenant, token_id, method, path, status) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                now_ms().into(),
                caller.as_ref().map(|c| c.tenant.clone()).into(),
                caller.as_ref().map(|c| c.token_id.clone()).into(),
                method.into(),
                path.into(),
                status.into(),
            ],
        )
        .await;
    match logged {
        Ok(_) => resp,
        // An action that cannot be audited is not acknowledged as done.
        Err(e) => e.into_response(),
    }
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

#[derive(Deserialize)]
struct LoginQuery {
    token: String,
}

/// Set the dashboard's cookie and go to the dashboard.
async fn login(State(app): State<Arc<App>>, Query(q): Query<LoginQuery>) -> Result<Response> {
    app.verifier.verify(&app.store, &q.token).await?;
    let cookie = format!("moat_token={}; HttpOnly; SameSite=Strict; Path=/", q.token);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

#[derive(Deserialize)]
struct Submit {
    /// An image source the workers read (`registry:REF`, `docker-archive:PATH` under a
    /// worker's `--allow-path`, …).
    source: Option<String>,
    /// An inventory (`moat sbom --format json`).
    sbom: Option<Value>,
    /// The image's name in the service (default: the source).
    reference: Option<String>,
    /// With an sbom: the digest (or image id) of the image it describes; running
    /// containers posted by agents are joined to images by it.
    digest: Option<String>,
}

fn clean(field: &str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "{field}: 1-{max} bytes without control characters"
        )));
    }
    Ok(())
}

async fn submit(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Json(s): Json<Submit>,
) -> Result<(StatusCode, Json<Value>)> {
    c.require(Role::Submitter)?;
    if let Some(d) = &s.digest {
        clean("digest", d, 256)?;
        if s.sbom.is_none() {
            return Err(Error::BadRequest("digest: only with an sbom".into()));
        }
    }
    let (kind, source, reference, sbom) = match (s.source, s.sbom) {
        (Some(src), None) => {
            clean("source", &src, queue::MAX_SOURCE_LEN)?;
            moat_image::Source::parse(&src).map_err(|e| Error::BadRequest(e.to_string()))?;
            let reference = s.reference.unwrap_or_else(|| src.clone());
            (JobKind::Scan, src, reference, None)
        }
        (None, Some(sbom)) => {
            let inv: moat_model::Inventory = serde_json::from_value(sbom)
                .map_err(|e| Error::BadRequest(format!("sbom: not a moat inventory: {e}")))?;
            let reference = s.reference.ok_or(Error::BadRequest(
                "reference: required with an sbom (the image's name)".into(),
            ))?;
            let text = serde_json::to_string(&inv).map_err(|e| Error::Internal(e.to_string()))?;
            (JobKind::Sbom, "sbom".to_string(), reference, Some(text))
        }
        _ => {
            return Err(Error::BadRequest(
                "give exactly one of source and sbom".into(),
            ));
        }
    };
    clean("reference", &reference, 1024)?;
    let id = queue::submit_with_digest(
        &app.store, &c.tenant, kind, &source, &reference, sbom, s.digest,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job": id, "state": "queued" })),
    ))
}

async fn job(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let rows = app
        .store
        .query(
            "SELECT id, kind, state, attempts, image_id, error, reference, digest, detail FROM jobs WHERE id = $1 AND tenant = $2",
            vec![id.into(), c.tenant.as_str().into()],
        )
        .await?;
    let r = rows.first().ok_or(Error::NotFound)?;
    Ok(Json(json!({
        "id": r[0].int(), "kind": r[1].text(), "state": r[2].text(), "attempts": r[3].int(),
        "image": r[4].int(), "error": r[5].text(), "reference": r[6].text(),
        "digest": r[7].text(),
        "detail": r[8].text().and_then(|t| serde_json::from_str::<Value>(t).ok()),
    })))
}

/// The report a scan or SBOM job stored (not a later re-match's).
async fn job_report(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response> {
    stored_report(
        &app,
        "SELECT report FROM reports WHERE job_id = $1 AND tenant = $2 ORDER BY id LIMIT 1",
        id,
        &c.tenant,
    )
    .await
}

/// The one report `sql` (with `$1` = `id`, `$2` = the tenant) selects, as stored (JSON).
async fn stored_report(app: &App, sql: &str, id: i64, tenant: &str) -> Result<Response> {
    let rows = app.store.query(sql, vec![id.into(), tenant.into()]).await?;
    let r = rows.first().ok_or(Error::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], r[0].string()).into_response())
}

#[derive(Deserialize)]
struct Page {
    after: Option<i64>,
    limit: Option<i64>,
    severity: Option<String>,
}

impl Page {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// Images of the tenant with their findings counted by severity.
pub async fn list_images(
    store: &Store,
    tenant: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Value>> {
    let rows = store
        .query(
            "SELECT id, reference, digest, updated_ms FROM images WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3",
            vec![tenant.into(), after.into(), limit.into()],
        )
        .await?;
    let counts = store
        .query(
            "SELECT image_id, severity, COUNT(*) FROM findings WHERE tenant = $1 GROUP BY image_id, severity",
            vec![tenant.into()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id = r[0].int();
            let mut by = serde_json::Map::new();
            for c in counts.iter().filter(|c| c[0].int() == id) {
                by.insert(c[1].string(), json!(c[2].int()));
            }
            json!({ "id": id, "reference": r[1].text(), "digest": r[2].text(),
                    "updated_ms": r[3].int(), "findings": by })
        })
        .collect())
}

async fn images(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Query(p): Query<Page>,
) -> Result<Json<Value>> {
    let list = list_images(&app.store, &c.tenant, p.after.unwrap_or(0), p.limit()).await?;
    Ok(Json(json!({ "images": list })))
}

fn finding_json(r: &Row) -> Value {
    json!({
        "image": r[0].int(), "reference": r[1].text(), "id": r[2].text(), "package": r[3].text(),
        "version": r[4].text(), "ecosystem": r[5].text(), "severity": r[6].text(),
        "fixed": r[7].text(), "title": r[8].text(),
    })
}

const FINDING_COLS: &str = "f.image_id, i.reference, f.vuln_id, f.package, f.version, f.ecosystem, f.severity, f.fixed, f.title";

/// The tenant's findings, most severe first (`image` narrows to one image).
pub async fn list_findings(
    store: &Store,
    tenant: &str,
    image: Option<i64>,
    severity: Option<&str>,
    limit: i64,
) -> Result<Vec<Value>> {
    let rows = store
        .query(
            &format!(
                "SELECT {FINDING_COLS} FROM findings f JOIN images i ON i.id = f.image_id \
                 WHERE f.tenant = $1 AND (CAST($2 AS BIGINT) < 0 OR f.image_id = CAST($2 AS BIGINT)) AND ($3 = '' OR f.severity = $3) \
                 ORDER BY f.severity_rank DESC, f.vuln_id, i.reference, f.package LIMIT $4"
            ),
            vec![
                tenant.into(),
                image.unwrap_or(-1).into(),
                severity.unwrap_or_default().to_ascii_uppercase().into(),
                limit.into(),
            ],
        )
        .await?;
    Ok(rows.iter().map(finding_json).collect())
}

async fn image(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<Value>> {
    let rows = app
        .store
        .query(
            "SELECT id, reference, digest, updated_ms FROM images WHERE id = $1 AND tenant = $2",
            vec![id.into(), c.tenant.as_str().into()],
        )
        .await?;
    let r = rows.first().ok_or(Error::NotFound)?;
    let f = list_findings(&app.store, &c.tenant, Some(id), None, 10_000).await?;
    Ok(Json(json!({
        "id": r[0].int(), "reference": r[1].text(), "digest": r[2].text(),
        "updated_ms": r[3].int(), "findings": f,
    })))
}

async fn report(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Response> {
    stored_report(
        &app,
        "SELECT report FROM reports WHERE image_id = $1 AND tenant = $2 ORDER BY id DESC LIMIT 1",
        id,
        &c.tenant,
    )
    .await
}

async fn findings(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Query(p): Query<Page>,
) -> Result<Json<Value>> {
    let f = list_findings(
        &app.store,
        &c.tenant,
        None,
        p.severity.as_deref(),
        p.limit(),
    )
    .await?;
    Ok(Json(json!({ "findings": f })))
}

#[derive(Deserialize)]
struct NewToken {
    role: String,
    #[serde(default)]
    label: String,
}

async fn create_token(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Json(t): Json<NewToken>,
) -> Result<(StatusCode, Json<Value>)> {
    c.require(Role::Admin)?;
    let role =
        Role::parse(&t.role).ok_or(Error::BadRequest("role: admin, submitter or reader".into()))?;
    if t.label.len() > 256 {
        return Err(Error::BadRequest("label: at most 256 bytes".into()));
    }
    let token = crate::auth::create_token(&app.store, &c.tenant, role, &t.label).await?;
    let id = token.split('_').nth(1).unwrap_or_default().to_string();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": token, "role": role.as_str(), "tenant": c.tenant })),
    ))
}

async fn revoke_token(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    c.require(Role::Admin)?;
    if crate::auth::revoke_token(&app.store, &c.tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

#[derive(Deserialize)]
struct NewWebhook {
    url: String,
    secret: String,
}

async fn create_webhook(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Json(w): Json<NewWebhook>,
) -> Result<(StatusCode, Json<Value>)> {
    c.require(Role::Admin)?;
    crate::webhook::check_url(&w.url)?;
    if w.secret.len() < 16 || w.secret.len() > 256 {
        return Err(Error::BadRequest("secret: 16-256 bytes".into()));
    }
    let rows = app
        .store
        .query(
            "INSERT INTO webhooks (tenant, url, secret, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
            vec![
                c.tenant.as_str().into(),
                w.url.into(),
                w.secret.into(),
                now_ms().into(),
            ],
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": rows.first().and_then(|r| r[0].int()) })),
    ))
}

async fn deliveries(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Query(p): Query<Page>,
) -> Result<Json<Value>> {
    c.require(Role::Admin)?;
    let rows = app
        .store
        .query(
            "SELECT d.id, d.webhook_id, d.event, d.state, d.attempts, d.delivered_ms, \
             (SELECT COUNT(*) FROM delivery_attempts a WHERE a.delivery_id = d.id), \
             (SELECT a.status FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1), \
             (SELECT a.error FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) \
             FROM deliveries d WHERE d.tenant = $1 ORDER BY d.id LIMIT $2",
            vec![c.tenant.as_str().into(), p.limit().into()],
        )
        .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "id": r[0].int(), "webhook": r[1].int(), "event": r[2].text(),
                    "state": r[3].text(), "attempts": r[4].int(), "delivered_ms": r[5].int(),
                    "logged_attempts": r[6].int(), "last_status": r[7].int(), "last_error": r[8].text() })
        })
        .collect();
    Ok(Json(json!({ "deliveries": list })))
}

async fn rematch(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
) -> Result<(StatusCode, Json<Value>)> {
    c.require(Role::Admin)?;
    let id = queue::submit(
        &app.store,
        &c.tenant,
        JobKind::Rematch,
        "requested",
        "",
        None,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job": id }))))
}

async fn audit(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
    Query(p): Query<Page>,
) -> Result<Json<Value>> {
    c.require(Role::Admin)?;
    let rows = app
        .store
        .query(
            "SELECT id, at_ms, token_id, method, path, status FROM audit_log WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3",
            vec![
                c.tenant.as_str().into(),
                p.after.unwrap_or(0).into(),
                p.limit().into(),
            ],
        )
        .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "id": r[0].int(), "at_ms": r[1].int(), "token": r[2].text(),
                    "method": r[3].text(), "path": r[4].text(), "status": r[5].int() })
        })
        .collect();
    Ok(Json(json!({ "entries": list })))
}

async fn dashboard(
    State(app): State<Arc<App>>,
    Extension(c): Extension<Caller>,
) -> Result<Html<String>> {
    let images = list_images(&app.store, &c.tenant, 0, 1000).await?;
    let findings = list_findings(&app.store, &c.tenant, None, None, 2000).await?;
    let fleet = moat_report::dashboard::Fleet {
        hosts: crate::fleet::list_hosts(&app.store, &c.tenant).await?,
        affected: crate::fleet::list_affected(&app.store, &c.tenant).await?,
        alerts: crate::fleet::list_alerts(&app.store, &c.tenant, 0, -1, 100, true).await?,
    };
    Ok(Html(moat_report::dashboard::render_fleet(
        &c.tenant, &images, &findings, &fleet,
    )))
}
