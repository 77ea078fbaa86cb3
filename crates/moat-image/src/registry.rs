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
pub mod reference;

pub use error::RegistryError;

use crate::{Budget, ImageError, OpenOptions};
use auth::{Challenge, Credentials, Lookup};
use reference::Reference;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Manifests (and indexes) larger than this are refused.
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Token responses and error bodies larger than this are refused / cut.
const MAX_SMALL_BODY: u64 = 1 << 20;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

const REF_NAME: &str = "org.opencontainers.image.ref.name";

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

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback(host: &str) -> bool {
    let h = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h == "::1"
        || h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Index or image manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Index,
    Manifest,
}

#[derive(serde::Deserialize, Debug, Clone)]
struct Descriptor {
    #[serde(default, rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    platform: Option<PlatformDoc>,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(serde::Deserialize, Debug, Clone)]
struct PlatformDoc {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
struct ManifestDoc {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(default, rename = "mediaType")]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

struct Manifest {
    kind: Kind,
    media_type: String,
    doc: ManifestDoc,
}

/// A requested `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Platform {
    os: String,
    arch: String,
    variant: Option<String>,
}

impl Platform {
    fn parse(s: &str) -> Result<Platform, RegistryError> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || format!("invalid platform {s:?} (want os/arch[/variant])");
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, v] => (*os, *arch, Some(v.to_string())),
            _ => return Err(bad().into()),
        };
        if os.is_empty() || arch.is_empty() {
            return Err(bad().into());
        }
        let arch = normalize_arch(arch);
        Ok(Platform {
            os: os.to_ascii_lowercase(),
            arch: arch.to_string(),
            variant,
        })
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        _ => a,
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

/// Refuse a config (already verified in `blobs`) whose os/architecture is not `want`'s.
fn check_config_platform(blobs: &Path, digest: &str, want: &Platform) -> Result<(), RegistryError> {
    #[derive(serde::Deserialize)]
    struct Cfg {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        variant: Option<String>,
    }
    let path = blobs.join(digest.trim_start_matches("sha256:"));
    let f = std::fs::File::open(&path).map_err(|e| format!("reading config {digest}: {e}"))?;
    let mut data = Vec::new();
    f.take(MAX_MANIFEST_SIZE * 4)
        .read_to_end(&mut data)
        .map_err(|e| format!("reading config {digest}: {e}"))?;
    let cfg: Cfg = serde_json::from_slice(&data)
        .map_err(|e| format!("malformed JSON in config {digest}: {e}"))?;
    let arch_ok = normalize_arch(&cfg.architecture) == want.arch;
    let variant_ok = match (&want.variant, &cfg.variant) {
        (Some(w), Some(v)) => w == v,
        _ => true,
    };
    if cfg.os == want.os && arch_ok && variant_ok {
        return Ok(());
    }
    let mut have = format!("{}/{}", cfg.os, cfg.architecture);
    if let Some(v) = &cfg.variant {
        have.push('/');
        have.push_str(v);
    }
    Err(format!("the image is for platform {have}, not the requested {want}").into())
}

/// The first index entry for `want`; arm64 without a variant counts as `v8`.
fn choose_platform<'m>(m: &'m Manifest, want: &Platform) -> Result<&'m Descriptor, RegistryError> {
    let entries = m.doc.manifests.as_deref().unwrap_or_default();
    let variant_of = |p: &PlatformDoc| -> Option<String> {
        p.variant
            .clone()
            .or_else(|| (normalize_arch(&p.architecture) == "arm64").then(|| "v8".to_string()))
    };
    let found = entries.iter().find(|d| {
        d.platform.as_ref().is_some_and(|p| {
            p.os == want.os
                && normalize_arch(&p.architecture) == want.arch
                && want
                    .variant
                    .as_ref()
                    .is_none_or(|v| variant_of(p).as_ref() == Some(v))
        })
    });
    match found {
        Some(d) => Ok(d),
        None => {
            let mut have: Vec<String> = entries
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .filter(|p| p.os != "unknown")
                .map(|p| match &p.variant {
                    Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                    None => format!("{}/{}", p.os, p.architecture),
                })
                .collect();
            have.sort();
            have.dedup();
            Err(format!(
                "the image index has no manifest for platform {want} (it has: {})",
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            )
            .into())
        }
    }
}

