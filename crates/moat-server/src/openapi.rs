//! The OpenAPI 3.1 document served at `/openapi.json`, built from [`ROUTES`]: the one
//! table of the API's operations (a test checks that every route answers).

use serde_json::{Value, json};

/// One operation: method, path, the role it needs (`None`: no token), summary, and
/// whether it takes a JSON body.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub role: Option<&'static str>,
    pub summary: &'static str,
    pub body: Option<&'static str>,
}

const fn r(
    method: &'static str,
    path: &'static str,
    role: Option<&'static str>,
    summary: &'static str,
    body: Option<&'static str>,
) -> Route {
    Route {
        method,
        path,
        role,
        summary,
        body,
    }
}

pub const ROUTES: &[Route] = &[
    r("get", "/healthz", None, "Liveness: `ok`.", None),
    r("get", "/openapi.json", None, "This document.", None),
    r(
        "get",
        "/login",
        None,
        "Set the dashboard's cookie from `?token=` and redirect to `/`.",
        None,
    ),
    r(
        "get",
        "/",
        Some("reader"),
        "The dashboard (HTML): images, findings by severity and fix, hosts, running affected containers, alerts.",
        None,
    ),
    r(
        "post",
        "/api/v1/scans",
        Some("submitter"),
        "Queue a scan: `{\"source\": \"registry:REF\"}` or `{\"sbom\": <moat sbom --format json>, \"reference\": \"NAME\"}`. 202 `{\"job\": ID}`.",
        Some("Submit"),
    ),
    r(
        "get",
        "/api/v1/jobs/{id}",
        Some("reader"),
        "A job: kind, state (queued, running, done, failed), attempts, image, error.",
        None,
    ),
    r(
        "get",
        "/api/v1/jobs/{id}/report",
        Some("reader"),
        "The report a scan or SBOM job stored (moat's JSON report; what `moat scan --server` renders).",
        None,
    ),
    r(
        "post",
        "/api/v1/agent/report",
        Some("submitter"),
        "An agent's host and running containers (replacing the host's previous list); answers the host id, the alert cursor and the image ids whose inventories the server lacks.",
        Some("AgentReport"),
    ),
    r(
        "post",
        "/api/v1/agent/images",
        Some("submitter"),
        "Queue the inventory of an image read on a host: `{\"image_id\": \"sha256:…\", \"reference\": \"…\", \"sbom\": <inventory>}`. 202 `{\"job\": ID}`.",
        Some("ImageUpload"),
    ),
    r(
        "post",
        "/api/v1/agent/alerts",
        Some("submitter"),
        "Alerts of a host's `moat monitor` store, each stored once by its position (`seq`); answers the new cursor.",
        Some("AlertsIn"),
    ),
    r(
        "get",
        "/api/v1/hosts",
        Some("reader"),
        "The tenant's hosts: engine, containers, alerts, last report.",
        None,
    ),
    r(
        "get",
        "/api/v1/containers",
        Some("reader"),
        "The containers agents reported (`?host=ID&limit=N`).",
        None,
    ),
    r(
        "get",
        "/api/v1/alerts",
        Some("reader"),
        "Alerts from the hosts' monitors, oldest first (`?after=ID&host=ID&limit=N`).",
        None,
    ),
    r(
        "get",
        "/api/v1/affected",
        Some("reader"),
        "Running containers whose image has findings, with the findings by severity and the advisories.",
        None,
    ),
    r(
        "get",
        "/api/v1/images",
        Some("reader"),
        "The tenant's images with findings counted by severity (`?after=ID&limit=N`).",
        None,
    ),
    r(
        "get",
        "/api/v1/images/{id}",
        Some("reader"),
        "One image and its findings; 404 for another tenant's image.",
        None,
    ),
    r(
        "get",
        "/api/v1/images/{id}/report",
        Some("reader"),
        "The image's latest report (moat's JSON report).",
        None,
    ),
    r(
        "get",
        "/api/v1/findings",
        Some("reader"),
        "The tenant's findings, most severe first (`?severity=HIGH&limit=N`).",
        None,
    ),
    r(
        "post",
        "/api/v1/tokens",
        Some("admin"),
        "Create a token of the tenant: `{\"role\": \"reader|submitter|admin\", \"label\": \"…\"}`; the token is shown once.",
        Some("NewToken"),
    ),
    r(
        "delete",
        "/api/v1/tokens/{id}",
        Some("admin"),
        "Revoke a token of the tenant.",
        None,
    ),
    r(
        "post",
        "/api/v1/webhooks",
        Some("admin"),
        "Register a webhook: `{\"url\": \"https://…\", \"secret\": \"…\"}`; new findings are POSTed signed with HMAC-SHA256.",
        Some("NewWebhook"),
    ),
    r(
        "get",
        "/api/v1/webhooks/deliveries",
        Some("admin"),
        "The delivery log: state, attempts, last status.",
        None,
    ),
    r(
        "post",
        "/api/v1/rematch",
        Some("admin"),
        "Queue a re-match of the tenant's stored inventories against the current advisory database.",
        None,
    ),
    r(
        "get",
        "/api/v1/audit",
        Some("admin"),
        "The tenant's audit log: every API action with its token and outcome.",
        None,
    ),
];

