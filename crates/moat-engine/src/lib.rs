//! The Docker Engine API (bollard) behind a small, synchronous trait.
//!
//! Callers see [`Engine`]: `/info`, `/version`, every container (running or not),
//! container and image inspection, and networks. [`DockerEngine`] implements it over
//! bollard on a private single-threaded tokio runtime, so library users stay
//! synchronous. The version is negotiated on connect: Debian's dockerd 20.10 speaks
//! API 1.41 and rejects bollard's newer default.
//!
//! The returned types are bollard's generated models (re-exported as [`models`]), so a
//! test can build them from JSON captured from a real engine.

#![forbid(unsafe_code)]

pub mod raw;

pub use bollard::models;

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptions, ListNetworksOptions};
use models::{
    ContainerInspectResponse, ContainerSummary, ImageInspect, Network, SystemInfo, SystemVersion,
};
use std::fmt;

/// Seconds a single Engine API request may take.
const REQUEST_TIMEOUT_SECS: u64 = 30;

/// What went wrong talking to an engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The host string is not `unix://PATH`, `tcp://HOST:PORT` or `http://HOST:PORT`.
    #[error("unsupported Docker host {host:?} (expected unix:///PATH or tcp://HOST:PORT)")]
    BadHost { host: String },
    /// The engine could not be reached (no socket, connection refused, TLS refused,
    /// version negotiation). `reason` is bollard's error on one line.
    #[error("cannot reach the Docker engine at {host}: {reason}")]
    Unreachable { host: String, reason: String },
    /// A request failed.
    #[error("{host}: {what}: {reason}")]
    Request {
        host: String,
        what: String,
        reason: String,
    },
    /// The async runtime could not be created.
    #[error("cannot start the I/O runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// The Docker Engine as moat needs it. Object-safe so audits can run on a fake in tests.
pub trait Engine {
    /// The address this engine was reached at (`unix:///run/docker.sock`).
    fn host(&self) -> &str;
    /// `GET /info`.
    fn info(&self) -> Result<SystemInfo, EngineError>;
    /// `GET /version`.
    fn version(&self) -> Result<SystemVersion, EngineError>;
    /// `GET /containers/json?all=true`: every container, running or not.
    fn containers(&self) -> Result<Vec<ContainerSummary>, EngineError>;
    /// `GET /containers/{id}/json`.
    fn inspect_container(&self, id: &str) -> Result<ContainerInspectResponse, EngineError>;
    /// `GET /images/{id}/json`.
    fn inspect_image(&self, id: &str) -> Result<ImageInspect, EngineError>;
    /// `GET /networks`.
    fn networks(&self) -> Result<Vec<Network>, EngineError>;
}

/// An id or name as one path segment of a request line: characters that would end or
/// change the request (space, control, `?`, `#`, `%`) are percent-encoded.
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        if c.is_control() || matches!(c, ' ' | '?' | '#' | '%') {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An error and its causes on one line (engines put newlines in their messages;
/// causes already quoted by their parent are not repeated).
fn one_line(e: &bollard::errors::Error) -> String {
    let flat = |s: String| {
        s.split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = flat(e.to_string());
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = flat(c.to_string());
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// The default host: `$DOCKER_HOST`, else `unix:///var/run/docker.sock`.
pub fn default_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// A parsed Docker host address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAddr {
    /// A Unix socket path.
    Unix(std::path::PathBuf),
    /// `host:port` over plain TCP (no TLS).
    Tcp(String),
    /// `host:port` over TLS with a client certificate (`https://`, or `tcp://` with TLS files).
    Https(String),
}

/// Client TLS material, as the docker CLI takes it (`--tlscacert`, `--tlscert`,
/// `--tlskey`; or `$DOCKER_CERT_PATH/{ca,cert,key}.pem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: std::path::PathBuf,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl TlsFiles {
    /// `ca.pem`, `cert.pem`, `key.pem` in a directory.
    pub fn in_dir(dir: &std::path::Path) -> TlsFiles {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

impl HostAddr {
    /// Parses `unix:///PATH`, `tcp://HOST:PORT`, `http://HOST:PORT` or a bare absolute path.
    pub fn parse(host: &str) -> Result<HostAddr, EngineError> {
        let bad = || EngineError::BadHost {
            host: host.to_string(),
        };
        if let Some(path) = host.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(HostAddr::Unix(path.into()));
        }
        for (prefix, tls) in [("tcp://", false), ("http://", false), ("https://", true)] {
            if let Some(rest) = host.strip_prefix(prefix) {
                let rest = rest.trim_end_matches('/');
                if rest.is_empty() || rest.contains('/') {
                    return Err(bad());
                }
                return Ok(if tls {
                    HostAddr::Https(rest.to_string())
                } else {
                    HostAddr::Tcp(rest.to_string())
                });
            }
        }
        if host.starts_with('/') {
            return Ok(HostAddr::Unix(host.into()));
        }
        Err(bad())
    }
}

impl fmt::Display for HostAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostAddr::Unix(p) => write!(f, "unix://{}", p.display()),
            HostAddr::Tcp(a) => write!(f, "tcp://{a}"),
            HostAddr::Https(a) => write!(f, "https://{a}"),
        }
    }
}

