//! `registry:REF`: pull an image over the Registry HTTP API v2 into an OCI image layout.
//!
//! [`pull_to_layout`] resolves `REF` (an image index / manifest list is narrowed to one
//! platform), then downloads the config and every layer into
//! `cache_dir/registry/<host>_<port>/<repository>/_oci` — an OCI image layout shared
//! by every tag of that repository, so a blob already there is not fetched again. Each blob is
//! streamed into a temporary file next to its final place while its sha256 is
//! computed, and renamed into place only when digest and size match. `index.json`
//! records the manifest under `org.opencontainers.image.ref.name` = the tag or digest
//! asked for; the manifest's digest is returned, and the image-core code opens the
//! layout by it.
//!
//! Authentication: anonymous first; on `401` the `WWW-Authenticate` challenge decides:
//! `Bearer` fetches a token from the realm (sending Basic credentials from docker's
//! `config.json` when there are any), `Basic` sends those credentials directly.

pub mod auth;
mod error;
mod fetch;
mod layout;
mod manifest;
mod media;
pub mod reference;
mod transport;

use layout::{update_index, write_blob};
use manifest::{Descriptor, Kind, Platform, check_config_platform, choose_platform};
use transport::{Client, Deadlines, is_loopback};

pub use error::RegistryError;
pub use fetch::{RawManifest, Repository};
pub use media::{DOCKER_LIST, DOCKER_MANIFEST, MAX_MANIFEST_SIZE, OCI_INDEX, OCI_MANIFEST};

use crate::{Budget, ImageError, OpenOptions};
use reference::Reference;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Pull `reference` into an OCI layout under `opts.cache_dir`; returns the layout
/// directory and the digest of the image manifest, which its `index.json` records
/// under the tag or digest `reference` names (`org.opencontainers.image.ref.name`).
/// Open it as `oci-dir:LAYOUT@DIGEST`.
pub fn pull_to_layout(
    reference: &str,
    opts: &OpenOptions,
) -> Result<(PathBuf, String), ImageError> {
    Puller::new(opts).pull(reference)
}

/// [`pull_to_layout`] with its knobs exposed (tests use it to point at a config dir
/// without touching the process environment).
pub struct Puller<'a> {
    opts: &'a OpenOptions,
    docker_config_dir: Option<PathBuf>,
    timeout_connect: Duration,
    timeout_read: Duration,
}

impl<'a> Puller<'a> {
    /// Defaults: docker config from `$DOCKER_CONFIG` or `~/.docker`; the connect and
    /// idle timeouts of `opts.limits` (15 s, 60 s); the whole pull within its
    /// `total_timeout`.
    pub fn new(opts: &'a OpenOptions) -> Self {
        Puller {
            opts,
            docker_config_dir: auth::default_config_dir(),
            timeout_connect: opts.limits.connect_timeout,
            timeout_read: opts.limits.idle_timeout,
        }
    }

