//! Reads container images from every source into a verified, layered view.
//!
//! - [`Source::parse`] understands `docker-archive:PATH`, `oci-dir:PATH[:TAG|@DIGEST]`,
//!   `oci-archive:PATH`, `registry:REF`, `docker:REF`, `rootfs:PATH`, `dir:PATH` and
//!   bare paths or references.
//! - [`open`] verifies every blob against its digest, decompresses each layer once into
//!   moat's cache directory (keyed by diff_id) and returns an [`Image`]: its metadata and
//!   the squashed [`FileResolver`] in which every entry knows the layer that last wrote
//!   it. Nothing is ever extracted to the host file system: files are read straight out
//!   of the cached, uncompressed layer tars.
//!
//! See `docs/image-sources.md` for the design and the treatment of hostile input.

#![forbid(unsafe_code)]

mod archive;
mod compression;
mod config;
pub mod docker;
mod layer;
mod limits;
mod oci;
mod paths;
pub mod registry;
mod store;
pub mod testkit;
mod view;

pub use limits::{Budget, Limits, LimitsParseError};
pub use view::{LayerEntry, LayerEntryKind, LayerView, LayeredView};

use moat_fs::FileResolver;
use moat_model::{ImageMetadata, LayerInfo};
use std::fmt;
use std::path::{Path, PathBuf};

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

impl Source {
    /// Parse `SCHEME:VALUE`; a value without a known scheme is a path when it exists
    /// (an OCI layout directory, another directory, or an archive file) and otherwise
    /// a registry reference.
    pub fn parse(s: &str) -> Result<Source, ImageError> {
        let err = |m: &str| ImageError::new(s, m);
        if let Some((scheme, value)) = s.split_once(':') {
            let empty = || err("empty value after the scheme");
            match scheme {
                "docker-archive" => {
                    return if value.is_empty() {
                        Err(empty())
                    } else {
                        Ok(Source::DockerArchive(value.into()))
                    };
                }
                "oci-archive" => {
                    return if value.is_empty() {
                        Err(empty())
                    } else {
                        Ok(Source::OciArchive(value.into()))
                    };
                }
                "oci-dir" | "oci" => {
                    if value.is_empty() {
                        return Err(empty());
                    }
                    return Ok(parse_oci_dir(value));
                }
                "registry" => {
                    return if value.is_empty() {
                        Err(empty())
                    } else {
                        Ok(Source::Registry(value.into()))
                    };
                }
                "docker" | "docker-daemon" => {
                    return if value.is_empty() {
                        Err(empty())
                    } else {
                        Ok(Source::Docker(value.into()))
                    };
                }
                "rootfs" => {
                    return if value.is_empty() {
                        Err(empty())
                    } else {
                        Ok(Source::Rootfs(value.into()))
                    };
                }
                "dir" => {
                    return if value.is_empty() {
                        Err(empty())
                    } else {
                        Ok(Source::Dir(value.into()))
                    };
                }
                _ => {}
            }
        }
        if s.is_empty() {
            return Err(err("empty source"));
        }
        let p = Path::new(s);
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                if p.join("oci-layout").is_file() || p.join("index.json").is_file() {
                    Ok(Source::OciDir {
                        path: p.into(),
                        reference: None,
                    })
                } else {
                    Ok(Source::Dir(p.into()))
                }
            }
            // An archive: docker-archive and oci-archive are told apart when opened.
            Ok(_) => Ok(Source::DockerArchive(p.into())),
            Err(_) => {
                // `LAYOUT:TAG` or `LAYOUT@sha256:...` of an existing OCI layout.
                if let Source::OciDir {
                    path,
                    reference: Some(r),
                } = parse_oci_dir(s)
                    && path.join("index.json").is_file()
                {
                    return Ok(Source::OciDir {
                        path,
                        reference: Some(r),
                    });
                }
                if s.starts_with('/') || s.starts_with('.') || s.ends_with(".tar") {
                    Err(err("no such file or directory"))
                } else {
                    Ok(Source::Registry(s.into()))
                }
            }
        }
    }
}