/// Never reached: `connect_with` rejects https without TLS files first.
fn unreachable_tls() -> Result<Docker, bollard::errors::Error> {
    Err(bollard::errors::Error::UnsupportedURISchemeError {
        uri: "https:// without TLS files".to_string(),
    })
}

/// A live engine: over a Unix socket or plain TCP through the bounded [`raw::Client`]
/// (every reply capped in bytes and time); over TLS through bollard, each request
/// within the total timeout.
pub struct DockerEngine {
    host: String,
    via: Via,
}

enum Via {
    Raw(raw::Client),
    Bollard {
        docker: Docker,
        rt: tokio::runtime::Runtime,
    },
}

impl fmt::Debug for DockerEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerEngine")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl DockerEngine {
    /// Connects to `host` and negotiates the API version (one `/version` round trip).
    pub fn connect(host: &str) -> Result<DockerEngine, EngineError> {
        DockerEngine::connect_with(host, None)
    }

    /// Like [`DockerEngine::connect`]; with `tls`, a TCP host is reached over TLS with
    /// that client certificate, verified against that CA.
    pub fn connect_with(host: &str, tls: Option<&TlsFiles>) -> Result<DockerEngine, EngineError> {
        DockerEngine::connect_bounded(host, tls, raw::Bounds::default())
    }

    /// Like [`DockerEngine::connect_with`], with the byte and time bounds of every reply.
    pub fn connect_bounded(
        host: &str,
        tls: Option<&TlsFiles>,
        bounds: raw::Bounds,
    ) -> Result<DockerEngine, EngineError> {
        let mut addr = HostAddr::parse(host)?;
        if let (Some(_), HostAddr::Tcp(a)) = (tls, &addr) {
            addr = HostAddr::Https(a.clone());
        }
        if let (None, HostAddr::Https(_)) = (tls, &addr) {
            return Err(EngineError::BadHost {
                host: format!(
                    "{host} (https needs --tlscacert, --tlscert and --tlskey, or DOCKER_CERT_PATH)"
                ),
            });
        }
        let shown = addr.to_string();
        if !matches!(addr, HostAddr::Https(_)) {
            let client = raw::Client::new(addr.clone(), bounds);
            // One `/version` round trip, as bollard's negotiation did: an engine that
            // cannot answer is unreachable now, not at the first real request.
            match client.get_json("/version", "GET /version") {
                Ok((200, _)) => {}
                Ok((code, body)) => {
                    return Err(EngineError::Unreachable {
                        host: shown,
                        reason: format!("HTTP {code}: {}", raw::engine_message(&body)),
                    });
                }
                Err(raw::RawError::Unreachable { reason, .. }) => {
                    return Err(EngineError::Unreachable {
                        host: shown,
                        reason,
                    });
                }
                Err(e) => {
                    return Err(EngineError::Unreachable {
                        host: shown,
                        reason: e.to_string(),
                    });
                }
            }
            return Ok(DockerEngine {
                host: shown,
                via: Via::Raw(client),
            });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(EngineError::Runtime)?;
        let unreachable = |e: bollard::errors::Error| EngineError::Unreachable {
            host: shown.clone(),
            reason: one_line(&e),
        };
        let docker = match &addr {
            HostAddr::Unix(path) => Docker::connect_with_unix(
                &path.to_string_lossy(),
                REQUEST_TIMEOUT_SECS,
                bollard::API_DEFAULT_VERSION,
            ),
            HostAddr::Tcp(a) => Docker::connect_with_http(
                &format!("tcp://{a}"),
                REQUEST_TIMEOUT_SECS,
                bollard::API_DEFAULT_VERSION,
            ),
            HostAddr::Https(a) => match tls {
                Some(t) => Docker::connect_with_ssl(
                    &format!("https://{a}"),
                    &t.key,
                    &t.cert,
                    &t.ca,
                    REQUEST_TIMEOUT_SECS,
                    bollard::API_DEFAULT_VERSION,
                ),
                None => unreachable_tls(),
            },
        }
        .map_err(unreachable)?;
        let docker = rt
            .block_on(docker.negotiate_version())
            .map_err(unreachable)?;
        Ok(DockerEngine {
            host: shown,
            via: Via::Bollard { docker, rt },
        })
    }

    /// `GET /exec/{id}/json`: an exec instance (its process, `Privileged`, `User`).
    pub fn inspect_exec(
        &self,
        id: &str,
    ) -> Result<bollard::models::ExecInspectResponse, EngineError> {
        let id = path_segment(id);
        self.req(&format!("/exec/{id}/json"), |d| d.inspect_exec(&id))
    }

    /// `GET path` as JSON: through the bounded client, or through bollard (`call`)
    /// within the total timeout.
    fn req<'a, T: serde::de::DeserializeOwned, F>(
        &'a self,
        path: &str,
        call: impl FnOnce(&'a Docker) -> F,
    ) -> Result<T, EngineError>
    where
        F: std::future::Future<Output = Result<T, bollard::errors::Error>>,
    {
        let what = format!("GET {path}");
        let fail = |reason: String| EngineError::Request {
            host: self.host.clone(),
            what: what.clone(),
            reason,
        };
        match &self.via {
            Via::Raw(c) => {
                let (status, body) = c.get_json(path, &what).map_err(|e| fail(e.to_string()))?;
                if !(200..300).contains(&status) {
                    return Err(fail(format!(
                        "HTTP {status}: {}",
                        raw::engine_message(&body)
                    )));
                }
                serde_json::from_slice(&body).map_err(|e| fail(format!("malformed JSON: {e}")))
            }
            Via::Bollard { docker, rt } => {
                let total = raw::Bounds::default().total;
                rt.block_on(async { tokio::time::timeout(total, call(docker)).await })
                    .map_err(|_| fail(format!("no complete reply within {} s", total.as_secs())))?
                    .map_err(|e| fail(one_line(&e)))
            }
        }
    }
}