/// One registry repository, with whatever authorization it has asked for so far.
#[derive(Clone)]
struct Client {
    agent: ureq::Agent,
    base: String,
    registry: String,
    repository: String,
    config_dir: Option<PathBuf>,
    authorization: Option<String>,
    deadlines: Deadlines,
    /// `--insecure-registry` hosts: plain HTTP allowed, credentials too.
    insecure_hosts: Vec<String>,
}

type Resp = ureq::http::Response<ureq::Body>;

impl Client {
    /// GET `url`, answering one authentication challenge if the registry asks.
    fn get(&mut self, url: &str, accept: Option<&str>) -> Result<Resp, RegistryError> {
        let resp = self.send(url, accept)?;
        if resp.status() != 401 {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(auth::parse_challenge);
        let creds = || -> Result<Option<Credentials>, RegistryError> {
            match auth::lookup(self.config_dir.as_deref(), &self.registry)? {
                Lookup::Found(c) => Ok(Some(c)),
                Lookup::None => Ok(None),
                Lookup::Unsupported(why) => Err(why.into()),
            }
        };
        let with_creds = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let creds = creds()?;
                let with = creds.is_some();
                let token = self.token(&realm, service.as_deref(), scope.as_deref(), creds)?;
                self.authorization = Some(format!("Bearer {token}"));
                with
            }
            Some(Challenge::Basic) => match creds()? {
                Some(c) => {
                    self.authorization = Some(c.basic_header());
                    true
                }
                None => {
                    return Err(format!(
                        "{} requires authentication (Basic) and {} has no credentials for {}",
                        self.base,
                        self.config_path(),
                        self.registry
                    )
                    .into());
                }
            },
            Some(Challenge::Other(c)) => {
                return Err(format!(
                    "{} requires an unsupported authentication scheme: {c}",
                    self.base
                )
                .into());
            }
            None => {
                return Err(format!(
                    "{} answered 401 Unauthorized without a WWW-Authenticate challenge",
                    self.base
                )
                .into());
            }
        };
        let resp = self.send(url, accept)?;
        if resp.status() == 401 {
            return Err(RegistryError::Failed(if with_creds {
                format!(
                    "{} refused the credentials (401 Unauthorized) for {}",
                    self.base, self.repository
                )
            } else {
                format!(
                    "{} denied anonymous access to {} (401 Unauthorized): the repository \
                     does not exist or needs credentials, and {} has none for {}",
                    self.base,
                    self.repository,
                    self.config_path(),
                    self.registry
                )
            }));
        }
        Ok(resp)
    }

    /// Whether the user allowed plain HTTP to the realm's `host:port` explicitly.
    fn insecure_realm(&self, realm: &str) -> bool {
        let Ok(u) = url::Url::parse(realm) else {
            return false;
        };
        let Some(host) = u.host_str() else {
            return false;
        };
        let with_port = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        self.insecure_hosts.contains(&with_port)
    }

    fn config_path(&self) -> String {
        self.config_dir.as_ref().map_or_else(
            || "the docker config (no $DOCKER_CONFIG or $HOME)".to_string(),
            |d| d.join("config.json").display().to_string(),
        )
    }

    fn send(&self, url: &str, accept: Option<&str>) -> Result<Resp, RegistryError> {
        let mut req = self.agent.get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        if let Some(auth) = &self.authorization {
            req = req.header("Authorization", auth);
        }
        let left = self.deadlines.remaining(url)?;
        req.config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| describe_transport(&self.base, url, &e, &self.deadlines))
    }

    /// Fetch a bearer token from `realm` (the realm is where the registry says).
    fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        creds: Option<Credentials>,
    ) -> Result<String, RegistryError> {
        let default_scope = format!("repository:{}:pull", self.repository);
        let mut req = self
            .agent
            .get(realm)
            .query("scope", scope.unwrap_or(&default_scope));
        if let Some(s) = service {
            req = req.query("service", s);
        }
        // Credentials never travel in clear text to another origin (unless the user
        // named that origin with --insecure-registry).
        let withheld = creds.is_some()
            && !may_send_credentials(&self.base, realm)
            && !self.insecure_realm(realm);
        let creds = if withheld { None } else { creds };
        if let Some(c) = &creds {
            req = req.header("Authorization", c.basic_header());
        }
        let left = self.deadlines.remaining(realm)?;
        let mut resp = req
            .config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| describe_transport(realm, realm, &e, &self.deadlines))?;
        let status = resp.status();
        if status == 401 || status == 403 {
            return Err(format!(
                "token server {realm} refused {} (HTTP {})",
                if creds.is_some() {
                    "the credentials"
                } else if withheld {
                    "anonymous access; the credentials were withheld because the realm is \
                     plain HTTP on another origin than the registry"
                } else {
                    "anonymous access; no credentials configured"
                },
                status.as_u16()
            )
            .into());
        }
        if !status.is_success() {
            return Err(format!("token server {realm} answered HTTP {}", status.as_u16()).into());
        }
        #[derive(serde::Deserialize)]
        struct TokenResp {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_SMALL_BODY)
            .read_to_vec()
            .map_err(|e| body_error(&format!("reading token from {realm}"), &e, &self.deadlines))?;
        let t: TokenResp = serde_json::from_slice(&body)
            .map_err(|e| format!("malformed JSON from token server {realm}: {e}"))?;
        t.token
            .or(t.access_token)
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| format!("token server {realm} returned no usable token").into())
    }

    /// GET a manifest; verify it against `expect` (a digest) or the registry's
    /// `Docker-Content-Digest`. Returns the parsed manifest, its bytes and digest.
    fn manifest(
        &mut self,
        reference: &str,
        expect: Option<&str>,
    ) -> Result<(Manifest, Vec<u8>, String), RegistryError> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let sep = if reference.contains(':') { '@' } else { ':' };
        let what = format!("manifest {}{sep}{reference}", self.repository);
        let mut resp = self.get(&url, Some(ACCEPT))?;
        check_status(&mut resp, &what)?;
        if let Some(len) = resp.body().content_length()
            && len > MAX_MANIFEST_SIZE
        {
            return Err(
                format!("{what} is {len} bytes, over the limit of {MAX_MANIFEST_SIZE}").into(),
            );
        }
        let header_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_string());
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_MANIFEST_SIZE)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    format!("{what} is over the limit of {MAX_MANIFEST_SIZE} bytes").into()
                }
                e => body_error(&format!("reading {what}"), &e, &self.deadlines),
            })?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if let Some(e) = expect {
            if e != digest {
                return Err(
                    format!("digest mismatch for {what}: expected {e}, got {digest}").into(),
                );
            }
        } else if let Some(h) = header_digest.filter(|h| h.starts_with("sha256:"))
            && h != digest
        {
            return Err(format!(
                "digest mismatch for {what}: the registry says {h}, the content is {digest}"
            )
            .into());
        }
        let doc: ManifestDoc =
            serde_json::from_slice(&bytes).map_err(|e| format!("malformed JSON in {what}: {e}"))?;
        let media_type = doc.media_type.clone().or(header_type).unwrap_or_default();
        let kind = if media_type.starts_with(DOCKER_SCHEMA1) || doc.schema_version == 1 {
            return Err(format!(
                "{what} is a Docker schema 1 manifest; not supported (re-push the image)"
            )
            .into());
        } else if media_type == OCI_INDEX || media_type == DOCKER_LIST {
            Kind::Index
        } else if media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST {
            Kind::Manifest
        } else if media_type.is_empty() || media_type == "application/json" {
            // OCI allows an absent mediaType; tell by shape.
            if doc.manifests.is_some() {
                Kind::Index
            } else if doc.config.is_some() {
                Kind::Manifest
            } else {
                return Err(format!("{what} is neither an image index nor a manifest").into());
            }
        } else {
            return Err(format!("{what} has unsupported media type {media_type:?}").into());
        };
        let media_type = match (kind, media_type.as_str()) {
            (Kind::Index, "" | "application/json") => OCI_INDEX.to_string(),
            (Kind::Manifest, "" | "application/json") => OCI_MANIFEST.to_string(),
            _ => media_type,
        };
        if doc.schema_version != 2 {
            return Err(format!("{what} has schemaVersion {}, want 2", doc.schema_version).into());
        }
        // Index entries are checked when one is chosen: an index may list entries
        // (other platforms, attestations) with digests moat would refuse.
        let descs = doc.config.iter().chain(doc.layers.iter().flatten());
        for d in descs {
            reference::check_digest(&d.digest).map_err(|e| format!("{what}: {e}"))?;
        }
        if kind == Kind::Manifest && doc.config.is_none() {
            return Err(format!("{what} has no config descriptor").into());
        }
        Ok((
            Manifest {
                kind,
                media_type,
                doc,
            },
            bytes,
            digest,
        ))
    }

    /// Make sure `blobs/<hex>` holds `desc`, downloading and verifying it if needed.
    fn blob(&mut self, desc: &Descriptor, blobs: &Path) -> Result<(), RegistryError> {
        let hex = desc.digest.trim_start_matches("sha256:");
        let dest = blobs.join(hex);
        if let Ok(m) = std::fs::metadata(&dest)
            && m.is_file()
            && m.len() == desc.size
        {
            return Ok(());
        }
        let url = format!("{}/v2/{}/blobs/{}", self.base, self.repository, desc.digest);
        let what = format!("blob {}", desc.digest);
        let mut resp = self.get(&url, None)?;
        check_status(&mut resp, &what)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(blobs)
            .map_err(|e| format!("cannot create a temporary file in {}: {e}", blobs.display()))?;
        let mut hasher = Sha256::new();
        let mut reader = resp.body_mut().as_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total: u64 = 0;
        loop {
            let n = reader.read(&mut buf).map_err(|e| match ureq_timeout(&e) {
                Some(t) => self.deadlines.over(&format!("downloading {what}"), t),
                None => format!("downloading {what}: {e}").into(),
            })?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > desc.size {
                return Err(format!(
                    "{what} is larger than the {} bytes the manifest says",
                    desc.size
                )
                .into());
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .map_err(|e| format!("writing {what} to {}: {e}", tmp.path().display()))?;
        }
        if total != desc.size {
            return Err(
                format!("{what} has {total} bytes, the manifest says {}", desc.size).into(),
            );
        }
        let got = format!("sha256:{}", hex::encode(hasher.finalize()));
        if got != desc.digest {
            return Err(format!("digest mismatch for {what}: the content is {got}").into());
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| format!("writing {what}: {e}"))?;
        tmp.persist(&dest)
            .map_err(|e| format!("cannot rename into {}: {}", dest.display(), e.error))?;
        Ok(())
    }
}

