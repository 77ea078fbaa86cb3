//! The rules' logic: pure functions from a [`Snapshot`](crate::Snapshot) to findings,
//! one file per area (plus the two collectors that need the host: image layers and
//! component binaries). Container properties that compose lint checks too go through
//! [`moat_model::ContainerSpec`] and moat-lint's shared `check` functions.

mod components;
mod container;
mod daemon;
mod host;
mod image;

pub(crate) use components::components;
pub(crate) use container::container;
pub(crate) use daemon::daemon;
pub(crate) use host::host_files;
pub use image::LayerScanError;
pub(crate) use image::{image, scan_image_layers};

use crate::finding::{AuditObject, ObjectKind};
use moat_engine::models::{ContainerInspectResponse, ImageInspect};

pub(crate) fn container_object(c: &ContainerInspectResponse) -> AuditObject {
    AuditObject {
        kind: ObjectKind::Container,
        name: c.name.clone(),
        id: c.id.clone(),
        image: c.image.clone(),
    }
}

fn image_object(id: &str, img: &ImageInspect) -> AuditObject {
    AuditObject {
        kind: ObjectKind::Image,
        name: img.repo_tags.as_ref().and_then(|t| t.iter().min().cloned()),
        id: Some(id.to_string()),
        image: None,
    }
}
