//! `docker:REF`: the Docker Engine API. STUB: owned by the remote-sources work.
//!
//! Contract: stream `GET /images/{name}/get` (the `docker save` format) from the
//! engine at `opts.docker_host` (else `DOCKER_HOST`, else the default socket) into a
//! temporary file under `opts.cache_dir` and return its path; the image-core work
//! then opens it as a docker-archive and deletes it afterwards.

use crate::{ImageError, OpenOptions};
use std::path::PathBuf;

pub fn export_to_archive(reference: &str, _opts: &OpenOptions) -> Result<PathBuf, ImageError> {
    Err(ImageError {
        input: format!("docker:{reference}"),
        message: "docker sources are not implemented yet".into(),
    })
}
