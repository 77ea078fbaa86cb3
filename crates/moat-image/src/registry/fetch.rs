//! Raw access to one repository for verifiers (`moat verify`): any manifest by tag or
//! digest (signature and attestation manifests included, not only images), small
//! blobs, and the OCI referrers API. Same transport, authentication, deadlines and
//! `--insecure-registry` rules as [`super::pull_to_layout`].

use super::error::RegistryError;
use super::media::{ACCEPT, MAX_MANIFEST_SIZE, OCI_INDEX};
use super::reference::{self, Reference};
use super::transport::{Client, Deadlines, body_error, check_status, is_loopback};
use crate::OpenOptions;
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Accept header for manifests: images, indexes, and artifact manifests.
const ACCEPT_ANY: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.oci.artifact.manifest.v1+json";

/// A manifest as stored: bytes verified against their digest, and the media type
/// (from the document, else the `Content-Type` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    pub digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// One repository of one registry.
pub struct Repository {
    client: Client,
    /// `host[:port]/repository`.
    pub name: String,
}

impl Repository {
    /// Connect (lazily) to the repository of `reference` (`host/repo[:tag][@digest]`,
    /// without `registry:`); credentials from docker's config as for pulls.
    pub fn open(reference: &str, opts: &OpenOptions) -> Result<Repository, RegistryError> {
        let r = Reference::parse(reference)?;
        let insecure = opts
            .insecure_registries
            .iter()
            .any(|h| h == &r.registry || h == r.api_host());
        let scheme = if insecure { "http" } else { "https" };
        let mut config = ureq::Agent::config_builder();
        if is_loopback(r.api_host()) {
            config = config.proxy(None);
        }
        let agent: ureq::Agent = config
            .http_status_as_error(false)
            .max_redirects(10)
            .timeout_connect(Some(opts.limits.connect_timeout))
            .timeout_recv_response(Some(opts.limits.idle_timeout))
            .timeout_per_read(Some(opts.limits.idle_timeout))
            .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")))
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .build()
            .into();
        let deadlines = Deadlines {
            connect: opts.limits.connect_timeout,
            idle: opts.limits.idle_timeout,
            total: opts.limits.total_timeout,
            until: Instant::now() + opts.limits.total_timeout,
        };
        Ok(Repository {
            name: format!("{}/{}", r.registry, r.repository),
            client: Client {
                deadlines,
                insecure_hosts: opts.insecure_registries.clone(),
                agent,
                base: format!("{scheme}://{}", r.api_host()),
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                config_dir: super::auth::default_config_dir(),
                authorization: None,
            },
        })
    }

    /// The manifest tagged `tag` or with digest `digest` (`sha256:…`, then checked
    /// against it); `Ok(None)` when the registry has none (404).
    pub fn manifest(&mut self, tag_or_digest: &str) -> Result<Option<RawManifest>, RegistryError> {
        let by_digest = tag_or_digest.starts_with("sha256:");
        if by_digest {
            reference::check_digest(tag_or_digest)?;
        }
        let url = format!(
            "{}/v2/{}/manifests/{tag_or_digest}",
            self.client.base, self.client.repository
        );
        let sep = if by_digest { '@' } else { ':' };
        let what = format!("manifest {}{sep}{tag_or_digest}", self.name);
        let mut resp = self.client.get(&url, Some(ACCEPT_ANY))?;
        if resp.status() == 404 {
            return Ok(None);
        }
        check_status(&mut resp, &what)?;
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
        let bytes = read_limited(&mut resp, MAX_MANIFEST_SIZE, &what, &self.client.deadlines)?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if by_digest && digest != tag_or_digest {
            return Err(format!(
                "digest mismatch for {what}: expected {tag_or_digest}, got {digest}"
            )
            .into());
        }
        if let Some(h) = header_digest.filter(|h| h.starts_with("sha256:"))
            && h != digest
        {
            return Err(format!(
                "digest mismatch for {what}: the registry says {h}, the content is {digest}"
            )
            .into());
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            #[serde(default, rename = "mediaType")]
            media_type: Option<String>,
        }
        let doc: Doc =
            serde_json::from_slice(&bytes).map_err(|e| format!("malformed JSON in {what}: {e}"))?;
        let media_type = doc.media_type.or(header_type).unwrap_or_default();
        Ok(Some(RawManifest {
            digest,
            media_type,
            bytes,
        }))
    }

    /// Blob `digest`, at most `max` bytes, verified against its digest.
    pub fn blob(&mut self, digest: &str, max: u64) -> Result<Vec<u8>, RegistryError> {
        reference::check_digest(digest)?;
        let url = format!(
            "{}/v2/{}/blobs/{digest}",
            self.client.base, self.client.repository
        );
        let what = format!("blob {}@{digest}", self.name);
        let mut resp = self.client.get(&url, None)?;
        check_status(&mut resp, &what)?;
        let bytes = read_limited(&mut resp, max, &what, &self.client.deadlines)?;
        let got = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if got != digest {
            return Err(format!("digest mismatch for {what}: got {got}").into());
        }
        Ok(bytes)
    }

    /// The referrers index of `digest` (OCI distribution 1.1 referrers API);
    /// `Ok(None)` when the registry does not offer the API (404 or 405), so the
    /// caller falls back to the `sha256-<hex>` tag schema.
    pub fn referrers(&mut self, digest: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        reference::check_digest(digest)?;
        let url = format!(
            "{}/v2/{}/referrers/{digest}",
            self.client.base, self.client.repository
        );
        let what = format!("referrers of {}@{digest}", self.name);
        let mut resp = self.client.get(&url, Some(ACCEPT))?;
        if matches!(resp.status().as_u16(), 404 | 405) {
            return Ok(None);
        }
        check_status(&mut resp, &what)?;
        let is_index = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with(OCI_INDEX));
        let bytes = read_limited(&mut resp, MAX_MANIFEST_SIZE, &what, &self.client.deadlines)?;
        if !is_index && serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
            // Some registries answer an unknown route with 200 and an HTML page.
            return Ok(None);
        }
        Ok(Some(bytes))
    }
}

fn read_limited(
    resp: &mut super::transport::Resp,
    max: u64,
    what: &str,
    d: &Deadlines,
) -> Result<Vec<u8>, RegistryError> {
    if let Some(len) = resp.body().content_length()
        && len > max
    {
        return Err(format!("{what} is {len} bytes, over the limit of {max}").into());
    }
    resp.body_mut()
        .with_config()
        .limit(max)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                format!("{what} is over the limit of {max} bytes").into()
            }
            e => body_error(&format!("reading {what}"), &e, d),
        })
}