/// Turn a non-2xx response into one line (with the registry's own error code if any).
fn check_status(resp: &mut Resp, what: &str) -> Result<(), RegistryError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_SMALL_BODY)
        .read_to_vec()
        .unwrap_or_default();
    let detail = registry_error(&body);
    let code = status.as_u16();
    let prefix = match code {
        404 => format!("{what} not found (HTTP 404)"),
        _ => format!("{what}: HTTP {code}"),
    };
    Err(match detail {
        Some(d) => format!("{prefix}: {d}").into(),
        None => prefix.into(),
    })
}

/// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}` -> `MANIFEST_UNKNOWN: ...`.
fn registry_error(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Errs {
        errors: Vec<Err1>,
    }
    #[derive(serde::Deserialize)]
    struct Err1 {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let e: Errs = serde_json::from_slice(body).ok()?;
    let first = e.errors.first()?;
    let mut s = format!("{} {}", first.code, first.message);
    s = s
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    Some(s)
}

/// The deadlines of one pull.
#[derive(Debug, Clone, Copy)]
struct Deadlines {
    connect: Duration,
    idle: Duration,
    total: Duration,
    /// When the whole pull must be over.
    until: Instant,
}

impl Deadlines {
    /// Time left for the pull; an error once it is over.
    fn remaining(&self, what: &str) -> Result<Duration, RegistryError> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.over(what, ureq::Timeout::Global));
        }
        Ok(left)
    }

    /// The budget a ureq timeout stands for.
    fn over(&self, what: &str, t: ureq::Timeout) -> RegistryError {
        let (budget, d) = match t {
            ureq::Timeout::Global => (Budget::TotalTimeout, self.total),
            ureq::Timeout::Connect | ureq::Timeout::Resolve => {
                (Budget::ConnectTimeout, self.connect)
            }
            _ => (Budget::IdleTimeout, self.idle),
        };
        RegistryError::budget(
            format!("{what}: the server took too long"),
            budget,
            d.as_secs(),
        )
    }
}

