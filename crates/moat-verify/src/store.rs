//! Where signature and attestation manifests are read from: a registry repository,
//! or an OCI image layout (a directory, or an `oci-archive` tar) that holds them
//! beside the image (as `cosign save` writes it).

use crate::error::VerifyError;
use moat_image::registry::{RawManifest, Repository};
use sha2_11::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Signature payloads, envelopes and bundles are small; anything larger is refused.
pub const MAX_ARTIFACT_BLOB: u64 = 4 << 20;

/// A descriptor (of a layer, a referrer, an index entry).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Descriptor {
    #[serde(default, rename = "mediaType")]
    pub media_type: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default, rename = "artifactType")]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The parts of a manifest or index a verifier reads.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ManifestDoc {
    #[serde(default, rename = "mediaType")]
    pub media_type: Option<String>,
    #[serde(default, rename = "artifactType")]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default)]
    pub subject: Option<Descriptor>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl ManifestDoc {
    pub fn parse(m: &RawManifest) -> Result<ManifestDoc, VerifyError> {
        serde_json::from_slice(&m.bytes)
            .map_err(|e| VerifyError::source(&m.digest, format!("malformed manifest JSON: {e}")))
    }
}

/// Read access to manifests and blobs of one repository.
pub trait Store {
    /// Where (for messages).
    fn name(&self) -> String;
    /// The manifest tagged `tag`, or with digest `sha256:…`; `None` if absent.
    fn manifest(&mut self, tag_or_digest: &str) -> Result<Option<RawManifest>, VerifyError>;
    /// A blob, verified, at most [`MAX_ARTIFACT_BLOB`] bytes.
    fn blob(&mut self, digest: &str) -> Result<Vec<u8>, VerifyError>;
    /// The referrers of `digest` through the referrers API; `None` when the store has
    /// no such API (the caller then reads the `sha256-<hex>` tag).
    fn referrers(&mut self, digest: &str) -> Result<Option<Vec<Descriptor>>, VerifyError>;
}

/// A registry repository.
pub struct RegistryStore(pub Repository);

impl Store for RegistryStore {
    fn name(&self) -> String {
        self.0.name.clone()
    }
    fn manifest(&mut self, r: &str) -> Result<Option<RawManifest>, VerifyError> {
        Ok(self.0.manifest(r)?)
    }
    fn blob(&mut self, digest: &str) -> Result<Vec<u8>, VerifyError> {
        Ok(self.0.blob(digest, MAX_ARTIFACT_BLOB)?)
    }
    fn referrers(&mut self, digest: &str) -> Result<Option<Vec<Descriptor>>, VerifyError> {
        let Some(bytes) = self.0.referrers(digest)? else {
            return Ok(None);
        };
        let doc: ManifestDoc = serde_json::from_slice(&bytes).map_err(|e| {
            VerifyError::source(
                self.name(),
                format!("malformed referrers index of {digest}: {e}"),
            )
        })?;
        Ok(Some(doc.manifests))
    }
}

/// An OCI image layout: `index.json` names manifests (`org.opencontainers.image.ref.name`
/// holds tags such as `sha256-<hex>.sig`), blobs under `blobs/sha256/`. Its
/// "referrers API" is a scan of every manifest it lists for a `subject`.
pub struct LayoutStore {
    files: Files,
    index: ManifestDoc,
}

enum Files {
    Dir(PathBuf),
    /// An `oci-archive`: entries read on demand (small ones only).
    Tar(PathBuf),
}

impl LayoutStore {
    pub fn open_dir(dir: &Path) -> Result<LayoutStore, VerifyError> {
        let mut s = LayoutStore {
            files: Files::Dir(dir.to_path_buf()),
            index: ManifestDoc::default(),
        };
        s.index = s.read_index()?;
        Ok(s)
    }

    pub fn open_archive(path: &Path) -> Result<LayoutStore, VerifyError> {
        let mut s = LayoutStore {
            files: Files::Tar(path.to_path_buf()),
            index: ManifestDoc::default(),
        };
        s.index = s.read_index()?;
        Ok(s)
    }

    fn read_index(&self) -> Result<ManifestDoc, VerifyError> {
        let bytes = self
            .read("index.json")?
            .ok_or_else(|| VerifyError::source(self.name(), "no index.json: not an OCI layout"))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| VerifyError::source(self.name(), format!("malformed index.json: {e}")))
    }

    /// The descriptors `index.json` lists.
    pub fn entries(&self) -> &[Descriptor] {
        &self.index.manifests
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let limit = MAX_ARTIFACT_BLOB;
        match &self.files {
            Files::Dir(d) => {
                let p = d.join(name);
                let f = match std::fs::File::open(&p) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(VerifyError::source(p.display().to_string(), e)),
                };
                let mut v = Vec::new();
                f.take(limit + 1)
                    .read_to_end(&mut v)
                    .map_err(|e| VerifyError::source(p.display().to_string(), e))?;
                if v.len() as u64 > limit {
                    return Err(VerifyError::source(
                        p.display().to_string(),
                        format!("over the {limit}-byte limit for signature material"),
                    ));
                }
                Ok(Some(v))
            }
            Files::Tar(t) => {
                let shown = t.display().to_string();
                let f = std::fs::File::open(t).map_err(|e| VerifyError::source(&shown, e))?;
                let mut ar = tar::Archive::new(f);
                let entries = ar.entries().map_err(|e| VerifyError::source(&shown, e))?;
                for e in entries {
                    let mut e = e.map_err(|e| VerifyError::source(&shown, e))?;
                    let p = e
                        .path()
                        .map_err(|e| VerifyError::source(&shown, e))?
                        .to_string_lossy()
                        .into_owned();
                    if p.trim_start_matches("./") != name {
                        continue;
                    }
                    if e.size() > limit {
                        return Err(VerifyError::source(
                            &shown,
                            format!("{name}: over the {limit}-byte limit for signature material"),
                        ));
                    }
                    let mut v = Vec::new();
                    e.read_to_end(&mut v)
                        .map_err(|e| VerifyError::source(&shown, e))?;
                    return Ok(Some(v));
                }
                Ok(None)
            }
        }
    }

    fn blob_named(&self, digest: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let Some(hex) = digest.strip_prefix("sha256:").filter(|h| {
            h.len() == 64
                && h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }) else {
            return Err(VerifyError::source(
                self.name(),
                format!("bad digest {digest:?}"),
            ));
        };
        let Some(v) = self.read(&format!("blobs/sha256/{hex}"))? else {
            return Ok(None);
        };
        let got = hex::encode(Sha256::digest(&v));
        if got != hex {
            return Err(VerifyError::source(
                self.name(),
                format!("blob {digest} does not match its digest (sha256:{got})"),
            ));
        }
        Ok(Some(v))
    }
}

