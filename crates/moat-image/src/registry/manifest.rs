//! Manifests and indexes: their documents, the media types, the platform choice, and
//! fetching one verified against its digest.

use super::error::RegistryError;
use super::media::*;
use super::reference;
use super::transport::{Client, body_error, check_status};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Index or image manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Index,
    Manifest,
}

#[derive(serde::Deserialize, Debug, Clone)]
pub(super) struct Descriptor {
    #[serde(default, rename = "mediaType")]
    pub(super) media_type: String,
    pub(super) digest: String,
    pub(super) size: u64,
    #[serde(default)]
    pub(super) platform: Option<PlatformDoc>,
    #[serde(default)]
    pub(super) urls: Vec<String>,
}

#[derive(serde::Deserialize, Debug, Clone)]
pub(super) struct PlatformDoc {
    #[serde(default)]
    pub(super) os: String,
    #[serde(default)]
    pub(super) architecture: String,
    #[serde(default)]
    pub(super) variant: Option<String>,
}

#[derive(serde::Deserialize, Debug)]
pub(super) struct ManifestDoc {
    #[serde(rename = "schemaVersion")]
    pub(super) schema_version: u32,
    #[serde(default, rename = "mediaType")]
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) config: Option<Descriptor>,
    #[serde(default)]
    pub(super) layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub(super) manifests: Option<Vec<Descriptor>>,
}

pub(super) struct Manifest {
    pub(super) kind: Kind,
    pub(super) media_type: String,
    pub(super) doc: ManifestDoc,
}

/// A requested `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Platform {
    pub(super) os: String,
    pub(super) arch: String,
    pub(super) variant: Option<String>,
}

impl Platform {
    pub(super) fn parse(s: &str) -> Result<Platform, RegistryError> {
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

pub(super) fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        _ => a,
    }
}

/// Refuse a config (already verified in `blobs`) whose os/architecture is not `want`'s.
pub(super) fn check_config_platform(
    blobs: &Path,
    digest: &str,
    want: &Platform,
) -> Result<(), RegistryError> {
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
pub(super) fn choose_platform<'m>(
    m: &'m Manifest,
    want: &Platform,
) -> Result<&'m Descriptor, RegistryError> {
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

impl Client {
    /// GET a manifest; verify it against `expect` (a digest) or the registry's
    /// `Docker-Content-Digest`. Returns the parsed manifest, its bytes and digest.
    pub(super) fn manifest(
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
}
