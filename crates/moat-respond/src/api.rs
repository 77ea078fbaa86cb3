//! The part of the Engine API that responding needs (inspect, network connect and
//! disconnect, pause, stop, kill, changes, archive, logs, top, commit, image export),
//! as a small object-safe trait over moat-engine's bounded client: every reply is capped
//! in bytes and time, and a download streams to a sink with its own byte limit.

use crate::RespondError;
use moat_engine::HostAddr;
use moat_engine::raw::{self, Bounds, Client};
use std::io::Write;
use std::time::{Duration, Instant};

/// Bytes of a JSON reply.
pub const MAX_JSON_BYTES: u64 = 16 << 20;

/// One reply with its body read.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiReply {
    /// A header's value (names are lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The Engine API as moat-respond uses it.
pub trait Api {
    /// The engine's address (`unix:///run/docker.sock`).
    fn host(&self) -> &str;
    /// `METHOD path` with an optional JSON body; the reply's body is read (at most
    /// [`MAX_JSON_BYTES`]).
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ApiReply, RespondError>;
    /// `GET path` streamed into `sink`: at most `limit` bytes are kept; returns the
    /// status, the bytes written and whether the body was cut at the limit.
    fn download(
        &self,
        path: &str,
        limit: u64,
        sink: &mut dyn Write,
    ) -> Result<Download, RespondError>;
    /// Whether the engine runs on this machine (its containers' PIDs are ours to read
    /// in /proc).
    fn local(&self) -> bool;
}

/// What a download brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Download {
    pub status: u16,
    pub bytes: u64,
    pub truncated: bool,
}

/// The engine over a Unix socket or plain TCP, through moat-engine's bounded client.
#[derive(Debug, Clone)]
pub struct RawApi {
    client: Client,
    local: bool,
    /// Deadline of one download (an image export may be large).
    download_total: Duration,
}

impl RawApi {
    /// Connects to `host` (`unix:///PATH`, `tcp://HOST:PORT` or a socket path) and checks
    /// that it answers `/version`.
    pub fn connect(host: &str) -> Result<RawApi, RespondError> {
        let addr = HostAddr::parse(host)?;
        if matches!(addr, HostAddr::Https(_)) {
            return Err(RespondError::Invalid(format!(
                "{host}: moat respond speaks to a local socket or plain TCP engine (TLS engines are not supported yet)"
            )));
        }
        let local = matches!(addr, HostAddr::Unix(_))
            || matches!(&addr, HostAddr::Tcp(a) if a.starts_with("127.") || a.starts_with("localhost:") || a.starts_with("[::1]"));
        let api = RawApi {
            client: Client::new(addr, Bounds::default()),
            local,
            download_total: Duration::from_secs(3600),
        };
        let r = api.call("GET", "/version", None)?;
        if !r.ok() {
            return Err(RespondError::Api {
                what: "GET /version".into(),
                status: r.status,
                message: raw::engine_message(&r.body),
            });
        }
        Ok(api)
    }
}

impl Api for RawApi {
    fn host(&self) -> &str {
        self.client.host()
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<ApiReply, RespondError> {
        let what = format!("{method} {path}");
        let bytes = body.map(|b| b.to_string().into_bytes());
        let until = Instant::now() + self.client.bounds().total;
        let mut r = self
            .client
            .request(method, path, bytes.as_deref(), &what, until)?;
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            r.read_to_limit(MAX_JSON_BYTES)?
        };
        Ok(ApiReply {
            status: r.status,
            headers: r.headers.clone(),
            body,
        })
    }

    fn download(
        &self,
        path: &str,
        limit: u64,
        sink: &mut dyn Write,
    ) -> Result<Download, RespondError> {
        let what = format!("GET {path}");
        let until = Instant::now() + self.download_total;
        let mut r = self.client.get(path, &what, until)?;
        let status = r.status;
        if !(200..300).contains(&status) {
            let body = r.read_to_limit(1 << 20).unwrap_or_default();
            return Err(RespondError::Api {
                what,
                status,
                message: raw::engine_message(&body),
            });
        }
        let mut buf = vec![0u8; 64 << 10];
        let mut bytes = 0u64;
        loop {
            let n = r.read_some(&mut buf)?;
            if n == 0 {
                return Ok(Download {
                    status,
                    bytes,
                    truncated: false,
                });
            }
            let room = limit.saturating_sub(bytes);
            let take = (n as u64).min(room) as usize;
            sink.write_all(&buf[..take])
                .map_err(|e| RespondError::Reply {
                    what: what.clone(),
                    reason: format!("writing the download: {e}"),
                })?;
            bytes += take as u64;
            if take < n {
                return Ok(Download {
                    status,
                    bytes,
                    truncated: true,
                });
            }
        }
    }

    fn local(&self) -> bool {
        self.local
    }
}

/// A request path segment (an id or name): characters that would change the request
/// are percent-encoded.
pub fn seg(s: &str) -> String {
    pct(s, false)
}

/// A query value, percent-encoded.
pub fn q(s: &str) -> String {
    pct(s, true)
}

fn pct(s: &str, query: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (!query && matches!(b, b':' | b'@'))
            || (query && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Calls and insists on a 2xx status; returns the body.
pub fn expect_ok(
    api: &dyn Api,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<ApiReply, RespondError> {
    let r = api.call(method, path, body)?;
    if r.ok() || r.status == 304 {
        Ok(r)
    } else {
        Err(RespondError::Api {
            what: format!("{method} {path}"),
            status: r.status,
            message: raw::engine_message(&r.body),
        })
    }
}

/// `GET path` as JSON (2xx insisted on).
pub fn get_json(api: &dyn Api, path: &str) -> Result<serde_json::Value, RespondError> {
    let r = expect_ok(api, "GET", path, None)?;
    serde_json::from_slice(&r.body).map_err(|e| RespondError::Reply {
        what: format!("GET {path}"),
        reason: format!("malformed JSON: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_segments_and_queries() {
        assert_eq!(seg("web-1"), "web-1");
        assert_eq!(seg("a b?c#"), "a%20b%3Fc%23");
        assert_eq!(q("/etc/pass wd"), "/etc/pass%20wd");
        assert_eq!(q("a&b=c"), "a%26b%3Dc");
    }
}
