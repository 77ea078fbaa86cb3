//! `docker:REF`: export an image from a Docker Engine over its API.
//!
//! [`export_to_archive`] asks the engine at `opts.docker_host` (else `$DOCKER_HOST`,
//! else `unix:///var/run/docker.sock`) for `GET /images/{name}/get` — the `docker save`
//! format — and streams it into a temporary file under `opts.cache_dir/docker/`. The
//! image-core code opens that file as a docker-archive and deletes it afterwards.
//! Replies are bounded in bytes and time (see [`export_to_archive`]).

use crate::{Budget, ImageError, Limits, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the engine is when nothing says otherwise.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
/// Bytes of a reply's status line and headers.
const MAX_HEADER_BYTES: usize = 64 << 10;

/// The engine address to use: `opts.docker_host`, `$DOCKER_HOST`, the default socket.
pub fn docker_host(opts: &OpenOptions) -> String {
    opts.docker_host
        .clone()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_string())
}

/// Export `reference` from the engine into a docker-save tar under `opts.cache_dir`.
///
/// The Engine API is spoken directly (HTTP/1.0 over the socket, unversioned paths):
/// every reply is bounded in bytes (a JSON reply by `limits.max_json_bytes`, the
/// export by `max_unpacked_size`) and in time (`connect_timeout`, `idle_timeout`
/// between two bytes, `total_timeout` for the whole export).
pub fn export_to_archive(reference: &str, opts: &OpenOptions) -> Result<PathBuf, ImageError> {
    let host = docker_host(opts);
    let input = format!("docker:{reference}");
    if reference.is_empty()
        || reference.len() > 512
        || reference
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'?' || b == b'#' || b == b'%')
        || reference.split('/').any(|c| c == ".." || c == ".")
    {
        return Err(ImageError::new(
            &input,
            format!("invalid image reference {reference:?}"),
        ));
    }
    let engine = Engine {
        host: &host,
        limits: &opts.limits,
        until: Instant::now() + opts.limits.total_timeout,
    };
    export(&engine, reference, opts).map_err(|e| e.within(&input))
}

/// One engine and the deadline of the whole export.
struct Engine<'a> {
    host: &'a str,
    limits: &'a Limits,
    until: Instant,
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
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
        }
    }
}

/// A reply: status, headers (lowercased names) and the body reader.
struct Reply<'e> {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body<'e>,
}

/// The body: bytes already read with the headers, then the connection; every read
/// bounded by the idle timeout and the export's deadline.
struct Body<'e> {
    engine: &'e Engine<'e>,
    what: String,
    pending: Vec<u8>,
    conn: Conn,
}

