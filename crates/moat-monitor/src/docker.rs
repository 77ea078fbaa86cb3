//! The Docker Engine's event stream (`GET /events`), read over the engine's socket with
//! a small streaming HTTP/1.1 client (chunked transfer), resumed from a cursor.

use moat_engine::HostAddr;
use moat_model::runtime::DockerEventInfo;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

/// Longest event (one JSON line) read.
pub const MAX_EVENT_BYTES: u64 = 256 << 10;
/// Longest header block of the reply.
const MAX_HEADER_BYTES: usize = 64 << 10;

/// A failure of the event stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The engine could not be reached.
    #[error("{host}: {reason}")]
    Connect { host: String, reason: String },
    /// The engine answered with an error.
    #[error("{host}: GET /events: HTTP {status}: {body}")]
    Status {
        host: String,
        status: u16,
        body: String,
    },
    /// The stream was malformed or cut.
    #[error("{host}: GET /events: {reason}")]
    Stream { host: String, reason: String },
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RawActor {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Attributes")]
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct RawEvent {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Actor")]
    actor: RawActor,
    #[serde(rename = "timeNano")]
    time_nano: i64,
    time: i64,
}

/// One engine event as read.
pub fn parse_event(line: &[u8]) -> Result<DockerEventInfo, serde_json::Error> {
    let raw: RawEvent = serde_json::from_slice(line)?;
    let time_nano = if raw.time_nano != 0 {
        raw.time_nano
    } else {
        raw.time.saturating_mul(1_000_000_000)
    };
    Ok(DockerEventInfo {
        kind: raw.kind,
        action: raw.action,
        actor: raw.actor.id,
        attributes: raw.actor.attributes,
        time_nano,
    })
}

/// The deduplication key of an engine event: two events with the same time, type,
/// action and actor are the same event.
pub fn event_key(ev: &DockerEventInfo) -> String {
    format!(
        "docker:{}:{}:{}:{}",
        ev.time_nano, ev.kind, ev.action, ev.actor
    )
}

/// `evt.type` of an engine event.
pub fn event_type(ev: &DockerEventInfo) -> String {
    let base = ev.action.split(':').next().unwrap_or("").trim();
    match (ev.kind.as_str(), base) {
        ("container", "exec_create" | "exec_start" | "exec_die" | "attach" | "oom" | "detach") => {
            base.to_string()
        }
        ("container", a) if a.starts_with("health_status") => "health_status".to_string(),
        (k, a) => format!("{k}_{a}"),
    }
}

/// A cursor (unix ns) as the engine's `since` parameter (`SECONDS.NANOSECONDS`).
pub fn since_param(ns: i64) -> String {
    format!(
        "{}.{:09}",
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000)
    )
}

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// An open event stream.
pub struct EventStream {
    host: String,
    body: BufReader<Body>,
}

struct Body {
    inner: BufReader<Box<dyn Conn>>,
    chunked: bool,
    left: u64,
    done: bool,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if !self.chunked {
            return self.inner.read(buf);
        }
        if self.left == 0 {
            let mut line = String::new();
            (&mut self.inner).take(1024).read_line(&mut line)?;
            if line.trim().is_empty() {
                // The CRLF after a chunk.
                line.clear();
                (&mut self.inner).take(1024).read_line(&mut line)?;
            }
            if line.is_empty() {
                self.done = true;
                return Ok(0);
            }
            let size = line.trim().split(';').next().unwrap_or("");
            let n = u64::from_str_radix(size, 16).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("bad chunk size {:?}", line.trim()),
                )
            })?;
            if n == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = n;
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..want])?;
        if got == 0 {
            self.done = true;
        }
        self.left -= got as u64;
        Ok(got)
    }
}