    /// Read credentials from `dir/config.json` (`None`: anonymous only).
    pub fn docker_config_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.docker_config_dir = dir;
        self
    }

    /// Change the connect and read timeouts.
    pub fn timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.timeout_connect = connect;
        self.timeout_read = read;
        self
    }

    /// Pull `reference` (without the `registry:` prefix).
    pub fn pull(&self, reference: &str) -> Result<(PathBuf, String), ImageError> {
        let input = format!("registry:{reference}");
        let err = |e: RegistryError| e.into_image(&input);
        let fail = |m: String| ImageError::new(input.clone(), m);
        let r = Reference::parse(reference).map_err(&err)?;
        let insecure = self
            .opts
            .insecure_registries
            .iter()
            .any(|h| h == &r.registry || h == r.api_host());
        let scheme = if insecure { "http" } else { "https" };
        let mut config = ureq::Agent::config_builder();
        if is_loopback(r.api_host()) {
            // A registry on this machine is never reached through a proxy.
            config = config.proxy(None);
        }
        let agent: ureq::Agent = config
            .http_status_as_error(false)
            .max_redirects(10)
            .timeout_connect(Some(self.timeout_connect))
            .timeout_recv_response(Some(self.timeout_read))
            .timeout_per_read(Some(self.timeout_read))
            .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")))
            // Blobs must arrive byte-for-byte as stored, or their digests cannot match.
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .build()
            .into();
        let deadlines = Deadlines {
            connect: self.timeout_connect,
            idle: self.timeout_read,
            total: self.opts.limits.total_timeout,
            until: Instant::now() + self.opts.limits.total_timeout,
        };
        let mut client = Client {
            deadlines,
            insecure_hosts: self.opts.insecure_registries.clone(),
            agent,
            base: format!("{scheme}://{}", r.api_host()),
            registry: r.registry.clone(),
            repository: r.repository.clone(),
            config_dir: self.docker_config_dir.clone(),
            authorization: None,
        };

        // 1. The manifest, narrowed to one platform if it is an index.
        let want = r.reference().to_string();
        let (mut manifest, mut bytes, mut digest) =
            client.manifest(&want, r.digest.as_deref()).map_err(&err)?;
        let from_index = manifest.kind == Kind::Index;
        if from_index {
            let platform = Platform::parse(self.opts.platform.as_deref().unwrap_or("linux/amd64"))
                .map_err(&err)?;
            let desc = choose_platform(&manifest, &platform).map_err(&err)?;
            reference::check_digest(&desc.digest)
                .map_err(|e| fail(format!("index entry for {platform}: {e}")))?;
            let (m, b, d) = client
                .manifest(&desc.digest, Some(&desc.digest))
                .map_err(&err)?;
            if m.kind != Kind::Manifest {
                return Err(fail(format!(
                    "index entry {} for {platform} is not an image manifest",
                    desc.digest
                )));
            }
            (manifest, bytes, digest) = (m, b, d);
        }
        let config = manifest
            .doc
            .config
            .as_ref()
            .ok_or_else(|| fail(format!("manifest {digest} has no config")))?;
        let layers = manifest.doc.layers.as_deref().unwrap_or_default();

        let total: u64 = layers.iter().fold(0u64, |a, l| a.saturating_add(l.size));
        if self.opts.max_unpacked_size > 0 && total > self.opts.max_unpacked_size {
            return Err(err(RegistryError::budget(
                format!("the layers total {total} bytes compressed"),
                crate::Budget::UnpackedBytes,
                self.opts.max_unpacked_size,
            )));
        }

        // 2. The layout and its blobs.
        let layout = self
            .opts
            .cache_dir
            .join("registry")
            .join(r.registry.replace(':', "_"))
            .join(&r.repository)
            // No repository component can start with `_`, so `a`'s layout never
            // collides with repository `a/blobs` or `a/index.json`.
            .join("_oci");
        let blobs = layout.join("blobs").join("sha256");
        std::fs::create_dir_all(&blobs)
            .map_err(|e| fail(format!("cannot create {}: {e}", blobs.display())))?;
        // A blob is refused on the size its descriptor claims before anything is
        // written; while streaming, bytes beyond that size are refused too.
        let json_limit = self.opts.limits.max_json_bytes;
        if config.size > json_limit {
            return Err(err(RegistryError::budget(
                format!("config blob {} claims {} bytes", config.digest, config.size),
                Budget::JsonBytes,
                json_limit,
            )));
        }
        if let Some(big) = layers
            .iter()
            .find(|l| self.opts.max_unpacked_size > 0 && l.size > self.opts.max_unpacked_size)
        {
            return Err(err(RegistryError::budget(
                format!("layer blob {} claims {} bytes", big.digest, big.size),
                Budget::UnpackedBytes,
                self.opts.max_unpacked_size,
            )));
        }
        // The config first: with an explicit --platform, a single-platform image
        // of another platform is refused before its layers are fetched.
        client.blob(config, &blobs).map_err(&err)?;
        if !from_index && let Some(p) = self.opts.platform.as_deref() {
            let want = Platform::parse(p).map_err(&err)?;
            check_config_platform(&blobs, &config.digest, &want).map_err(&err)?;
        }
        if let Some(desc) = layers
            .iter()
            .find(|d| !d.urls.is_empty() && d.media_type.contains("foreign"))
        {
            return Err(fail(format!(
                "layer {} is a foreign (non-distributable) layer; not supported",
                desc.digest
            )));
        }
        fetch_layers(&client, layers, &blobs).map_err(&err)?;
        write_blob(&blobs, &digest, &bytes).map_err(&err)?;

        // 3. index.json names the manifest by the tag or digest asked for; the
        // caller opens it by the manifest's own digest, which no concurrent pull of
        // a moved tag or another platform can redirect.
        let name = r.digest.clone().unwrap_or_else(|| want.clone());
        let media_type = manifest.media_type.clone();
        update_index(&layout, &media_type, &digest, bytes.len() as u64, &name).map_err(&err)?;
        Ok((layout, digest))
    }
}

/// How many layers are downloaded at once (docker pulls 3 at a time too).
const PARALLEL_DOWNLOADS: usize = 3;

/// Download `layers` with up to [`PARALLEL_DOWNLOADS`] workers, each with its own
/// copy of the client (and so of its authorization). After a failure no new layer is
/// started; the failure of the first layer (in manifest order) that failed is
/// returned.
fn fetch_layers(client: &Client, layers: &[Descriptor], blobs: &Path) -> Result<(), RegistryError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let errors: Mutex<Vec<(usize, RegistryError)>> = Mutex::new(Vec::new());
    let workers = PARALLEL_DOWNLOADS.min(layers.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let mut c = client.clone();
            let (next, failed, errors) = (&next, &failed, &errors);
            scope.spawn(move || {
                loop {
                    if failed.load(Ordering::SeqCst) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(desc) = layers.get(i) else { break };
                    if let Err(e) = c.blob(desc, blobs) {
                        failed.store(true, Ordering::SeqCst);
                        if let Ok(mut v) = errors.lock() {
                            v.push((i, e));
                        }
                    }
                }
            });
        }
    });
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort_by_key(|(i, _)| *i);
    match errors.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}
