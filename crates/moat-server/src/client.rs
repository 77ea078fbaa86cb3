//! A blocking client of the API, for `moat agent` and `moat scan --server`: the base
//! URL (`http://` or `https://`, with an optional CA certificate for a private
//! server), the bearer token, bounded replies, and errors that name the URL and carry
//! the server's message.

use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// The largest reply read (a report of a big image is tens of MiB).
const MAX_REPLY: u64 = 512 << 20;

/// A connection to `moat serve`.
pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

fn remote(url: &str, message: impl std::fmt::Display) -> Error {
    Error::Remote {
        url: url.to_string(),
        message: message.to_string(),
    }
}

/// The CA certificates of a PEM file (given as `flag`), for a peer with a private CA.
pub fn read_ca(flag: &str, path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>> {
    let text = std::fs::read(path)
        .map_err(|e| Error::Config(format!("{flag} {}: {e}", path.display())))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&text) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::Config(format!(
                    "{flag} {}: not PEM: {e}",
                    path.display()
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "{flag} {}: no certificate in it (PEM BEGIN CERTIFICATE blocks expected)",
            path.display()
        )));
    }
    Ok(certs)
}

impl Client {
    /// A client of the server at `base`; `timeout` bounds each request.
    pub fn new(
        base: &str,
        token: &str,
        ca_cert: Option<&Path>,
        timeout: Duration,
    ) -> Result<Client> {
        let u =
            url::Url::parse(base).map_err(|e| Error::Config(format!("--server {base}: {e}")))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(Error::Config(format!(
                "--server {base}: http://HOST:PORT or https://HOST:PORT expected"
            )));
        }
        if token.trim().is_empty() {
            return Err(Error::Config("--token: empty".into()));
        }
        let mut cfg = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = ca_cert {
            if u.scheme() != "https" {
                return Err(Error::Config(format!(
                    "--ca-cert {}: only with an https:// --server",
                    ca.display()
                )));
            }
            let certs = read_ca("--ca-cert", ca)?;
            cfg = cfg.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build(),
            );
        }
        Ok(Client {
            base: base.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            agent: cfg.build().into(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn finish(
        &self,
        url: &str,
        resp: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<String> {
        let mut resp = resp.map_err(|e| remote(url, e))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_string()
            .map_err(|e| remote(url, e))?;
        if !(200..300).contains(&status) {
            let msg = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| text.chars().take(300).collect());
            return Err(remote(url, format!("HTTP {status}: {msg}")));
        }
        Ok(text)
    }

    /// `GET path`: the body as text.
    pub fn get_text(&self, path: &str) -> Result<String> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .agent
            .get(&url)
            .header("authorization", &format!("Bearer {}", self.token))
            .call();
        self.finish(&url, resp)
    }

    /// `GET path`: the body as JSON.
    pub fn get(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let text = self.get_text(path)?;
        serde_json::from_str(&text).map_err(|e| remote(&url, format!("not JSON: {e}")))
    }

    /// `POST path` with a JSON body: the reply as JSON.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .agent
            .post(&url)
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(body.to_string());
        let text = self.finish(&url, resp)?;
        serde_json::from_str(&text).map_err(|e| remote(&url, format!("not JSON: {e}")))
    }

    /// Wait until job `id` is done (its JSON) or failed (an error with the reason),
    /// polling; an error after `timeout`.
    pub fn wait_job(&self, id: i64, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(100);
        loop {
            let j = self.get(&format!("/api/v1/jobs/{id}"))?;
            match j.get("state").and_then(Value::as_str) {
                Some("done") => return Ok(j),
                Some("failed") => {
                    return Err(Error::Remote {
                        url: format!("{}/api/v1/jobs/{id}", self.base),
                        message: format!(
                            "job {id} failed: {}",
                            j.get("error")
                                .and_then(Value::as_str)
                                .unwrap_or("no reason given")
                        ),
                    });
                }
                state => {
                    if Instant::now() >= deadline {
                        return Err(Error::Timeout(format!(
                            "job {id} on {} is still {} after {} s (no worker free, or none running?)",
                            self.base,
                            state.unwrap_or("unknown"),
                            timeout.as_secs()
                        )));
                    }
                }
            }
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}
