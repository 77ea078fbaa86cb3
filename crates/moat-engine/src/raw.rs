//! A bounded Engine API client: `GET` over HTTP/1.0 on a Unix socket or plain TCP,
//! with unversioned paths (the engine answers in its own API version). Every reply is
//! bounded: its status line and headers in bytes, each read by the idle timeout, the
//! whole exchange by a deadline, and a JSON body by [`Bounds::max_json_bytes`]. An
//! engine that drips or never ends its reply cannot hang moat or fill its memory.

use crate::HostAddr;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Bytes of a reply's status line and headers.
pub const MAX_HEADER_BYTES: usize = 64 << 10;

/// The bounds of every exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Connecting over TCP.
    pub connect: Duration,
    /// Longest silence of the engine.
    pub idle: Duration,
    /// One whole request and reply ([`Client::get_json`]).
    pub total: Duration,
    /// Bytes of one JSON reply.
    pub max_json_bytes: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            connect: Duration::from_secs(15),
            idle: Duration::from_secs(30),
            total: Duration::from_secs(120),
            max_json_bytes: 16 << 20,
        }
    }
}

/// What went wrong in one exchange; each names the engine and the request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RawError {
    #[error("cannot reach the Docker engine at {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error(
        "{what}: the Docker engine at {host} took longer than {secs} s to connect (the connect timeout)"
    )]
    ConnectTimeout {
        host: String,
        what: String,
        secs: u64,
    },
    #[error("{what}: the Docker engine at {host} sent nothing for {secs} s (the idle timeout)")]
    IdleTimeout {
        host: String,
        what: String,
        secs: u64,
    },
    #[error("{what}: the Docker engine at {host} took longer than {secs} s (the total timeout)")]
    TotalTimeout {
        host: String,
        what: String,
        secs: u64,
    },
    #[error("{what} from the Docker engine at {host} is larger than {limit} bytes")]
    TooLarge {
        host: String,
        what: String,
        limit: u64,
    },
    #[error("{what}: the Docker engine at {host}: {reason}")]
    Protocol {
        host: String,
        what: String,
        reason: String,
    },
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn set_timeouts(&self, t: Duration) -> io::Result<()> {
        match self {
            Conn::Unix(s) => {
                s.set_read_timeout(Some(t))?;
                s.set_write_timeout(Some(t))
            }
            Conn::Tcp(s) => {
                s.set_read_timeout(Some(t))?;
                s.set_write_timeout(Some(t))
            }
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.write_all(buf),
            Conn::Tcp(s) => s.write_all(buf),
        }
    }
}

/// An engine reached over a Unix socket or plain TCP.
#[derive(Debug, Clone)]
pub struct Client {
    addr: HostAddr,
    shown: String,
    bounds: Bounds,
}

/// A reply: its status and headers (names lowercased), then the body, read in bounded
/// steps.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    host: String,
    what: String,
    idle: Duration,
    until: Instant,
    total: Duration,
    pending: Vec<u8>,
    conn: Conn,
}

