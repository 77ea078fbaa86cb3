//! Image checks (CIS 4): `IC1xx`, and the walk of image layers for setuid files.

use super::container::is_root_user;
use super::{Sink, image_object};
use crate::finding::AuditFinding;
use crate::rules::*;
use crate::sys::HostPaths;
use crate::{AuditOptions, ImageFiles, Snapshot};
use moat_engine::models::ImageInspect;
use std::path::Path;

/// Most setuid files listed in one finding's evidence.
const MAX_LISTED: usize = 20;
/// Most entries walked per image layer.
const MAX_WALK: usize = 500_000;

pub(crate) fn image(
    snap: &Snapshot,
    id: &str,
    img: &ImageInspect,
    opts: &AuditOptions,
    out: &mut Sink,
) {
    let obj = image_object(id, img);
    history(snap, id, &obj, out);
    let cfg = img.config.clone().unwrap_or_default();
    if is_root_user(cfg.user.as_deref()) {
        out.push(AuditFinding::new(
            &IC101,
            obj.clone(),
            "image runs as root (no USER)".to_string(),
            vec![format!(
                "Config.User={:?}",
                cfg.user.clone().unwrap_or_default()
            )],
        ));
    }
    let test = cfg.healthcheck.as_ref().and_then(|h| h.test.clone());
    if matches!(test.as_deref(), None | Some([]))
        || test
            .as_ref()
            .and_then(|t| t.first())
            .is_some_and(|t| t == "NONE")
    {
        out.push(AuditFinding::new(
            &IC102,
            obj.clone(),
            "image has no HEALTHCHECK".to_string(),
            vec![format!("Config.Healthcheck.Test={test:?}")],
        ));
    }
    if let Some(files) = snap.image_files.get(id)
        && !files.setuid.is_empty()
    {
        let mut ev: Vec<String> = files.setuid.iter().take(MAX_LISTED).cloned().collect();
        if files.setuid.len() > MAX_LISTED {
            ev.push(format!("... and {} more", files.setuid.len() - MAX_LISTED));
        }
        out.push(AuditFinding::new(
            &IC103,
            obj.clone(),
            format!("{} setuid/setgid file(s) in the image", files.setuid.len()),
            ev,
        ));
    }
    if let Some(created) = img.created.as_deref()
        && let Ok(t) =
            time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
    {
        let days = (opts.now - t).whole_days();
        if days > opts.max_image_age_days {
            out.push(AuditFinding::new(
                &IC104,
                obj,
                format!(
                    "image was created {days} days ago (limit {})",
                    opts.max_image_age_days
                ),
                vec![format!("Created={created}")],
            ));
        }
    }
}

/// The instruction of a history step: `#(nop) ADD ...` (classic builder), `ADD ... #
/// buildkit`, `RUN /bin/sh -c apt-get update` / `/bin/sh -c apt-get update`.
fn step_words(created_by: &str) -> Vec<&str> {
    let s = created_by.trim();
    let s = s.strip_prefix("/bin/sh -c ").unwrap_or(s).trim_start();
    let s = s.strip_prefix("#(nop)").unwrap_or(s).trim_start();
    s.split_whitespace().collect()
}

fn is_add(created_by: &str) -> bool {
    step_words(created_by).first() == Some(&"ADD")
}

/// A package-index update without an install or upgrade in the same step.
fn is_update_alone(created_by: &str) -> bool {
    let words = step_words(created_by);
    let updates = words.windows(2).any(|w| {
        matches!(
            w[0].rsplit('/').next().unwrap_or(""),
            "apt-get" | "apt" | "apk" | "yum" | "dnf" | "zypper" | "microdnf"
        ) && matches!(w[1], "update" | "refresh" | "makecache")
    });
    let installs = words
        .iter()
        .any(|w| matches!(*w, "install" | "add" | "upgrade" | "dist-upgrade" | "in"));
    updates && !installs
}

fn history(snap: &Snapshot, id: &str, obj: &crate::finding::AuditObject, out: &mut Sink) {
    let Some(steps) = snap.image_history.get(id) else {
        out.skip("4.7", "image history not read");
        out.skip("4.9", "image history not read");
        return;
    };
    let updates: Vec<String> = steps
        .iter()
        .filter(|s| is_update_alone(s))
        .cloned()
        .collect();
    if !updates.is_empty() {
        out.push(AuditFinding::new(
            &IC105,
            obj.clone(),
            format!(
                "{} history step(s) update the package index alone",
                updates.len()
            ),
            updates,
        ));
    }
    // The first step is the base image's root filesystem (`ADD file:... in /`).
    let adds: Vec<String> = steps
        .iter()
        .skip(1)
        .filter(|s| is_add(s))
        .cloned()
        .collect();
    if !adds.is_empty() {
        out.push(AuditFinding::new(
            &IC106,
            obj.clone(),
            format!("{} history step(s) use ADD", adds.len()),
            adds,
        ));
    }
}

/// Why an image's layers were not walked (the audit notes it and goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerScanError {
    #[error("no GraphDriver data")]
    NoGraphDriver,
    #[error("storage driver {0} exposes no layer directories")]
    NoLayerDirs(String),
    #[error("layer directory {0} is not readable here")]
    Unreadable(String),
}

/// Walks an image's layer directories on the host (overlay2 `LowerDir`/`UpperDir`) for
/// setuid/setgid regular files.
pub(crate) fn scan_image_layers(
    paths: &HostPaths,
    img: &ImageInspect,
) -> Result<ImageFiles, LayerScanError> {
    use std::os::unix::fs::PermissionsExt;
    let gd = img
        .graph_driver
        .as_ref()
        .ok_or(LayerScanError::NoGraphDriver)?;
    let mut dirs: Vec<String> = Vec::new();
    for key in ["LowerDir", "UpperDir"] {
        if let Some(v) = gd.data.get(key) {
            dirs.extend(v.split(':').filter(|s| !s.is_empty()).map(String::from));
        }
    }
    if dirs.is_empty() {
        return Err(LayerScanError::NoLayerDirs(gd.name.clone()));
    }
    let mut files = ImageFiles::default();
    for dir in &dirs {
        let root = paths.host(Path::new(dir));
        if !root.is_dir() {
            return Err(LayerScanError::Unreadable(dir.clone()));
        }
        for entry in walkdir::WalkDir::new(&root)
            .follow_links(false)
            .into_iter()
            .take(MAX_WALK)
            .filter_map(|e| e.ok())
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(md) = entry.metadata() else { continue };
            let mode = md.permissions().mode();
            if mode & 0o6000 != 0 {
                let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
                files
                    .setuid
                    .push(format!("/{} ({:o})", rel.display(), mode & 0o7777));
            }
        }
        files.layers.push(dir.clone());
    }
    files.setuid.sort();
    files.setuid.dedup();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_steps() {
        assert!(is_add("/bin/sh -c #(nop) ADD file:abc in / "));
        assert!(is_add("ADD https://x/y.tgz /opt/ # buildkit"));
        assert!(!is_add("/bin/sh -c #(nop) COPY file:abc in / "));
        assert!(!is_add("RUN /bin/sh -c echo ADD # buildkit"));
        assert!(is_update_alone("/bin/sh -c apt-get update"));
        assert!(is_update_alone("RUN /bin/sh -c apk update # buildkit"));
        assert!(!is_update_alone(
            "/bin/sh -c apt-get update && apt-get install -y curl"
        ));
        assert!(!is_update_alone("/bin/sh -c apk add --update curl"));
        assert!(!is_update_alone("/bin/sh -c echo update"));
    }
}
