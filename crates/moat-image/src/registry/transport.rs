//! Talking to a registry: one client per repository, authentication challenges,
//! tokens, deadlines (connect, idle, total), and errors on one line.

use super::auth::{self, Challenge, Credentials, Lookup};
use super::error::RegistryError;
use super::media::*;
use crate::Budget;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
pub(super) fn is_loopback(host: &str) -> bool {
    let h = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h == "::1"
        || h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// One registry repository, with whatever authorization it has asked for so far.
#[derive(Clone)]
pub(super) struct Client {
    pub(super) agent: ureq::Agent,
    pub(super) base: String,
    pub(super) registry: String,
    pub(super) repository: String,
    pub(super) config_dir: Option<PathBuf>,
    pub(super) authorization: Option<String>,
    pub(super) deadlines: Deadlines,
    /// `--insecure-registry` hosts: plain HTTP allowed, credentials too.
    pub(super) insecure_hosts: Vec<String>,
}

pub(super) type Resp = ureq::http::Response<ureq::Body>;

impl Client {
    /// GET `url`, answering one authentication challenge if the registry asks.
    pub(super) fn get(&mut self, url: &str, accept: Option<&str>) -> Result<Resp, RegistryError> {
        let resp = self.send(url, accept)?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(auth::parse_challenge);
        let creds = || -> Result<Option<Credentials>, RegistryError> {
            match auth::lookup(self.config_dir.as_deref(), &self.registry)? {
                Lookup::Found(c) => Ok(Some(c)),
                Lookup::None => Ok(None),
                Lookup::Unsupported(why) => Err(why.into()),
            }
        };
        let with_creds = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let creds = creds()?;
                let with = creds.is_some();
                let token = self.token(&realm, service.as_deref(), scope.as_deref(), creds)?;
                self.authorization = Some(format!("Bearer {token}"));
                with
            }
            Some(Challenge::Basic) => match creds()? {
                Some(c) => {
                    self.authorization = Some(c.basic_header());
                    true
                }
                None => {
                    return Err(format!(
                        "{} requires authentication (Basic) and {} has no credentials for {}",
                        self.base,
                        self.config_path(),
                        self.registry
                    )
                    .into());
                }
            },
            Some(Challenge::Other(c)) => {
                return Err(format!(
                    "{} requires an unsupported authentication scheme: {c}",
                    self.base
                )
                .into());
            }
            None => {
                return Err(format!(
                    "{} answered 401 Unauthorized without a WWW-Authenticate challenge",
                    self.base
                )
                .into());
            }
        };
        let resp = self.send(url, accept)?;
        if resp.status() == 401 {
            return Err(RegistryError::Failed(if with_creds {
                format!(
                    "{} refused the credentials (401 Unauthorized) for {}",
                    self.base, self.repository
                )
            } else {
                format!(
                    "{} denied anonymous access to {} (401 Unauthorized): the repository \
                     does not exist or needs credentials, and {} has none for {}",
                    self.base,
                    self.repository,
                    self.config_path(),
                    self.registry
                )
            }));
        }
        Ok(resp)
    }

    /// Whether the user allowed plain HTTP to the realm's `host:port` explicitly.
    pub(super) fn insecure_realm(&self, realm: &str) -> bool {
        let Ok(u) = url::Url::parse(realm) else {
            return false;
        };
        let Some(host) = u.host_str() else {
            return false;
        };
        let with_port = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        self.insecure_hosts.contains(&with_port)
    }

    pub(super) fn config_path(&self) -> String {
        self.config_dir.as_ref().map_or_else(
            || "the docker config (no $DOCKER_CONFIG or $HOME)".to_string(),
            |d| d.join("config.json").display().to_string(),
        )
    }

    pub(super) fn send(&self, url: &str, accept: Option<&str>) -> Result<Resp, RegistryError> {
        let mut req = self.agent.get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        if let Some(auth) = &self.authorization {
            req = req.header("Authorization", auth);
        }
        let left = self.deadlines.remaining(url)?;
        req.config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| describe_transport(&self.base, url, &e, &self.deadlines))
    }

    /// Fetch a bearer token from `realm` (the realm is where the registry says).
    pub(super) fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        creds: Option<Credentials>,
    ) -> Result<String, RegistryError> {
        let default_scope = format!("repository:{}:pull", self.repository);
        let mut req = self
            .agent
            .get(realm)
            .query("scope", scope.unwrap_or(&default_scope));
        if let Some(s) = service {
            req = req.query("service", s);
        }
        // Credentials never travel in clear text to another origin (unless the user
        // named that origin with --insecure-registry).
        let withheld = creds.is_some()
            && !may_send_credentials(&self.base, realm)
            && !self.insecure_realm(realm);
        let creds = if withheld { None } else { creds };
        if let Some(c) = &creds {
            req = req.header("Authorization", c.basic_header());
        }
        let left = self.deadlines.remaining(realm)?;
        let mut resp = req
            .config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| describe_transport(realm, realm, &e, &self.deadlines))?;
        let status = resp.status();
        if status == 401 || status == 403 {
            return Err(format!(
                "token server {realm} refused {} (HTTP {})",
                if creds.is_some() {
                    "the credentials"
                } else if withheld {
                    "anonymous access; the credentials were withheld because the realm is \
                     plain HTTP on another origin than the registry"
                } else {
                    "anonymous access; no credentials configured"
                },
                status.as_u16()
            )
            .into());
        }
        if !status.is_success() {
            return Err(format!("token server {realm} answered HTTP {}", status.as_u16()).into());
        }
        #[derive(serde::Deserialize)]
        struct TokenResp {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_SMALL_BODY)
            .read_to_vec()
            .map_err(|e| body_error(&format!("reading token from {realm}"), &e, &self.deadlines))?;
        let t: TokenResp = serde_json::from_slice(&body)
            .map_err(|e| format!("malformed JSON from token server {realm}: {e}"))?;
        t.token
            .or(t.access_token)
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| format!("token server {realm} returned no usable token").into())
    }
}

