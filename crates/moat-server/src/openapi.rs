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
        "The dashboard (HTML): images, findings by severity and fix.",
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
                "reference": { "type": "string", "maxLength": 1024 }
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