/// `PATH`, `PATH:TAG` or `PATH@sha256:HEX`; a value naming an existing directory is
/// always a plain path.
fn parse_oci_dir(value: &str) -> Source {
    if Path::new(value).is_dir() {
        return Source::OciDir {
            path: value.into(),
            reference: None,
        };
    }
    if let Some((path, digest)) = value.rsplit_once('@')
        && digest.contains(':')
    {
        return Source::OciDir {
            path: path.into(),
            reference: Some(digest.into()),
        };
    }
    if let Some((path, tag)) = value.rsplit_once(':')
        && !tag.contains('/')
        && !path.is_empty()
    {
        return Source::OciDir {
            path: path.into(),
            reference: Some(tag.into()),
        };
    }
    Source::OciDir {
        path: value.into(),
        reference: None,
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::DockerArchive(p) => write!(f, "docker-archive:{}", p.display()),
            Source::OciDir { path, reference } => {
                write!(f, "oci-dir:{}", path.display())?;
                match reference {
                    Some(r) if r.contains(':') => write!(f, "@{r}"),
                    Some(r) => write!(f, ":{r}"),
                    None => Ok(()),
                }
            }
            Source::OciArchive(p) => write!(f, "oci-archive:{}", p.display()),
            Source::Registry(r) => write!(f, "registry:{r}"),
            Source::Docker(r) => write!(f, "docker:{r}"),
            Source::Rootfs(p) => write!(f, "rootfs:{}", p.display()),
            Source::Dir(p) => write!(f, "dir:{}", p.display()),
        }
    }
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
    /// Every other budget (entries, path and link lengths, JSON sizes, timeouts).
    pub limits: Limits,
}

/// The default limit on the unpacked size of an image's layers: 8 GiB.
pub const DEFAULT_MAX_UNPACKED_SIZE: u64 = 8 << 30;

impl OpenOptions {
    /// Defaults: platform `linux/amd64`, [`DEFAULT_MAX_UNPACKED_SIZE`], no insecure
    /// registries, the Docker host from the environment.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        OpenOptions {
            cache_dir: cache_dir.into(),
            platform: None,
            insecure_registries: Vec::new(),
            max_unpacked_size: DEFAULT_MAX_UNPACKED_SIZE,
            docker_host: None,
            limits: Limits::from_env(),
        }
    }

    /// The platform in force as (os, architecture, variant).
    pub(crate) fn platform_triple(&self) -> (String, String, Option<String>) {
        let p = self.platform.as_deref().unwrap_or("linux/amd64");
        let mut it = p.split('/');
        let os = it.next().unwrap_or("linux").to_string();
        let arch = it.next().unwrap_or("amd64").to_string();
        let variant = it.next().map(str::to_string);
        (os, arch, variant)
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new(std::env::temp_dir().join("moat"))
    }
}

/// What kind of failure an [`ImageError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageErrorKind {
    /// Malformed, missing, unreachable or refused input.
    Invalid,
    /// A budget of [`Limits`] (or `max_unpacked_size`) was exceeded.
    Budget { budget: Budget, limit: u64 },
}

/// Any failure to open or read an image; `input` names the source, blob or entry.
#[derive(Debug, thiserror::Error)]
#[error("{input}: {message}")]
pub struct ImageError {
    pub input: String,
    pub message: String,
    pub kind: ImageErrorKind,
}

impl ImageError {
    pub fn new(input: impl Into<String>, message: impl Into<String>) -> Self {
        ImageError {
            input: input.into(),
            message: message.into(),
            kind: ImageErrorKind::Invalid,
        }
    }

    /// `what` is over `budget` (whose value is `limit`); the message names both.
    pub fn budget(
        input: impl Into<String>,
        what: impl fmt::Display,
        budget: Budget,
        limit: u64,
    ) -> Self {
        ImageError {
            input: input.into(),
            message: format!("{what}: over the {budget} budget ({limit})"),
            kind: ImageErrorKind::Budget { budget, limit },
        }
    }

    /// The budget this error reports, if it is one.
    pub fn exceeded_budget(&self) -> Option<Budget> {
        match self.kind {
            ImageErrorKind::Budget { budget, .. } => Some(budget),
            ImageErrorKind::Invalid => None,
        }
    }

    /// Prefix the input with the outer object (`docker-archive:x.tar: blobs/...`).
    pub(crate) fn within(self, outer: &str) -> Self {
        if self.input.is_empty() {
            ImageError {
                input: outer.to_string(),
                ..self
            }
        } else if self.input.starts_with(outer) {
            self
        } else {
            ImageError {
                input: format!("{outer}: {}", self.input),
                ..self
            }
        }
    }
}

enum View {
    Dir(moat_fs::DirResolver),
    Layered(LayeredView),
}

/// An opened image: metadata and the squashed, layered file view.
pub struct Image {
    pub metadata: ImageMetadata,
    view: View,
}

impl Image {
    pub fn metadata(&self) -> &ImageMetadata {
        &self.metadata
    }

    /// The squashed view of every layer (or the directory of a `dir:`/`rootfs:` source).
    pub fn resolver(&self) -> &dyn FileResolver {
        match &self.view {
            View::Dir(d) => d,
            View::Layered(l) => l,
        }
    }

