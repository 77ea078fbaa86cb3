//! The OCI layout a pull writes: verified blob downloads (refused beyond the size
//! their descriptor claims), atomic writes and `index.json`.

use super::error::RegistryError;
use super::manifest::Descriptor;
use super::media::*;
use super::transport::{Client, check_status, ureq_timeout};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

impl Client {
    /// Make sure `blobs/<hex>` holds `desc`, downloading and verifying it if needed.
    pub(super) fn blob(&mut self, desc: &Descriptor, blobs: &Path) -> Result<(), RegistryError> {
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

/// Write a small blob we already hold in memory (a manifest) if absent.
pub(super) fn write_blob(blobs: &Path, digest: &str, bytes: &[u8]) -> Result<(), RegistryError> {
    let dest = blobs.join(digest.trim_start_matches("sha256:"));
    if dest.is_file() {
        return Ok(());
    }
    atomic_write(&dest, bytes)
}

pub(super) fn atomic_write(dest: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
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
pub(super) fn update_index(
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