impl Body<'_> {
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, ImageError> {
        if !self.pending.is_empty() {
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            return Ok(n);
        }
        let e = self.engine;
        let left = e.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(e.over(&self.what, Budget::TotalTimeout));
        }
        let idle = e.limits.idle_timeout;
        self.conn
            .set_timeouts(idle.min(left).max(Duration::from_millis(1)))
            .map_err(|err| ImageError::new("", format!("{}: {err}", self.what)))?;
        match self.conn.read(buf) {
            Ok(n) => Ok(n),
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if Instant::now() >= e.until {
                    Err(e.over(&self.what, Budget::TotalTimeout))
                } else {
                    Err(e.over(&self.what, Budget::IdleTimeout))
                }
            }
            Err(err) => Err(ImageError::new(
                "",
                format!("{} from the Docker engine at {}: {err}", self.what, e.host),
            )),
        }
    }

    /// The whole body, at most `limit` bytes.
    fn read_to_limit(&mut self, limit: u64, budget: Budget) -> Result<Vec<u8>, ImageError> {
        let mut out = Vec::new();
        let mut buf = [0u8; 16 << 10];
        loop {
            let n = self.read_some(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            if (out.len() + n) as u64 > limit {
                return Err(ImageError::budget(
                    "",
                    format!(
                        "{} from the Docker engine at {}",
                        self.what, self.engine.host
                    ),
                    budget,
                    limit,
                ));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
}

impl<'a> Engine<'a> {
    fn over(&self, what: &str, budget: Budget) -> ImageError {
        let limit = match budget {
            Budget::TotalTimeout => self.limits.total_timeout,
            Budget::ConnectTimeout => self.limits.connect_timeout,
            _ => self.limits.idle_timeout,
        };
        ImageError::budget(
            "",
            format!("{what}: the Docker engine at {} took too long", self.host),
            budget,
            limit.as_secs(),
        )
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> ImageError {
        ImageError::new(
            "",
            format!("cannot reach the Docker engine at {}: {why}", self.host),
        )
    }

    fn connect(&self) -> Result<Conn, ImageError> {
        let host = self.host;
        if let Some(path) = host.strip_prefix("unix://") {
            if !std::path::Path::new(path).exists() {
                return Err(self.unreachable("no such socket"));
            }
            return UnixStream::connect(path)
                .map(Conn::Unix)
                .map_err(|e| self.unreachable(e));
        }
        let Some(addr) = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
        else {
            return Err(ImageError::new(
                "",
                format!("unsupported Docker host {host:?} (want unix://PATH or tcp://HOST:PORT)"),
            ));
        };
        let addr = addr.trim_end_matches('/');
        let addrs: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|e| self.unreachable(e))?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.limits.connect_timeout) {
                Ok(s) => return Ok(Conn::Tcp(s)),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(self.over("connecting", Budget::ConnectTimeout));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => self.unreachable(e),
            None => self.unreachable("the address resolves to nothing"),
        })
    }

    /// `GET path`, the status line and headers read (bounded).
    fn get(&'a self, path: &str, what: &str) -> Result<Reply<'a>, ImageError> {
        let mut conn = self.connect()?;
        conn.set_timeouts(self.limits.idle_timeout)
            .map_err(|e| self.unreachable(e))?;
        let req = format!(
            "GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: moat/{}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        conn.write_all(req.as_bytes())
            .map_err(|e| self.unreachable(e))?;
        let mut body = Body {
            engine: self,
            what: what.to_string(),
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
                return Err(ImageError::budget(
                    "",
                    format!(
                        "the headers of {what} from the Docker engine at {}",
                        self.host
                    ),
                    Budget::JsonBytes,
                    MAX_HEADER_BYTES as u64,
                ));
            }
            let n = body.read_some(&mut buf).map_err(|e| {
                if e.exceeded_budget().is_some() {
                    e
                } else {
                    self.unreachable(e.message)
                }
            })?;
            if n == 0 {
                return Err(self.unreachable("the connection closed before a reply"));
            }
            head.extend_from_slice(&buf[..n]);
        };
        body.pending = head.split_off(end + 4);
        let text = String::from_utf8_lossy(&head[..end]).into_owned();
        let mut lines = text.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| self.unreachable("not an HTTP reply"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
        {
            return Err(ImageError::new(
                "",
                format!(
                    "{what}: the Docker engine at {} sent a chunked reply to an HTTP/1.0 request",
                    self.host
                ),
            ));
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// The engine's error message (`{"message":"..."}`), on one line, at most 200 chars.
fn engine_message(body: &[u8]) -> String {
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

fn export(engine: &Engine<'_>, reference: &str, opts: &OpenOptions) -> Result<PathBuf, ImageError> {
    let host = engine.host;
    let json_limit = opts.limits.max_json_bytes;
    // Ask first, so a missing image is a clear message rather than a broken stream.
    let mut r = engine.get(&format!("/images/{reference}/json"), "the image inspection")?;
    let body = r.body.read_to_limit(json_limit, Budget::JsonBytes)?;
    match r.status {
        200 => {}
        404 => {
            return Err(ImageError::new(
                "",
                format!("no such image in the Docker engine at {host}"),
            ));
        }
        code => {
            return Err(ImageError::new(
                "",
                format!(
                    "inspecting the image at {host}: HTTP {code}: {}",
                    engine_message(&body)
                ),
            ));
        }
    }
    let _ = r.headers;

    let dir = opts.cache_dir.join("docker");
    let io_err = |what: String, e: io::Error| ImageError::new("", format!("{what}: {e}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
    // Export by the name as given (like `docker save`), so the archive's
    // manifest.json keeps its RepoTags; an export by ID would drop them.
    let mut r = engine.get(&format!("/images/{reference}/get"), "the export")?;
    if r.status != 200 {
        let body = r.body.read_to_limit(json_limit, Budget::JsonBytes)?;
        return Err(ImageError::new(
            "",
            format!(
                "exporting from the Docker engine at {host}: HTTP {}: {}",
                r.status,
                engine_message(&body)
            ),
        ));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix("export-")
        .suffix(".tar")
        .tempfile_in(&dir)
        .map_err(|e| {
            io_err(
                format!("cannot create a temporary file in {}", dir.display()),
                e,
            )
        })?;
    let limit = opts.max_unpacked_size;
    let mut total: u64 = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.body.read_some(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if limit > 0 && total > limit {
            return Err(ImageError::budget(
                "",
                format!("the export from the Docker engine at {host}"),
                Budget::UnpackedBytes,
                limit,
            ));
        }
        tmp.write_all(&buf[..n])
            .map_err(|e| io_err(format!("writing {}", tmp.path().display()), e))?;
    }
    if total == 0 {
        return Err(ImageError::new(
            "",
            format!("the Docker engine at {host} exported nothing"),
        ));
    }
    tmp.flush()
        .map_err(|e| io_err(format!("writing {}", tmp.path().display()), e))?;
    let (_, path) = tmp
        .keep()
        .map_err(|e| io_err("cannot keep the export file".to_string(), e.error))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(host: Option<&str>, dir: &std::path::Path) -> OpenOptions {
        OpenOptions {
            cache_dir: dir.to_path_buf(),
            platform: None,
            insecure_registries: vec![],
            max_unpacked_size: 0,
            docker_host: host.map(str::to_string),
            limits: crate::Limits::default(),
        }
    }

    #[test]
    fn bad_host_and_reference() {
        let d = tempfile::tempdir().unwrap();
        let e = export_to_archive("x", &opts(Some("ssh://h"), d.path())).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("docker:x: unsupported Docker host"),
            "{e}"
        );
        let e = export_to_archive("../x", &opts(None, d.path())).unwrap_err();
        assert!(e.to_string().contains("invalid image reference"), "{e}");
    }
}