/// A ureq error hidden in an I/O error of a body reader.
fn ureq_timeout(e: &std::io::Error) -> Option<ureq::Timeout> {
    match e.get_ref()?.downcast_ref::<ureq::Error>()? {
        ureq::Error::Timeout(t) => Some(*t),
        _ => None,
    }
}

fn describe_transport(base: &str, url: &str, e: &ureq::Error, d: &Deadlines) -> RegistryError {
    let text = e.to_string();
    if base.starts_with("https://")
        && (matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
            || text.contains("corrupt message"))
    {
        return format!(
            "TLS handshake with {base} failed ({text}); if it is a plain-HTTP registry, \
             allow it with --insecure-registry {}",
            base.trim_start_matches("https://")
        )
        .into();
    }
    match e {
        ureq::Error::Io(io) => match ureq_timeout(io) {
            Some(t) => d.over(&format!("talking to {base} ({url})"), t),
            None => format!("cannot reach {base} ({url}): {io}").into(),
        },
        ureq::Error::Timeout(t) => d.over(&format!("talking to {base} ({url})"), *t),
        ureq::Error::HostNotFound => format!("cannot resolve the host of {base}").into(),
        ureq::Error::TooManyRedirects => format!("too many redirects fetching {url}").into(),
        e => format!("request to {url} failed: {e}").into(),
    }
}

