//! `docker:REF`: export an image from a Docker Engine over its API.
//!
//! [`export_to_archive`] asks the engine at `opts.docker_host` (else `$DOCKER_HOST`,
//! else `unix:///var/run/docker.sock`) for `GET /images/{name}/get` — the `docker save`
//! format — and streams it into a temporary file under `opts.cache_dir/docker/`. The
//! image-core code opens that file as a docker-archive and deletes it afterwards.

use crate::{ImageError, OpenOptions};
use bollard::Docker;
use futures_util::StreamExt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Where the engine is when nothing says otherwise.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
/// Seconds to wait for the engine to answer a request (connect, headers).
const REQUEST_TIMEOUT_SECS: u64 = 60;
/// Longest pause between two chunks of an export before giving up.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The engine address to use: `opts.docker_host`, `$DOCKER_HOST`, the default socket.
pub fn docker_host(opts: &OpenOptions) -> String {
    opts.docker_host
        .clone()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_string())
}

/// Export `reference` from the engine into a docker-save tar under `opts.cache_dir`.
pub fn export_to_archive(reference: &str, opts: &OpenOptions) -> Result<PathBuf, ImageError> {
    let host = docker_host(opts);
    let err = |message: String| ImageError::new(format!("docker:{reference}"), message);
    if reference.is_empty()
        || reference.len() > 512
        || reference
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'?' || b == b'#' || b == b'%')
        || reference.split('/').any(|c| c == ".." || c == ".")
    {
        return Err(err(format!("invalid image reference {reference:?}")));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(export(reference, &host, opts)).map_err(err)
}

fn connect(host: &str) -> Result<Docker, String> {
    let version = bollard::API_DEFAULT_VERSION;
    if let Some(path) = host.strip_prefix("unix://") {
        if !std::path::Path::new(path).exists() {
            return Err(format!(
                "cannot reach the Docker engine at {host}: no such socket"
            ));
        }
        Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, version)
            .map_err(|e| format!("cannot reach the Docker engine at {host}: {e}"))
    } else if host.starts_with("tcp://") || host.starts_with("http://") {
        let addr = host.replacen("tcp://", "http://", 1);
        Docker::connect_with_http(&addr, REQUEST_TIMEOUT_SECS, version)
            .map_err(|e| format!("cannot reach the Docker engine at {host}: {e}"))
    } else {
        Err(format!(
            "unsupported Docker host {host:?} (want unix://PATH or tcp://HOST:PORT)"
        ))
    }
}

async fn export(reference: &str, host: &str, opts: &OpenOptions) -> Result<PathBuf, String> {
    let docker = connect(host)?
        .negotiate_version()
        .await
        .map_err(|e| format!("cannot reach the Docker engine at {host}: {}", one_line(&e)))?;
    // Ask first, so a missing image is a clear message rather than a broken stream.
    docker.inspect_image(reference).await.map_err(|e| match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        } => format!("no such image in the Docker engine at {host}"),
        e => format!("inspecting the image at {host}: {}", one_line(&e)),
    })?;

    let dir = opts.cache_dir.join("docker");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix("export-")
        .suffix(".tar")
        .tempfile_in(&dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    // Export by the name as given (like `docker save`), so the archive's
    // manifest.json keeps its RepoTags; an export by ID would drop them.
    let name = reference;
    let mut stream = docker.export_image(name);
    let mut total: u64 = 0;
    loop {
        let next = tokio::time::timeout(IDLE_TIMEOUT, stream.next())
            .await
            .map_err(|_| {
                format!(
                    "the Docker engine at {host} sent nothing for {} s during the export",
                    IDLE_TIMEOUT.as_secs()
                )
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| {
            format!(
                "exporting from the Docker engine at {host}: {}",
                one_line(&e)
            )
        })?;
        total += chunk.len() as u64;
        if opts.max_unpacked_size > 0 && total > opts.max_unpacked_size {
            return Err(format!(
                "the export is over the limit of {} bytes",
                opts.max_unpacked_size
            ));
        }
        tmp.write_all(&chunk)
            .map_err(|e| format!("writing {}: {e}", tmp.path().display()))?;
    }
    if total == 0 {
        return Err(format!("the Docker engine at {host} exported nothing"));
    }
    tmp.flush()
        .map_err(|e| format!("writing {}: {e}", tmp.path().display()))?;
    let (_, path) = tmp
        .keep()
        .map_err(|e| format!("cannot keep the export file: {}", e.error))?;
    Ok(path)
}

/// bollard's errors, on one line.
fn one_line(e: &bollard::errors::Error) -> String {
    let s = match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => format!("HTTP {status_code}: {}", message.trim()),
        bollard::errors::Error::HyperLegacyError { .. } => {
            // The innermost cause says it best ("Connection refused (os error 111)").
            let mut last = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(c) = src {
                last = c.to_string();
                src = c.source();
            }
            last
        }
        e => e.to_string(),
    };
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
