//! The JSON documents of an image (own tolerant serde structs) and the assembly of an
//! [`Image`] from a config and its layers.

use crate::layer::{self, LayerSpec};
use crate::store::Store;
use crate::view::LayeredView;
use crate::{Image, ImageError, OpenOptions};
use moat_model::{HistoryEntry, ImageConfigSummary, ImageMetadata, LayerInfo};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

pub(crate) fn parse_json<T: DeserializeOwned>(
    input: &str,
    what: &str,
    bytes: &[u8],
) -> Result<T, ImageError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ImageError::new(input, format!("malformed {what} JSON: {e}")))
}

#[derive(Debug, Deserialize, Default, Clone)]
pub(crate) struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
pub(crate) struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Manifest {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    /// Present when the "manifest" is really an index.
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

/// One entry of a docker-archive `manifest.json`.
#[derive(Debug, Deserialize)]
pub(crate) struct DockerManifestEntry {
    #[serde(rename = "Config")]
    pub config: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    pub layers: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct HealthJson {
    #[serde(rename = "Test", default)]
    test: Option<Vec<String>>,
    #[serde(rename = "Interval", default)]
    interval: Option<i64>,
    #[serde(rename = "Timeout", default)]
    timeout: Option<i64>,
    #[serde(rename = "Retries", default)]
    retries: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
struct ContainerConfig {
    #[serde(rename = "User", default)]
    user: Option<String>,
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    cmd: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    working_dir: Option<String>,
    #[serde(rename = "ExposedPorts", default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "Healthcheck", default)]
    healthcheck: Option<HealthJson>,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Volumes", default)]
    volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(rename = "StopSignal", default)]
    stop_signal: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
struct History {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    empty_layer: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImageConfig {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<ContainerConfig>,
    rootfs: RootFs,
    #[serde(default)]
    history: Option<Vec<History>>,
}

impl ImageConfig {
    pub(crate) fn diff_ids(&self) -> &[String] {
        &self.rootfs.diff_ids
    }
}

/// Where each layer blob is, as the manifest says.
pub(crate) struct LayerRef {
    pub name: String,
    pub blob_digest: Option<String>,
    pub media_type: Option<String>,
}

/// Everything needed to finish opening an image.
pub(crate) struct Parts<'a> {
    pub input: &'a str,
    pub digest: String,
    pub config_digest: String,
    pub config_bytes: &'a [u8],
    pub config_name: &'a str,
    pub layers: Vec<LayerRef>,
    pub repo_tags: Vec<String>,
}

fn count_entries(
    input: &str,
    so_far: usize,
    l: &layer::UnpackedLayer,
    limits: &crate::Limits,
) -> Result<usize, ImageError> {
    let n = so_far.saturating_add(l.entries.len());
    if n > limits.max_entries_per_image {
        return Err(ImageError::budget(
            input,
            "entries over all layers (a repeated layer counts each time)",
            crate::Budget::EntriesPerImage,
            limits.max_entries_per_image as u64,
        ));
    }
    Ok(n)
}

pub(crate) fn assemble(
    store: &dyn Store,
    parts: Parts<'_>,
    opts: &OpenOptions,
) -> Result<Image, ImageError> {
    let input = parts.input;
    let cfg: ImageConfig = parse_json(
        &format!("{input}: {}", parts.config_name),
        "image config",
        parts.config_bytes,
    )?;
    let diff_ids = cfg.diff_ids();
    if diff_ids.len() != parts.layers.len() {
        return Err(ImageError::new(
            input,
            format!(
                "the manifest lists {} layers but the image config lists {} diff_ids",
                parts.layers.len(),
                diff_ids.len()
            ),
        ));
    }
    let mut budget = opts.max_unpacked_size;
    let limits = &opts.limits;
    let mut unpacked: Vec<layer::UnpackedLayer> = Vec::with_capacity(parts.layers.len());
    // A layer listed again is read once; its entries count again for the image.
    let mut seen: BTreeMap<(&str, Option<&str>, &str), usize> = BTreeMap::new();
    let mut total_entries: usize = 0;
    let mut paths = crate::paths::Paths::new();
    for (lr, diff_id) in parts.layers.iter().zip(diff_ids) {
        let id = (
            lr.name.as_str(),
            lr.blob_digest.as_deref(),
            diff_id.as_str(),
        );
        if let Some(&i) = seen.get(&id) {
            let again = unpacked[i].clone();
            total_entries = count_entries(input, total_entries, &again, limits)?;
            unpacked.push(again);
            continue;
        }
        let spec = LayerSpec {
            name: lr.name.clone(),
            blob_digest: lr.blob_digest.clone(),
            diff_id: diff_id.clone(),
        };
        let l = layer::unpack(
            store,
            &spec,
            &opts.cache_dir,
            &mut budget,
            opts.max_unpacked_size,
            limits,
            &mut paths,
        )
        .map_err(|e| e.within(input))?;
        total_entries = count_entries(input, total_entries, &l, limits)?;
        seen.insert(id, unpacked.len());
        unpacked.push(l);
    }

    let history: Vec<HistoryEntry> = cfg
        .history
        .unwrap_or_default()
        .into_iter()
        .map(|h| HistoryEntry {
            created: h.created.unwrap_or_default(),
            created_by: h.created_by.unwrap_or_default(),
            comment: h.comment.unwrap_or_default(),
            empty_layer: h.empty_layer.unwrap_or(false),
        })
        .collect();
    let mut layer_history = history.iter().filter(|h| !h.empty_layer);
    let layers: Vec<LayerInfo> = unpacked
        .iter()
        .zip(&parts.layers)
        .map(|(l, lr)| LayerInfo {
            digest: l.blob_digest.clone(),
            diff_id: l.diff_id.clone(),
            media_type: lr
                .media_type
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| l.compression.media_type().to_string()),
            size: l.size,
            compressed_size: l.compressed_size,
            created_by: layer_history
                .next()
                .map(|h| h.created_by.clone())
                .unwrap_or_default(),
        })
        .collect();
    let c = cfg.config.unwrap_or_default();
    let config = ImageConfigSummary {
        user: c.user.unwrap_or_default(),
        env: c.env.unwrap_or_default(),
        entrypoint: c.entrypoint.unwrap_or_default(),
        cmd: c.cmd.unwrap_or_default(),
        working_dir: c.working_dir.unwrap_or_default(),
        exposed_ports: c.exposed_ports.unwrap_or_default().into_keys().collect(),
        healthcheck: c.healthcheck.map(|h| moat_model::image::Healthcheck {
            test: h.test.unwrap_or_default(),
            interval_ns: h.interval,
            timeout_ns: h.timeout,
            retries: h.retries,
        }),
        labels: c.labels.unwrap_or_default(),
        volumes: c.volumes.unwrap_or_default().into_keys().collect(),
        stop_signal: c.stop_signal.unwrap_or_default(),
    };
    let total_size = layers.iter().map(|l| l.size).sum();
    let metadata = ImageMetadata {
        digest: parts.digest,
        source: input.to_string(),
        repo_tags: parts.repo_tags,
        config_digest: parts.config_digest,
        os: cfg.os,
        architecture: cfg.architecture,
        variant: cfg.variant.unwrap_or_default(),
        created: cfg.created.unwrap_or_default(),
        config,
        history,
        layers,
        total_size,
    };
    let view = LayeredView::build(unpacked, paths, input)?;
    Ok(crate::layered_image(metadata, view))
}
