//! Image metadata, as `moat inspect` shows it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageMetadata {
    /// Digest of the image manifest (or of the config where no manifest exists).
    pub digest: String,
    /// The source as the user wrote it.
    pub source: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    pub config_digest: String,
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
    pub config: ImageConfigSummary,
    pub history: Vec<HistoryEntry>,
    pub layers: Vec<LayerInfo>,
    /// Sum of the uncompressed layer sizes.
    pub total_size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageConfigSummary {
    pub user: String,
    pub env: Vec<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
    pub exposed_ports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Healthcheck {
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ns: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ns: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
    pub created_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    pub empty_layer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LayerInfo {
    /// Digest of the blob as stored (compressed).
    pub digest: String,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    pub media_type: String,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// Size of the blob as stored.
    pub compressed_size: u64,
    /// `created_by` of the history entry that made this layer.
    pub created_by: String,
}