impl EventStream {
    /// `GET /events?since=…&until=…` on `host` (unix:// or tcp://).
    pub fn open(
        host: &str,
        since_ns: Option<i64>,
        until_ns: Option<i64>,
    ) -> Result<EventStream, StreamError> {
        let addr = HostAddr::parse(host).map_err(|e| StreamError::Connect {
            host: host.to_string(),
            reason: e.to_string(),
        })?;
        let shown = addr.to_string();
        let connect = |reason: String| StreamError::Connect {
            host: shown.clone(),
            reason,
        };
        let conn: Box<dyn Conn> = match &addr {
            HostAddr::Unix(p) => {
                let s = std::os::unix::net::UnixStream::connect(p)
                    .map_err(|e| connect(e.to_string()))?;
                s.set_write_timeout(Some(Duration::from_secs(10)))
                    .map_err(|e| connect(e.to_string()))?;
                Box::new(s)
            }
            HostAddr::Tcp(a) => {
                let s = std::net::TcpStream::connect(a).map_err(|e| connect(e.to_string()))?;
                s.set_write_timeout(Some(Duration::from_secs(10)))
                    .map_err(|e| connect(e.to_string()))?;
                Box::new(s)
            }
            HostAddr::Https(_) => {
                return Err(connect(
                    "the event stream is read over unix:// or tcp:// only (no TLS yet)".into(),
                ));
            }
        };
        let mut query = Vec::new();
        if let Some(s) = since_ns {
            query.push(format!("since={}", since_param(s)));
        }
        if let Some(u) = until_ns {
            query.push(format!("until={}", since_param(u)));
        }
        let path = if query.is_empty() {
            "/events".to_string()
        } else {
            format!("/events?{}", query.join("&"))
        };
        let mut inner = BufReader::new(conn);
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: moat-monitor\r\n\r\n");
        inner
            .get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| connect(e.to_string()))?;
        // Status line and headers.
        let mut status = 0u16;
        let mut chunked = false;
        let mut length: Option<u64> = None;
        let mut total = 0usize;
        let mut first = true;
        loop {
            let mut line = String::new();
            let n = (&mut inner)
                .take(8192)
                .read_line(&mut line)
                .map_err(|e| connect(e.to_string()))?;
            if n == 0 {
                return Err(connect("connection closed before the reply".into()));
            }
            total += n;
            if total > MAX_HEADER_BYTES {
                return Err(connect(format!(
                    "reply headers over {MAX_HEADER_BYTES} bytes"
                )));
            }
            let l = line.trim_end();
            if first {
                first = false;
                status = l
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| connect(format!("bad status line {l:?}")))?;
                continue;
            }
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim();
                if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                } else if k == "content-length" {
                    length = v.parse().ok();
                }
            }
        }
        let mut body = Body {
            inner,
            chunked,
            left: 0,
            done: false,
        };
        if status != 200 {
            let mut text = Vec::new();
            let cap = length.unwrap_or(4096).min(4096);
            let _ = (&mut body).take(cap).read_to_end(&mut text);
            return Err(StreamError::Status {
                host: shown,
                status,
                body: moat_model::escape_control(String::from_utf8_lossy(&text).trim())
                    .into_owned(),
            });
        }
        Ok(EventStream {
            host: shown,
            body: BufReader::new(body),
        })
    }

    /// The next event; `Ok(None)` when the engine closed the stream (an `until` was
    /// reached, or the engine stopped).
    pub fn next_event(&mut self) -> Result<Option<DockerEventInfo>, StreamError> {
        loop {
            let mut line = Vec::new();
            let n = (&mut self.body)
                .take(MAX_EVENT_BYTES + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| StreamError::Stream {
                    host: self.host.clone(),
                    reason: e.to_string(),
                })?;
            if n == 0 {
                return Ok(None);
            }
            if line.len() as u64 > MAX_EVENT_BYTES {
                return Err(StreamError::Stream {
                    host: self.host.clone(),
                    reason: format!("an event longer than {MAX_EVENT_BYTES} bytes"),
                });
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !line.ends_with(b"\n") {
                // Cut mid-event: the engine went away.
                return Ok(None);
            }
            return parse_event(&line)
                .map(Some)
                .map_err(|e| StreamError::Stream {
                    host: self.host.clone(),
                    reason: format!("malformed event: {e}"),
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_engine_event() {
        let line = br#"{"status":"start","id":"abc","from":"busybox","Type":"container","Action":"exec_start: sh -c id","Actor":{"ID":"abc","Attributes":{"name":"web"}},"scope":"local","time":1764784800,"timeNano":1764784800123456789}"#;
        let ev = parse_event(line).unwrap_or_default();
        assert_eq!(ev.time_nano, 1_764_784_800_123_456_789);
        assert_eq!(event_type(&ev), "exec_start");
        assert_eq!(ev.attributes.get("name").map(String::as_str), Some("web"));
        assert_eq!(
            event_key(&ev),
            "docker:1764784800123456789:container:exec_start: sh -c id:abc"
        );
        assert_eq!(
            since_param(1_764_784_800_000_000_001),
            "1764784800.000000001"
        );
    }
}