fn schemas() -> Value {
    json!({
        "Submit": {
            "type": "object",
            "properties": {
                "source": { "type": "string", "maxLength": 4096 },
                "sbom": { "type": "object", "description": "moat's inventory (moat sbom --format json)" },
                "reference": { "type": "string", "maxLength": 1024 },
                "digest": { "type": "string", "description": "with an sbom: the image's digest or id" }
            }
        },
        "AgentReport": {
            "type": "object", "required": ["host"],
            "properties": {
                "host": { "type": "object", "required": ["name"], "properties": {
                    "name": { "type": "string" }, "engine_version": { "type": "string" },
                    "os": { "type": "string" }, "agent_version": { "type": "string" } } },
                "containers": { "type": "array", "maxItems": 10000, "items": {
                    "type": "object", "required": ["id", "image_id"], "properties": {
                        "id": { "type": "string" }, "name": { "type": "string" },
                        "image": { "type": "string" }, "image_id": { "type": "string" },
                        "state": { "type": "string" } } } },
                "audit": { "type": "object", "description": "moat audit --format json" }
            }
        },
        "ImageUpload": {
            "type": "object", "required": ["image_id", "reference", "sbom"],
            "properties": {
                "image_id": { "type": "string" }, "reference": { "type": "string" },
                "sbom": { "type": "object", "description": "moat's inventory" }
            }
        },
        "AlertsIn": {
            "type": "object", "required": ["host", "alerts"],
            "properties": {
                "host": { "type": "string" },
                "alerts": { "type": "array", "maxItems": 1000, "items": {
                    "type": "object", "required": ["seq", "time_ns"], "properties": {
                        "seq": { "type": "integer" }, "time_ns": { "type": "integer" },
                        "container": { "type": "string" }, "rule": { "type": "string" },
                        "severity": { "type": "string" }, "body": { "type": "object" } } } }
            }
        },
        "NewToken": {
            "type": "object", "required": ["role"],
            "properties": {
                "role": { "type": "string", "enum": ["admin", "submitter", "reader"] },
                "label": { "type": "string", "maxLength": 256 }
            }
        },
        "NewWebhook": {
            "type": "object", "required": ["url", "secret"],
            "properties": {
                "url": { "type": "string", "format": "uri" },
                "secret": { "type": "string", "minLength": 16, "maxLength": 256 }
            }
        },
        "Error": { "type": "object", "properties": { "error": { "type": "string" } } }
    })
}

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let mut op = json!({
            "summary": route.summary,
            "operationId": format!("{}{}", route.method, route.path.replace(['/', '{', '}', '.'], "_")),
            "responses": {
                "200": { "description": "OK" },
                "400": { "description": "Bad request", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "401": { "description": "No, an unknown, a wrong or a revoked token" },
                "403": { "description": "The token's role does not allow this" },
                "404": { "description": "Not found, or another tenant's" }
            }
        });
        if let Some(role) = route.role {
            op["security"] = json!([{ "bearer": [] }]);
            op["x-moat-role"] = json!(role);
        }
        if let Some(body) = route.body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": {
                "schema": { "$ref": format!("#/components/schemas/{body}") } } } });
        }
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "moat serve", "version": env!("CARGO_PKG_VERSION"),
                  "description": "moat as a service: scans queued for workers, reports, findings, re-match on new advisory data, webhooks." },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "moat_<id>_<secret>; roles admin > submitter > reader, scoped to a tenant" } }
        }
    })
}
