//! OCI image layouts (`oci-dir:`, `oci-archive:`, the OCI part of newer `docker save`
//! output and what `registry:` pulls): index.json, nested indexes, platform choice.

use crate::config::{self, Descriptor, Index, LayerRef, Manifest, Parts, parse_json};
use crate::store::{Store, blob_path};
use crate::{Image, ImageError, OpenOptions};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";
const MAX_INDEX_DEPTH: usize = 4;

fn tags(manifests: &[Descriptor]) -> String {
    let mut t: Vec<&str> = manifests
        .iter()
        .filter_map(|d| d.annotations.as_ref()?.get(REF_NAME).map(String::as_str))
        .collect();
    t.sort_unstable();
    t.dedup();
    if t.is_empty() {
        "none".into()
    } else {
        t.join(", ")
    }
}

fn matches_ref(d: &Descriptor, reference: &str) -> bool {
    if reference.starts_with("sha256:") {
        return d.digest == reference;
    }
    let Some(a) = d.annotations.as_ref() else {
        return false;
    };
    a.get(REF_NAME).is_some_and(|n| n == reference)
        || a.get(CONTAINERD_NAME)
            .is_some_and(|n| n == reference || n.ends_with(&format!(":{reference}")))
}

fn is_index(media_type: &str) -> bool {
    media_type == "application/vnd.oci.image.index.v1+json"
        || media_type == "application/vnd.docker.distribution.manifest.list.v2+json"
}

fn pick_platform<'a>(
    manifests: &'a [Descriptor],
    opts: &OpenOptions,
    input: &str,
) -> Result<&'a Descriptor, ImageError> {
    let (os, arch, variant) = opts.platform_triple();
    let found = manifests.iter().find(|d| match &d.platform {
        Some(p) => {
            p.os == os
                && p.architecture == arch
                && match (&variant, &p.variant) {
                    (Some(want), Some(have)) => want == have,
                    _ => true,
                }
        }
        None => false,
    });
    found.ok_or_else(|| {
        let mut avail: Vec<String> = manifests
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            })
            .collect();
        avail.sort();
        avail.dedup();
        ImageError::new(
            input,
            format!(
                "no image for platform {os}/{arch}{} (available: {})",
                variant.map(|v| format!("/{v}")).unwrap_or_default(),
                avail.join(", ")
            ),
        )
    })
}

/// Open the image `reference` (a tag or `sha256:` digest; `None` = the only one) of
/// the layout in `store`.
pub(crate) fn open_layout(
    store: &dyn Store,
    reference: Option<&str>,
    opts: &OpenOptions,
    input: &str,
) -> Result<Image, ImageError> {
    if !store.exists("index.json") {
        return Err(ImageError::new(
            input,
            "not an OCI image layout (no index.json)",
        ));
    }
    let bytes = store
        .read_small("index.json", None)
        .map_err(|e| e.within(input))?;
    let index: Index = parse_json(&format!("{input}: index.json"), "OCI index", &bytes)?;
    if index.manifests.is_empty() {
        return Err(ImageError::new(
            format!("{input}: index.json"),
            "lists no images",
        ));
    }
    let chosen: Descriptor = match reference {
        Some(r) => index
            .manifests
            .iter()
            .find(|d| matches_ref(d, r))
            .cloned()
            .or_else(|| {
                // A digest the index does not list (a platform manifest below a
                // listed index): open that blob directly; it is verified when read.
                let name = blob_path(input, r).ok()?;
                store.exists(&name).then(|| Descriptor {
                    media_type: String::new(),
                    digest: r.to_string(),
                    annotations: None,
                    platform: None,
                })
            })
            .ok_or_else(|| {
                ImageError::new(
                    input,
                    format!(
                        "no image {r} in the layout (tags: {})",
                        tags(&index.manifests)
                    ),
                )
            })?,
        None if index.manifests.len() == 1 => index.manifests[0].clone(),
        None if index.manifests.iter().all(|d| d.platform.is_some()) => {
            pick_platform(&index.manifests, opts, input)?.clone()
        }
        None => {
            return Err(ImageError::new(
                input,
                format!(
                    "the layout holds {} images; name one with :TAG or @DIGEST (tags: {})",
                    index.manifests.len(),
                    tags(&index.manifests)
                ),
            ));
        }
    };
    let mut desc = chosen;
    for _ in 0..=MAX_INDEX_DEPTH {
        let name = blob_path(&format!("{input}: index.json"), &desc.digest)?;
        let bytes = store
            .read_small(&name, Some(&desc.digest))
            .map_err(|e| e.within(input))?;
        let m: Manifest = parse_json(&format!("{input}: {name}"), "manifest", &bytes)?;
        if let Some(list) = m
            .manifests
            .as_ref()
            .filter(|_| is_index(&desc.media_type) || is_index(&m.media_type) || m.config.is_none())
        {
            desc = pick_platform(list, opts, &format!("{input}: {name}"))?.clone();
            continue;
        }
        return open_manifest(store, &desc.digest, &name, &m, opts, input);
    }
    Err(ImageError::new(
        input,
        format!("image indexes nested more than {MAX_INDEX_DEPTH} deep"),
    ))
}

fn open_manifest(
    store: &dyn Store,
    digest: &str,
    name: &str,
    m: &Manifest,
    opts: &OpenOptions,
    input: &str,
) -> Result<Image, ImageError> {
    let ctx = format!("{input}: {name}");
    let cfg = m
        .config
        .as_ref()
        .ok_or_else(|| ImageError::new(&ctx, "manifest has no config"))?;
    let config_name = blob_path(&ctx, &cfg.digest)?;
    let config_bytes = store
        .read_small(&config_name, Some(&cfg.digest))
        .map_err(|e| e.within(input))?;
    let layers = m
        .layers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            Ok(LayerRef {
                name: blob_path(&ctx, &d.digest)?,
                blob_digest: Some(d.digest.clone()),
                media_type: Some(d.media_type.clone()),
            })
        })
        .collect::<Result<Vec<_>, ImageError>>()?;
    config::assemble(
        store,
        Parts {
            input,
            digest: digest.to_string(),
            config_digest: cfg.digest.clone(),
            config_bytes: &config_bytes,
            config_name: &config_name,
            layers,
            repo_tags: Vec::new(),
        },
        opts,
    )
}

/// The digest of the manifest in `store`'s index.json whose config is `config_digest`.
pub(crate) fn manifest_digest_for_config(store: &dyn Store, config_digest: &str) -> Option<String> {
    let bytes = store.read_small("index.json", None).ok()?;
    let index: Index = serde_json::from_slice(&bytes).ok()?;
    for d in &index.manifests {
        let name = blob_path("index.json", &d.digest).ok()?;
        let Ok(b) = store.read_small(&name, Some(&d.digest)) else {
            continue;
        };
        let Ok(m) = serde_json::from_slice::<Manifest>(&b) else {
            continue;
        };
        if m.config.as_ref().is_some_and(|c| c.digest == config_digest) {
            return Some(d.digest.clone());
        }
    }
    None
}
