//! Media types and size limits of the registry protocol (a leaf: no imports).

/// Manifests (and indexes) larger than this are refused.
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Token responses and error bodies larger than this are refused / cut.
pub(super) const MAX_SMALL_BODY: u64 = 1 << 20;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(super) const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1";

pub(super) const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

pub(super) const REF_NAME: &str = "org.opencontainers.image.ref.name";