/// Turn a non-2xx response into one line (with the registry's own error code if any).
pub(super) fn check_status(resp: &mut Resp, what: &str) -> Result<(), RegistryError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_SMALL_BODY)
        .read_to_vec()
        .unwrap_or_default();
    let detail = registry_error(&body);
    let code = status.as_u16();
    let prefix = match code {
        404 => format!("{what} not found (HTTP 404)"),
        _ => format!("{what}: HTTP {code}"),
    };
    Err(match detail {
        Some(d) => format!("{prefix}: {d}").into(),
        None => prefix.into(),
    })
}

/// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}` -> `MANIFEST_UNKNOWN: ...`.
pub(super) fn registry_error(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Errs {
        errors: Vec<Err1>,
    }
    #[derive(serde::Deserialize)]
    struct Err1 {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let e: Errs = serde_json::from_slice(body).ok()?;
    let first = e.errors.first()?;
    let mut s = format!("{} {}", first.code, first.message);
    s = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    Some(s)
}

/// The deadlines of one pull.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadlines {
    pub(super) connect: Duration,
    pub(super) idle: Duration,
    pub(super) total: Duration,
    /// When the whole pull must be over.
    pub(super) until: Instant,
}

impl Deadlines {
    /// Time left for the pull; an error once it is over.
    pub(super) fn remaining(&self, what: &str) -> Result<Duration, RegistryError> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.over(what, ureq::Timeout::Global));
        }
        Ok(left)
    }

    /// The budget a ureq timeout stands for.
    pub(super) fn over(&self, what: &str, t: ureq::Timeout) -> RegistryError {
        let (budget, d) = match t {
            ureq::Timeout::Global => (Budget::TotalTimeout, self.total),
            ureq::Timeout::Connect | ureq::Timeout::Resolve => {
                (Budget::ConnectTimeout, self.connect)
            }
            _ => (Budget::IdleTimeout, self.idle),
        };
        RegistryError::budget(
            format!("{what}: the server took too long"),
            budget,
            d.as_secs(),
        )
    }
}

/// A ureq error hidden in an I/O error of a body reader.
pub(super) fn ureq_timeout(e: &std::io::Error) -> Option<ureq::Timeout> {
    match e.get_ref()?.downcast_ref::<ureq::Error>()? {
        ureq::Error::Timeout(t) => Some(*t),
        _ => None,
    }
}

pub(super) fn describe_transport(
    base: &str,
    url: &str,
    e: &ureq::Error,
    d: &Deadlines,
) -> RegistryError {
    let text = e.to_string();
    if base.starts_with("https://")
        && (matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
            || text.contains("corrupt message"))
    {
        return format!(
            "TLS handshake with {base} failed ({text}); if it is a plain-HTTP registry, \
             allow it with --insecure-registry {}",
            base.trim_start_matches("https://")
        )
        .into();
    }
    match e {
        ureq::Error::Io(io) => match ureq_timeout(io) {
            Some(t) => d.over(&format!("talking to {base} ({url})"), t),
            None => format!("cannot reach {base} ({url}): {io}").into(),
        },
        ureq::Error::Timeout(t) => d.over(&format!("talking to {base} ({url})"), *t),
        ureq::Error::HostNotFound => format!("cannot resolve the host of {base}").into(),
        ureq::Error::TooManyRedirects => format!("too many redirects fetching {url}").into(),
        e => format!("request to {url} failed: {e}").into(),
    }
}

/// An error while reading a body: a timeout is the budget it stands for.
pub(super) fn body_error(what: &str, e: &ureq::Error, d: &Deadlines) -> RegistryError {
    match e {
        ureq::Error::Timeout(t) => d.over(what, *t),
        ureq::Error::Io(io) => match ureq_timeout(io) {
            Some(t) => d.over(what, t),
            None => format!("{what}: {e}").into(),
        },
        e => format!("{what}: {e}").into(),
    }
}

/// Whether Basic credentials for the registry at `base` may go to `realm`: over
/// https, or to the registry's own origin (scheme, host and port).
pub(super) fn may_send_credentials(base: &str, realm: &str) -> bool {
    let (Ok(b), Ok(r)) = (url::Url::parse(base), url::Url::parse(realm)) else {
        return false;
    };
    if r.scheme() == "https" {
        return true;
    }
    r.scheme() == b.scheme()
        && r.host_str() == b.host_str()
        && r.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.1.2.3"));
        assert!(!is_loopback("registry-1.docker.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn registry_error_body() {
        assert_eq!(
            registry_error(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            )
            .as_deref(),
            Some("MANIFEST_UNKNOWN manifest unknown")
        );
        assert_eq!(registry_error(b"<html>"), None);
    }
}