impl Store for LayoutStore {
    fn name(&self) -> String {
        match &self.files {
            Files::Dir(d) => format!("oci-dir:{}", d.display()),
            Files::Tar(t) => format!("oci-archive:{}", t.display()),
        }
    }

    fn manifest(&mut self, r: &str) -> Result<Option<RawManifest>, VerifyError> {
        let desc = if r.starts_with("sha256:") {
            self.index
                .manifests
                .iter()
                .find(|d| d.digest == r)
                .cloned()
                .or_else(|| {
                    Some(Descriptor {
                        digest: r.to_string(),
                        ..Descriptor::default()
                    })
                })
        } else {
            self.index
                .manifests
                .iter()
                .find(|d| {
                    d.annotations
                        .get("org.opencontainers.image.ref.name")
                        .map(String::as_str)
                        == Some(r)
                })
                .cloned()
        };
        let Some(desc) = desc else { return Ok(None) };
        let Some(bytes) = self.blob_named(&desc.digest)? else {
            return Ok(None);
        };
        #[derive(serde::Deserialize)]
        struct Mt {
            #[serde(default, rename = "mediaType")]
            media_type: Option<String>,
        }
        let mt: Mt = serde_json::from_slice(&bytes).map_err(|e| {
            VerifyError::source(
                self.name(),
                format!("malformed manifest {}: {e}", desc.digest),
            )
        })?;
        Ok(Some(RawManifest {
            digest: desc.digest.clone(),
            media_type: mt.media_type.unwrap_or(desc.media_type),
            bytes,
        }))
    }

    fn blob(&mut self, digest: &str) -> Result<Vec<u8>, VerifyError> {
        self.blob_named(digest)?
            .ok_or_else(|| VerifyError::source(self.name(), format!("blob {digest} is missing")))
    }

    fn referrers(&mut self, digest: &str) -> Result<Option<Vec<Descriptor>>, VerifyError> {
        let mut out = Vec::new();
        for d in self.index.manifests.clone() {
            let Some(bytes) = self.blob_named(&d.digest)? else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<ManifestDoc>(&bytes) else {
                continue;
            };
            if doc.subject.as_ref().is_some_and(|s| s.digest == digest) {
                out.push(Descriptor {
                    media_type: doc.media_type.clone().unwrap_or_default(),
                    digest: d.digest.clone(),
                    artifact_type: doc
                        .artifact_type
                        .clone()
                        .or_else(|| doc.config.as_ref().map(|c| c.media_type.clone())),
                    annotations: doc.annotations.clone(),
                });
            }
        }
        Ok(Some(out))
    }
}
