//! Archives: `docker save` output (manifest.json; older and newer formats) and
//! oci-archive (a tar of an OCI layout). Told apart by their contents.

use crate::config::{self, DockerManifestEntry, LayerRef, Parts, parse_json};
use crate::store::{Store, TarStore, sha256_digest, verify_bytes};
use crate::{Image, ImageError, OpenOptions, oci};

/// `sha256:HEX` when a name encodes the digest of its content
/// (`blobs/sha256/HEX`, `HEX.json`, `HEX.tar`).
fn digest_in_name(name: &str) -> Option<String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let hex = match name.strip_prefix("blobs/sha256/") {
        Some(h) => h,
        None => base
            .strip_suffix(".json")
            .or_else(|| base.strip_suffix(".tar"))?,
    };
    (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| format!("sha256:{hex}"))
}

pub(crate) fn open_archive(
    store: &TarStore,
    opts: &OpenOptions,
    input: &str,
) -> Result<Image, ImageError> {
    if !store.exists("manifest.json") {
        if store.exists("index.json") {
            return oci::open_layout(store, None, opts, input);
        }
        return Err(ImageError::new(
            input,
            "neither a docker-archive (no manifest.json) nor an OCI archive (no index.json)",
        ));
    }
    let bytes = store
        .read_small("manifest.json", None)
        .map_err(|e| e.within(input))?;
    let entries: Vec<DockerManifestEntry> = parse_json(
        &format!("{input}: manifest.json"),
        "docker-archive manifest",
        &bytes,
    )?;
    // Several images in one archive: the first is opened (as `docker load` lists them).
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| ImageError::new(format!("{input}: manifest.json"), "lists no images"))?;
    let config_bytes = store
        .read_small(&entry.config, None)
        .map_err(|e| e.within(input))?;
    if let Some(d) = digest_in_name(&entry.config) {
        verify_bytes(&format!("{input}: {}", entry.config), &d, &config_bytes)?;
    }
    let config_digest = sha256_digest(&config_bytes);
    // Newer `docker save` also writes an OCI index: use its manifest digest when it
    // describes this config; otherwise the config digest stands for the image.
    let digest = if store.exists("index.json") {
        oci::manifest_digest_for_config(store, &config_digest)
    } else {
        None
    }
    .unwrap_or_else(|| config_digest.clone());
    let layers = entry
        .layers
        .iter()
        .map(|l| LayerRef {
            name: l.clone(),
            // Only `blobs/sha256/HEX` names a blob by its own digest; skopeo names
            // layers `DIFF_ID.tar` or `DIFF_ID.tar.gz` (the uncompressed digest).
            blob_digest: l.strip_prefix("blobs/").and_then(|_| digest_in_name(l)),
            media_type: None,
        })
        .collect();
    config::assemble(
        store,
        Parts {
            input,
            digest,
            config_digest,
            config_bytes: &config_bytes,
            config_name: &entry.config,
            layers,
            repo_tags: entry.repo_tags.unwrap_or_default(),
        },
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_names() {
        let h = "a".repeat(64);
        assert_eq!(
            digest_in_name(&format!("blobs/sha256/{h}")),
            Some(format!("sha256:{h}"))
        );
        assert_eq!(
            digest_in_name(&format!("{h}.json")),
            Some(format!("sha256:{h}"))
        );
        assert_eq!(digest_in_name(&format!("{h}/layer.tar")), None);
        assert_eq!(digest_in_name("x.tar"), None);
    }
}
