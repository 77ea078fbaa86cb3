//! Webhook deliveries: a POST of the event's JSON body with
//! `X-Moat-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>`,
//! `X-Moat-Delivery: <id>` (the same on every retry: receivers drop duplicates by it)
//! and `X-Moat-Event`. A delivery that gets no 2xx is retried with exponential backoff
//! (1 s, 2 s, 4 s … at most 5 min) up to [`MAX_ATTEMPTS`] times; every attempt is logged
//! in `delivery_attempts`. Deliveries are claimed like jobs (`SKIP LOCKED`, a lease), so
//! any worker sends them and only one sends each attempt.

use crate::error::{Error, Result};
use crate::queue::Step;
use crate::store::{Stmt, Store, now_ms};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;
use std::time::Duration;

pub const MAX_ATTEMPTS: i64 = 8;
const TIMEOUT: Duration = Duration::from_secs(10);
const LEASE_MS: i64 = 60_000;

/// The signature header's value for `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length: new_from_slice cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// A webhook URL must be http(s) with a host.
pub fn check_url(url: &str) -> Result<()> {
    let u = url::Url::parse(url).map_err(|e| Error::BadRequest(format!("webhook url: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() || url.len() > 2048 {
        return Err(Error::BadRequest(
            "webhook url: http:// or https:// with a host, at most 2048 bytes".into(),
        ));
    }
    Ok(())
}

fn backoff_ms(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    (1000i64.saturating_mul(1 << exp)).min(300_000)
}

/// Send one due delivery, if there is one; `ca`: the CA certificates (PEM) trusted for
/// https receivers instead of the WebPKI roots.
pub async fn deliver_one(store: &Store, ca: Option<&Path>) -> Result<Option<Step>> {
    let now = now_ms();
    let rows = store
        .query(
            "UPDATE deliveries SET lease_until_ms = $1, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM deliveries WHERE state = 'pending' AND next_ms <= $2 \
                 AND (lease_until_ms IS NULL OR lease_until_ms < $2) \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, webhook_id, body, attempts, event",
            vec![(now + LEASE_MS).into(), now.into()],
        )
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let (id, hook, body, attempts, event) = (
        r[0].int().unwrap_or(0),
        r[1].int().unwrap_or(0),
        r[2].string(),
        r[3].int().unwrap_or(1),
        r[4].string(),
    );
    let target = store
        .query(
            "SELECT url, secret FROM webhooks WHERE id = $1",
            vec![hook.into()],
        )
        .await?;
    let Some(t) = target.first() else {
        store
            .query(
                "UPDATE deliveries SET state = 'failed' WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        return Ok(Some(Step::Delivered {
            delivery: id,
            status: None,
        }));
    };
    let (url, secret) = (t[0].string(), t[1].string());
    let signature = sign(&secret, body.as_bytes());
    let ca = ca.map(Path::to_path_buf);
    let result = tokio::task::spawn_blocking(move || {
        post(&url, &body, &signature, id, &event, ca.as_deref())
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    // An unreadable CA file fails the attempt (logged), like a refused connection.
    let (status, error) = match result {
        Ok(Ok(s)) => (Some(s), None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(e) => (None, Some(e.to_string())),
    };
    let now = now_ms();
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let state = if ok {
        "delivered"
    } else if attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        "pending"
    };
    store
        .transaction(vec![
            Stmt::new(
                "INSERT INTO delivery_attempts (delivery_id, at_ms, status, error) VALUES ($1, $2, $3, $4)",
                vec![
                    id.into(),
                    now.into(),
                    status.map(i64::from).into(),
                    error.into(),
                ],
            ),
            Stmt::new(
                "UPDATE deliveries SET state = $1, next_ms = $2, lease_until_ms = NULL, \
                 delivered_ms = $3 WHERE id = $4",
                vec![
                    state.into(),
                    (now + backoff_ms(attempts)).into(),
                    ok.then_some(now).into(),
                    id.into(),
                ],
            ),
        ])
        .await?;
    Ok(Some(Step::Delivered {
        delivery: id,
        status,
    }))
}

/// POST the delivery: the status, or the transport's error.
fn post(
    url: &str,
    body: &str,
    signature: &str,
    id: i64,
    event: &str,
    ca: Option<&Path>,
) -> Result<std::result::Result<u16, ureq::Error>> {
    let mut cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0);
    if let Some(ca) = ca {
        let certs = crate::client::read_ca("--webhook-ca-cert", ca)?;
        cfg = cfg.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        );
    }
    let agent: ureq::Agent = cfg.build().into();
    let resp = agent
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("moat/", env!("CARGO_PKG_VERSION")))
        .header("x-moat-signature", signature)
        .header("x-moat-delivery", &id.to_string())
        .header("x-moat-event", event)
        .send(body);
    Ok(resp.map(|r| r.status().as_u16()))
}
