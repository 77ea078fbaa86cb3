//! The rules' logic: pure functions from a [`Snapshot`](crate::Snapshot) to findings,
//! one file per area (plus the two collectors that need the host: image layers and
//! component binaries). Container properties that compose lint checks too go through
//! [`moat_model::ContainerSpec`] and moat-lint's shared `check` functions.

mod components;
mod container;
mod daemon;
mod host;
mod image;
mod operations;

pub(crate) use components::components;
pub(crate) use container::{container, daemon_wide_proof, daemon_wide_ulimits};
pub(crate) use daemon::daemon;
pub(crate) use host::{environment, exec_history, host_files};
pub use image::LayerScanError;
pub(crate) use image::{image, scan_image_layers};
pub(crate) use operations::{operations, swarm};

use crate::finding::{AuditFinding, AuditObject, ObjectKind};
use moat_engine::models::{ContainerInspectResponse, ImageInspect};
use std::collections::BTreeMap;

/// What the checks produce: findings, and for benchmark items that could not be
/// evaluated (or need a word of context), why.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    pub findings: Vec<AuditFinding>,
    /// CIS number → why it was not evaluated (`file not found`, `no command line`).
    pub skipped: BTreeMap<String, String>,
    /// CIS number → context for a verdict (`swarm mode not enabled`).
    pub context: BTreeMap<String, String>,
}

impl Sink {
    pub fn push(&mut self, f: AuditFinding) {
        self.findings.push(f);
    }

    /// A finding for one of a multi-item rule's items (its reference names that item only).
    pub fn push_item(&mut self, mut f: AuditFinding, cis: &str) {
        f.references = vec![format!("{}{cis}", crate::benchmark::REFERENCE_PREFIX)];
        self.findings.push(f);
    }

    pub fn skip(&mut self, cis: &str, why: impl Into<String>) {
        self.skipped
            .entry(cis.to_string())
            .or_insert_with(|| why.into());
    }

    pub fn context(&mut self, cis: &str, text: impl Into<String>) {
        self.context
            .entry(cis.to_string())
            .or_insert_with(|| text.into());
    }
}

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