    /// The layers, bottom first, with their diff_ids (empty for `dir:`/`rootfs:`).
    pub fn layers(&self) -> &[LayerInfo] {
        &self.metadata.layers
    }

    /// The squashed layered view, when the source has layers.
    pub fn layered(&self) -> Option<&LayeredView> {
        match &self.view {
            View::Dir(_) => None,
            View::Layered(l) => Some(l),
        }
    }

    /// The entries of one layer alone (index into [`Image::layers`]), as a resolver of
    /// their own; `None` for an index out of range or a source without layers.
    pub fn layer_view(&self, index: usize) -> Option<LayerView<'_>> {
        self.layered().and_then(|l| l.layer_view(index))
    }
}

/// Open `source` (`docker-archive:PATH`, `oci-dir:PATH`, `registry:REF`, a bare path, ...).
pub fn open(source: &str, opts: &OpenOptions) -> Result<Image, ImageError> {
    let parsed = Source::parse(source)?;
    open_source(&parsed, opts).map(|mut img| {
        img.metadata.source = source.to_string();
        img
    })
}

/// Open an already parsed source.
pub fn open_source(source: &Source, opts: &OpenOptions) -> Result<Image, ImageError> {
    let name = source.to_string();
    match source {
        Source::Dir(p) | Source::Rootfs(p) => {
            let d = moat_fs::DirResolver::new(p).map_err(|e| ImageError::new(&name, e.message))?;
            let (os, architecture) = ("linux".to_string(), String::new());
            Ok(Image {
                metadata: ImageMetadata {
                    source: name,
                    os,
                    architecture,
                    ..Default::default()
                },
                view: View::Dir(d),
            })
        }
        Source::OciDir { path, reference } => {
            let store = store::DirStore::new(path, opts.limits.max_json_bytes)
                .map_err(|e| e.within(&name))?;
            oci::open_layout(&store, reference.as_deref(), opts, &name)
        }
        Source::DockerArchive(p) | Source::OciArchive(p) => {
            let store = store::TarStore::open(p, opts).map_err(|e| e.within(&name))?;
            archive::open_archive(&store, opts, &name)
        }
        Source::Registry(r) => {
            let (layout, tag) = registry::pull_to_layout(r, opts)?;
            let store = store::DirStore::new(&layout, opts.limits.max_json_bytes)
                .map_err(|e| e.within(&name))?;
            oci::open_layout(&store, Some(&tag), opts, &name)
        }
        Source::Docker(r) => {
            let tar = docker::export_to_archive(r, opts)?;
            let res = store::TarStore::open(&tar, opts)
                .map_err(|e| e.within(&name))
                .and_then(|store| archive::open_archive(&store, opts, &name));
            // The layers now live in the cache; the exported archive is not needed.
            let _ = std::fs::remove_file(&tar);
            res
        }
    }
}

pub(crate) fn layered_image(metadata: ImageMetadata, view: LayeredView) -> Image {
    Image {
        metadata,
        view: View::Layered(view),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes() {
        assert_eq!(
            Source::parse("docker-archive:/x/a.tar").unwrap(),
            Source::DockerArchive("/x/a.tar".into())
        );
        assert_eq!(
            Source::parse("oci-dir:/nonexistent/oci:base").unwrap(),
            Source::OciDir {
                path: "/nonexistent/oci".into(),
                reference: Some("base".into())
            }
        );
        assert_eq!(
            Source::parse("oci-dir:/nonexistent/oci@sha256:abc").unwrap(),
            Source::OciDir {
                path: "/nonexistent/oci".into(),
                reference: Some("sha256:abc".into())
            }
        );
        assert_eq!(
            Source::parse("registry:alpine:3.19").unwrap(),
            Source::Registry("alpine:3.19".into())
        );
        assert_eq!(
            Source::parse("alpine:3.19").unwrap(),
            Source::Registry("alpine:3.19".into())
        );
        assert!(Source::parse("/does/not/exist.tar").is_err());
        assert!(Source::parse("rootfs:").is_err());
        let d = tempfile::tempdir().unwrap();
        let s = d.path().to_str().unwrap();
        assert_eq!(Source::parse(s).unwrap(), Source::Dir(d.path().into()));
        std::fs::write(d.path().join("oci-layout"), "{}").unwrap();
        assert!(matches!(
            Source::parse(s).unwrap(),
            Source::OciDir {
                reference: None,
                ..
            }
        ));
        assert_eq!(
            Source::parse(&format!("oci-dir:{s}:tag"))
                .unwrap()
                .to_string(),
            format!("oci-dir:{s}:tag")
        );
    }
}
