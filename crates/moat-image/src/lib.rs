//! Reads container images from every source into a verified, layered view.
//!
//! STUB API (the image work fills it in; keep these names, callers build on them):
//! `Source::parse`, `OpenOptions`, `open`, `Image::{metadata, resolver}`.

pub mod docker;
pub mod registry;

use moat_fs::FileResolver;
use moat_model::ImageMetadata;
use std::path::PathBuf;

/// Where an image comes from, as the user wrote it (`SCHEME:VALUE` or detected).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    DockerArchive(PathBuf),
    OciDir {
        path: PathBuf,
        reference: Option<String>,
    },
    OciArchive(PathBuf),
    Registry(String),
    Docker(String),
    Rootfs(PathBuf),
    Dir(PathBuf),
}

/// How to open an image.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// moat's own scratch and cache directory; nothing is written elsewhere.
    pub cache_dir: PathBuf,
    /// `os/arch[/variant]` to pick from an image index; default `linux/amd64`.
    pub platform: Option<String>,
    /// Registry hosts that may be reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Refuse an image whose layers unpack to more than this many bytes.
    pub max_unpacked_size: u64,
    /// Docker Engine address (`unix:///var/run/docker.sock`); default from `DOCKER_HOST`.
    pub docker_host: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{input}: {message}")]
pub struct ImageError {
    pub input: String,
    pub message: String,
}

/// An opened image: metadata and the squashed, layered file view.
pub struct Image {
    pub metadata: ImageMetadata,
    resolver: Box<dyn FileResolver>,
}

impl Image {
    pub fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }
    pub fn resolver(&self) -> &dyn FileResolver {
        self.resolver.as_ref()
    }
}

/// Open `source` (`docker-archive:PATH`, `oci-dir:PATH`, `registry:REF`, a bare path, ...).
pub fn open(source: &str, _opts: &OpenOptions) -> Result<Image, ImageError> {
    let p = source.split_once(':').map(|(_, v)| v).unwrap_or(source);
    let resolver = moat_fs::DirResolver::new(p).map_err(|e| ImageError {
        input: source.to_string(),
        message: e.to_string(),
    })?;
    Ok(Image {
        metadata: ImageMetadata {
            source: source.to_string(),
            ..Default::default()
        },
        resolver: Box::new(resolver),
    })
}
