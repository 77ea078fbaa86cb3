//! `registry:REF`: Registry HTTP API v2. STUB: owned by the remote-sources work.
//!
//! Contract: pull the manifest (resolving an image index with the requested platform),
//! the config and every layer blob of `reference` into an OCI image layout directory
//! under `opts.cache_dir` (blobs verified against their digests while downloading),
//! and return that layout and the tag or digest under which the image is recorded in
//! its `index.json`. The image-core work then opens it as `oci-dir:LAYOUT:TAG`.

use crate::{ImageError, OpenOptions};
use std::path::PathBuf;

pub fn pull_to_layout(
    reference: &str,
    _opts: &OpenOptions,
) -> Result<(PathBuf, String), ImageError> {
    Err(ImageError {
        input: format!("registry:{reference}"),
        message: "registry sources are not implemented yet".into(),
    })
}