/// An error while reading a body: a timeout is the budget it stands for.
fn body_error(what: &str, e: &ureq::Error, d: &Deadlines) -> RegistryError {
    match e {
        ureq::Error::Timeout(t) => d.over(what, *t),
        ureq::Error::Io(io) => match ureq_timeout(io) {
            Some(t) => d.over(what, t),
            None => format!("{what}: {e}").into(),
        },
        e => format!("{what}: {e}").into(),
    }
}

/// Whether Basic credentials for the registry at `base` may go to `realm`: over
/// https, or to the registry's own origin (scheme, host and port).
fn may_send_credentials(base: &str, realm: &str) -> bool {
    let (Ok(b), Ok(r)) = (url::Url::parse(base), url::Url::parse(realm)) else {
        return false;
    };
    if r.scheme() == "https" {
        return true;
    }
    r.scheme() == b.scheme()
        && r.host_str() == b.host_str()
        && r.port_or_known_default() == b.port_or_known_default()
}

/// Write a small blob we already hold in memory (a manifest) if absent.
fn write_blob(blobs: &Path, digest: &str, bytes: &[u8]) -> Result<(), RegistryError> {
    let dest = blobs.join(digest.trim_start_matches("sha256:"));
    if dest.is_file() {
        return Ok(());
    }
    atomic_write(&dest, bytes)
}

