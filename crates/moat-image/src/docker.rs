//! `docker:REF`: export an image from a Docker Engine over its API.
//!
//! [`export_to_archive`] asks the engine at `opts.docker_host` (else `$DOCKER_HOST`,
//! else `unix:///var/run/docker.sock`) for `GET /images/{name}/get` — the `docker save`
//! format — and streams it into a temporary file under `opts.cache_dir/docker/`. The
//! image-core code opens that file as a docker-archive and deletes it afterwards.
//! Replies are bounded in bytes and time (see [`export_to_archive`]); the Engine API
//! client is `moat_engine::raw`, shared with `moat audit`.

use crate::{Budget, ImageError, OpenOptions};
use moat_engine::HostAddr;
use moat_engine::raw::{self, RawError, engine_message};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Where the engine is when nothing says otherwise.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

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
/// The Engine API is spoken through `moat_engine::raw` (HTTP/1.0 over the socket,
/// unversioned paths): every reply is bounded in bytes (a JSON reply by
/// `limits.max_json_bytes`, the export by `max_unpacked_size`) and in time
/// (`connect_timeout`, `idle_timeout` between two bytes, `total_timeout` for the
/// whole export).
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
    let addr = HostAddr::parse(&host).map_err(|e| ImageError::new(&input, e.to_string()))?;
    if let HostAddr::Https(_) = addr {
        return Err(ImageError::new(
            &input,
            format!("the Docker host {host} needs TLS, which docker: sources do not speak"),
        ));
    }
    let l = &opts.limits;
    let client = raw::Client::new(
        addr,
        raw::Bounds {
            connect: l.connect_timeout,
            idle: l.idle_timeout,
            total: l.total_timeout,
            max_json_bytes: l.max_json_bytes,
        },
    );
    export(&client, reference, opts).map_err(|e| e.within(&input))
}

/// A bounded-client error as an image error, its budget kept.
fn from_raw(e: RawError) -> ImageError {
    let msg = e.to_string();
    match e {
        RawError::ConnectTimeout { secs, .. } => {
            ImageError::budget("", msg, Budget::ConnectTimeout, secs)
        }
        RawError::IdleTimeout { secs, .. } => {
            ImageError::budget("", msg, Budget::IdleTimeout, secs)
        }
        RawError::TotalTimeout { secs, .. } => {
            ImageError::budget("", msg, Budget::TotalTimeout, secs)
        }
        RawError::TooLarge {
            host, what, limit, ..
        } => ImageError::budget(
            "",
            format!("{what} from the Docker engine at {host}"),
            Budget::JsonBytes,
            limit,
        ),
        _ => ImageError::new("", msg),
    }
}

fn export(
    client: &raw::Client,
    reference: &str,
    opts: &OpenOptions,
) -> Result<PathBuf, ImageError> {
    let host = client.host().to_string();
    let until = Instant::now() + opts.limits.total_timeout;
    let json_limit = opts.limits.max_json_bytes;
    // Ask first, so a missing image is a clear message rather than a broken stream.
    let mut r = client
        .get(
            &format!("/images/{reference}/json"),
            "the image inspection",
            until,
        )
        .map_err(from_raw)?;
    let body = r.read_to_limit(json_limit).map_err(from_raw)?;
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

    let dir = opts.cache_dir.join("docker");
    let io_err = |what: String, e: std::io::Error| ImageError::new("", format!("{what}: {e}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
    // Export by the name as given (like `docker save`), so the archive's
    // manifest.json keeps its RepoTags; an export by ID would drop them.
    let mut r = client
        .get(&format!("/images/{reference}/get"), "the export", until)
        .map_err(from_raw)?;
    if r.status != 200 {
        let body = r.read_to_limit(json_limit).map_err(from_raw)?;
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
        let n = r.read_some(&mut buf).map_err(from_raw)?;
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