impl Reply {
    /// Some bytes of the body (0 at its end), within the idle timeout and the deadline.
    pub fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, RawError> {
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.total_timeout());
        }
        let proto = |reason: String| RawError::Protocol {
            host: self.host.clone(),
            what: self.what.clone(),
            reason,
        };
        self.conn
            .set_timeouts(self.idle.min(left).max(Duration::from_millis(1)))
            .map_err(|e| proto(e.to_string()))?;
        match self.conn.read(buf) {
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(if Instant::now() >= self.until {
                    self.total_timeout()
                } else {
                    RawError::IdleTimeout {
                        host: self.host.clone(),
                        what: self.what.clone(),
                        secs: self.idle.as_secs(),
                    }
                })
            }
            Err(e) => Err(proto(e.to_string())),
        }
    }

    fn total_timeout(&self) -> RawError {
        RawError::TotalTimeout {
            host: self.host.clone(),
            what: self.what.clone(),
            secs: self.total.as_secs(),
        }
    }

    /// The whole body, refused beyond `limit` bytes.
    pub fn read_to_limit(&mut self, limit: u64) -> Result<Vec<u8>, RawError> {
        let mut out = Vec::new();
        let mut buf = [0u8; 16 << 10];
        loop {
            let n = self.read_some(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            if (out.len() + n) as u64 > limit {
                return Err(RawError::TooLarge {
                    host: self.host.clone(),
                    what: self.what.clone(),
                    limit,
                });
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

/// The engine's error message (`{"message":"..."}`) on one line, at most 200 chars,
/// control characters blanked.
pub fn engine_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct M {
        #[serde(default)]
        message: String,
    }
    let m = serde_json::from_slice::<M>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned());
    m.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Client {
    /// A client for `addr` (not https: that goes through bollard).
    pub fn new(addr: HostAddr, bounds: Bounds) -> Client {
        Client {
            shown: addr.to_string(),
            addr,
            bounds,
        }
    }

    pub fn host(&self) -> &str {
        &self.shown
    }

    pub fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> RawError {
        RawError::Unreachable {
            host: self.shown.clone(),
            reason: why.to_string(),
        }
    }

    fn connect(&self, what: &str) -> Result<Conn, RawError> {
        match &self.addr {
            HostAddr::Unix(path) => {
                if !path.exists() {
                    return Err(self.unreachable("no such socket"));
                }
                UnixStream::connect(path)
                    .map(Conn::Unix)
                    .map_err(|e| self.unreachable(e))
            }
            HostAddr::Tcp(addr) => {
                let addrs: Vec<_> = addr
                    .to_socket_addrs()
                    .map_err(|e| self.unreachable(e))?
                    .collect();
                let mut last = None;
                for a in addrs {
                    match TcpStream::connect_timeout(&a, self.bounds.connect) {
                        Ok(s) => return Ok(Conn::Tcp(s)),
                        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                            return Err(RawError::ConnectTimeout {
                                host: self.shown.clone(),
                                what: what.to_string(),
                                secs: self.bounds.connect.as_secs(),
                            });
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(match last {
                    Some(e) => self.unreachable(e),
                    None => self.unreachable("the address resolves to nothing"),
                })
            }
            HostAddr::Https(_) => {
                Err(self.unreachable("https is not spoken by the bounded client"))
            }
        }
    }

    /// `GET path` with the whole exchange due by `until`; the status line and headers
    /// are read, the body is left to the caller.
    pub fn get(&self, path: &str, what: &str, until: Instant) -> Result<Reply, RawError> {
        self.request("GET", path, None, what, until)
    }

    /// `METHOD path` with an optional JSON body (`POST`, `DELETE`, `HEAD`…), due by
    /// `until`; like [`Client::get`] the body of the reply is left to the caller.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        what: &str,
        until: Instant,
    ) -> Result<Reply, RawError> {
        let mut conn = self.connect(what)?;
        conn.set_timeouts(self.bounds.idle)
            .map_err(|e| self.unreachable(e))?;
        let mut req = format!(
            "{method} {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: moat/{}\r\n",
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes();
        match body {
            Some(b) => {
                req.extend_from_slice(
                    format!(
                        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        b.len()
                    )
                    .as_bytes(),
                );
                req.extend_from_slice(b);
            }
            None if method != "GET" && method != "HEAD" => {
                req.extend_from_slice(b"Content-Length: 0\r\n\r\n");
            }
            None => req.extend_from_slice(b"\r\n"),
        }
        conn.write_all(&req).map_err(|e| self.unreachable(e))?;
        let mut reply = Reply {
            status: 0,
            headers: Vec::new(),
            host: self.shown.clone(),
            what: what.to_string(),
            idle: self.bounds.idle,
            until,
            total: until.saturating_duration_since(Instant::now()),
            pending: Vec::new(),
            conn,
        };
        let mut head: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if head.len() > MAX_HEADER_BYTES {
                return Err(RawError::TooLarge {
                    host: self.shown.clone(),
                    what: format!("the headers of {what}"),
                    limit: MAX_HEADER_BYTES as u64,
                });
            }
            let n = reply.read_some(&mut buf).map_err(|e| match e {
                RawError::Protocol { reason, .. } => self.unreachable(reason),
                e => e,
            })?;
            if n == 0 {
                return Err(self.unreachable("the connection closed before a reply"));
            }
            head.extend_from_slice(&buf[..n]);
        };
        reply.pending = head.split_off(end + 4);
        let text = String::from_utf8_lossy(&head[..end]).into_owned();
        let mut lines = text.split("\r\n");
        reply.status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| self.unreachable("not an HTTP reply"))?;
        reply.headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        if reply
            .headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
        {
            return Err(RawError::Protocol {
                host: self.shown.clone(),
                what: what.to_string(),
                reason: "a chunked reply to an HTTP/1.0 request".to_string(),
            });
        }
        Ok(reply)
    }

    /// `GET path` and its whole body (at most `max_json_bytes`), due within `total`.
    pub fn get_json(&self, path: &str, what: &str) -> Result<(u16, Vec<u8>), RawError> {
        let until = Instant::now() + self.bounds.total;
        let mut r = self.get(path, what, until)?;
        let body = r.read_to_limit(self.bounds.max_json_bytes)?;
        Ok((r.status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A fresh directory for a socket (removed by the caller's guard).
    struct Dir(std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn dir(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("moat-engine-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn engine(tag: &str, reply: &'static [u8], endless: bool) -> (Dir, Client) {
        let d = dir(tag);
        let sock = d.0.join("e.sock");
        let l = UnixListener::bind(&sock).unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(reply);
                while endless && s.write_all(&[b'1'; 4096]).is_ok() {}
            }
        });
        let bounds = Bounds {
            max_json_bytes: 1 << 20,
            ..Bounds::default()
        };
        (d, Client::new(HostAddr::Unix(sock), bounds))
    }

    #[test]
    fn reads_a_reply_and_cuts_an_endless_one() {
        let (_d, c) = engine("ok", b"HTTP/1.0 200 OK\r\nA: b\r\n\r\n{\"x\":1}", false);
        let (status, body) = c.get_json("/version", "GET /version").unwrap();
        assert_eq!((status, body.as_slice()), (200, &b"{\"x\":1}"[..]));
        let (_d, c) = engine("endless", b"HTTP/1.0 200 OK\r\n\r\n[", true);
        let e = c
            .get_json("/images/x/json", "GET /images/x/json")
            .unwrap_err();
        assert!(
            matches!(e, RawError::TooLarge { limit, .. } if limit == 1 << 20),
            "{e}"
        );
    }

    #[test]
    fn a_silent_engine_is_an_idle_timeout() {
        let d = dir("silent");
        let sock = d.0.join("e.sock");
        let l = UnixListener::bind(&sock).unwrap();
        let bounds = Bounds {
            idle: Duration::from_millis(200),
            ..Bounds::default()
        };
        let c = Client::new(HostAddr::Unix(sock), bounds);
        let e = c.get_json("/version", "GET /version").unwrap_err();
        assert!(matches!(e, RawError::IdleTimeout { .. }), "{e}");
        drop(l);
    }
}