fn atomic_write(dest: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    tmp.write_all(bytes)
        .map_err(|e| format!("writing {}: {e}", tmp.path().display()))?;
    tmp.persist(dest)
        .map_err(|e| format!("cannot rename into {}: {}", dest.display(), e.error))?;
    Ok(())
}

/// Record `digest` as `name` in `layout/index.json` (replacing an older entry of that
/// name), and write `oci-layout`.
fn update_index(
    layout: &Path,
    media_type: &str,
    digest: &str,
    size: u64,
    name: &str,
) -> Result<(), RegistryError> {
    // Another moat may be pulling into this layout: hold its lock while
    // reading, changing and replacing index.json.
    let lock_path = layout.join(".moat-index.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    let index_path = layout.join("index.json");
    let mut entries: Vec<serde_json::Value> = std::fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("manifests").and_then(|m| m.as_array()).cloned())
        .unwrap_or_default();
    entries.retain(|e| {
        e.pointer(&format!("/annotations/{}", REF_NAME.replace('/', "~1")))
            .and_then(|v| v.as_str())
            != Some(name)
    });
    entries.push(serde_json::json!({
        "mediaType": media_type,
        "digest": digest,
        "size": size,
        "annotations": { REF_NAME: name },
    }));
    let key = |e: &serde_json::Value| {
        e.get("annotations")
            .and_then(|a| a.get(REF_NAME))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    entries.sort_by_key(key);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    });
    let text = serde_json::to_vec_pretty(&index).map_err(|e| e.to_string())?;
    atomic_write(
        &layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    atomic_write(&index_path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(json: &str) -> Manifest {
        Manifest {
            kind: Kind::Index,
            media_type: OCI_INDEX.into(),
            doc: serde_json::from_str(json).unwrap(),
        }
    }

    #[test]
    fn platform_choice() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let m = index(&format!(
            r#"{{"schemaVersion":2,"manifests":[
              {{"digest":"{}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}},
              {{"digest":"{}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
              {{"digest":"{}","size":1,"platform":{{"os":"linux","architecture":"arm64"}}}},
              {{"digest":"{}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}}}}]}}"#,
            d('a'),
            d('b'),
            d('c'),
            d('d')
        ));
        let pick =
            |p: &str| choose_platform(&m, &Platform::parse(p).unwrap()).map(|d| d.digest.clone());
        assert_eq!(pick("linux/amd64").unwrap(), d('a'));
        assert_eq!(pick("linux/x86_64").unwrap(), d('a'));
        assert_eq!(pick("linux/arm/v7").unwrap(), d('b'));
        assert_eq!(pick("linux/arm64/v8").unwrap(), d('c'));
        assert_eq!(pick("linux/aarch64").unwrap(), d('c'));
        let e = pick("linux/s390x").unwrap_err().to_string();
        assert!(
            e.contains("linux/s390x") && e.contains("linux/amd64, linux/arm/v7, linux/arm64"),
            "{e}"
        );
        assert!(Platform::parse("linux").is_err());
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.1.2.3"));
        assert!(!is_loopback("registry-1.docker.io"));
        assert!(!is_loopback("10.0.0.1:5000"));
    }

    #[test]
    fn registry_error_body() {
        assert_eq!(
            registry_error(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            )
            .as_deref(),
            Some("MANIFEST_UNKNOWN manifest unknown")
        );
        assert_eq!(registry_error(b"<html>"), None);
    }
}
