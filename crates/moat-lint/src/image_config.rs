//! Image-config rules (`IC`), run by `moat scan --scanners misconfig`.
//!
//! They look at a built image: its config (user, env, healthcheck, ports), its history
//! (`created_by` of each step) and its files (setuid/setgid bits, through
//! [`moat_fs::FileResolver`]). Findings name the image source as `path`; file findings
//! name `SOURCE:/path/in/image`. Line and column are 0 (no text position).

use crate::rules::{RULES, Sink};
use moat_model::{ConfigFinding, ImageMetadata};

pub use crate::image_input::ImageInput;

/// Run every image-config rule. Sorted, deterministic.
pub fn check(meta: &ImageMetadata, resolver: &dyn moat_fs::FileResolver) -> Vec<ConfigFinding> {
    let input = ImageInput { meta, resolver };
    let path = if meta.source.is_empty() {
        meta.digest.as_str()
    } else {
        meta.source.as_str()
    };
    let mut findings = Vec::new();
    for r in RULES {
        let mut sink = Sink {
            path,
            meta: r.meta(),
            findings: &mut findings,
        };
        r.image(&input, &mut sink);
    }
    findings.sort();
    findings.dedup();
    findings
}