impl Engine for DockerEngine {
    fn host(&self) -> &str {
        &self.host
    }

    fn info(&self) -> Result<SystemInfo, EngineError> {
        self.req("/info", |d| d.info())
    }

    fn version(&self) -> Result<SystemVersion, EngineError> {
        self.req("/version", |d| d.version())
    }

    fn containers(&self) -> Result<Vec<ContainerSummary>, EngineError> {
        self.req("/containers/json?all=true", |d| {
            d.list_containers(Some(ListContainersOptions {
                all: true,
                ..Default::default()
            }))
        })
    }

    fn inspect_container(&self, id: &str) -> Result<ContainerInspectResponse, EngineError> {
        let id = path_segment(id);
        self.req(&format!("/containers/{id}/json"), |d| {
            d.inspect_container(&id, None)
        })
    }

    fn inspect_image(&self, id: &str) -> Result<ImageInspect, EngineError> {
        let id = path_segment(id);
        self.req(&format!("/images/{id}/json"), |d| d.inspect_image(&id))
    }

    fn networks(&self) -> Result<Vec<Network>, EngineError> {
        self.req("/networks", |d| {
            d.list_networks(None::<ListNetworksOptions>)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(
            HostAddr::parse("unix:///run/docker.sock").unwrap(),
            HostAddr::Unix("/run/docker.sock".into())
        );
        assert_eq!(
            HostAddr::parse("tcp://127.0.0.1:2375").unwrap(),
            HostAddr::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            HostAddr::parse("/x.sock").unwrap(),
            HostAddr::Unix("/x.sock".into())
        );
        assert!(HostAddr::parse("ssh://me@host").is_err());
        assert!(HostAddr::parse("unix://").is_err());
        assert!(HostAddr::parse("tcp://").is_err());
    }

    #[test]
    fn unreachable_socket_names_the_host() {
        let err = DockerEngine::connect("unix:///nonexistent/moat-test.sock").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unix:///nonexistent/moat-test.sock"), "{msg}");
        assert!(matches!(err, EngineError::Unreachable { .. }), "{msg}");
    }
}
