//! Secrets in the image config (`Env`, `Labels`, `Cmd`, `Entrypoint`) and in the
//! history (`created_by`: a build argument echoed into a layer's command).

use crate::secrets::{SecretScanner, Target};
use moat_model::ImageMetadata;
use moat_model::content::SecretFinding;

/// Secrets in the config and history of `meta`. A history entry's finding carries the
/// layer that entry made (empty for an empty layer).
pub fn scan(s: &SecretScanner, meta: &ImageMetadata) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    let mut push = |path: &str, line: usize, text: &str, layer: &str| {
        for mut f in s.scan(path, text.as_bytes(), Target::Config, false) {
            f.location.line = u32::try_from(line).unwrap_or(u32::MAX);
            f.location.layer = layer.to_string();
            out.push(f);
        }
    };
    let c = &meta.config;
    for (i, e) in c.env.iter().enumerate() {
        push("config:Env", i + 1, e, "");
    }
    for (i, (k, v)) in c.labels.iter().enumerate() {
        push("config:Labels", i + 1, &format!("{k}={v}"), "");
    }
    if !c.cmd.is_empty() {
        push("config:Cmd", 1, &c.cmd.join(" "), "");
    }
    if !c.entrypoint.is_empty() {
        push("config:Entrypoint", 1, &c.entrypoint.join(" "), "");
    }
    let mut layer = 0usize;
    for (i, h) in meta.history.iter().enumerate() {
        let diff = if h.empty_layer {
            ""
        } else {
            let d = meta.layers.get(layer).map_or("", |l| l.diff_id.as_str());
            layer += 1;
            d
        };
        push(&format!("history:{i}"), 1, &h.created_by, diff);
    }
    out
}
