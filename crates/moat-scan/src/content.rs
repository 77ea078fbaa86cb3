//! The content scanners' pass over an opened image (moat-content does the matching):
//!
//! - secrets and malware in every file of every layer, so a file deleted or
//!   overwritten by a later layer is still seen (its finding names that layer in
//!   `deleted_in`); `dir:`/`rootfs:` sources are one tree;
//! - risky files and package integrity in the final (squashed) tree;
//! - secrets in the image config and history.
//!
//! The result is cached by the layer chain and the rules' fingerprint, like the
//! inventory, and then filtered by the user's policy (`--severity`, the ignore file).

use moat_content::Engine;
use moat_content::files::Ownership;
use moat_fs::{FileKind, FileResolver};
use moat_model::content::{FileFinding, IntegrityFinding, MalwareFinding, SecretFinding};
use moat_model::report::Report;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What the content scanners found in one image.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ContentResult {
    pub secrets: Vec<SecretFinding>,
    pub malware: Vec<MalwareFinding>,
    pub files: Vec<FileFinding>,
    pub integrity: Vec<IntegrityFinding>,
}

fn read_capped(r: &dyn FileResolver, path: &str, cap: u64) -> Option<Vec<u8>> {
    let mut f = r.open_resolved(path).ok()?;
    let mut buf = Vec::new();
    (&mut f).take(cap).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Secrets and malware of every regular file of `r` (one layer, or a directory).
fn scan_tree(
    engine: &Engine,
    r: &dyn FileResolver,
    own: &Ownership,
    layer: &str,
    out: &mut ContentResult,
) {
    let cap = engine.max_file();
    for m in r.entries() {
        if m.kind != FileKind::File || m.size > cap || m.size == 0 {
            continue;
        }
        let Some(data) = read_capped(r, &m.path, cap) else {
            continue;
        };
        let hits = engine.scan_file(&m.path, &data, own.packaged(&m.path));
        for mut s in hits.secrets {
            s.location.layer = layer.to_string();
            out.secrets.push(s);
        }
        for mut x in hits.malware {
            x.location.layer = layer.to_string();
            out.malware.push(x);
        }
    }
}

/// Run every selected content scanner over `image`.
pub fn scan_image(engine: &Engine, image: &moat_image::Image) -> ContentResult {
    let mut out = ContentResult::default();
    let squashed = image.resolver();
    let own = Ownership::load(squashed);
    if engine.reads_files() {
        match image.layered() {
            Some(lv) => {
                let views: Vec<_> = (0..lv.layer_count())
                    .filter_map(|i| lv.layer_view(i))
                    .collect();
                // For each layer: what it deletes (whiteouts) and hides (opaque dirs).
                let removed: Vec<(HashSet<String>, Vec<String>)> = views
                    .iter()
                    .map(|v| {
                        (
                            v.whiteouts().into_iter().map(str::to_string).collect(),
                            v.opaque_dirs().into_iter().map(str::to_string).collect(),
                        )
                    })
                    .collect();
                for (i, v) in views.iter().enumerate() {
                    let diff = v.diff_id().to_string();
                    let mut found = ContentResult::default();
                    scan_tree(engine, v, &own, &diff, &mut found);
                    let gone = |path: &str| -> Option<String> {
                        let live = squashed
                            .lstat(path)
                            .is_some_and(|m| m.layer.as_deref() == Some(diff.as_str()));
                        if live {
                            return None;
                        }
                        (i + 1..views.len()).find_map(|j| {
                            let (wh, opq) = &removed[j];
                            let hit = views[j].lstat(path).is_some()
                                || ancestors(path).any(|a| wh.contains(a))
                                || ancestors(path).skip(1).any(|a| opq.iter().any(|o| o == a));
                            hit.then(|| views[j].diff_id().to_string())
                        })
                    };
                    for mut s in found.secrets {
                        s.deleted_in = gone(&s.location.path);
                        out.secrets.push(s);
                    }
                    for mut m in found.malware {
                        m.deleted_in = gone(&m.location.path);
                        out.malware.push(m);
                    }
                }
            }
            None => scan_tree(engine, squashed, &own, "", &mut out),
        }
    }
    if let Some(s) = &engine.secrets {
        out.secrets
            .extend(moat_content::config::scan(s, image.metadata()));
    }
    if engine.opts.file {
        out.files = moat_content::files::scan(squashed, &own);
    }
    if engine.opts.integrity {
        out.integrity =
            moat_content::integrity::scan(squashed, engine.opts.limits.integrity_max_file);
    }
    out
}

/// `path` itself, then each ancestor up to (not including) `/`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut cur = Some(path);
    std::iter::from_fn(move || {
        let p = cur?;
        cur = p.rfind('/').filter(|&i| i > 0).map(|i| &p[..i]);
        Some(p)
    })
}

fn cache_path(
    cache_dir: Option<&Path>,
    engine: &Engine,
    image: &moat_image::Image,
) -> Option<PathBuf> {
    let layers = &image.metadata().layers;
    let cache_dir = cache_dir?;
    if layers.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    h.update(engine.fingerprint().as_bytes());
    h.update(image.metadata().config_digest.as_bytes());
    for l in layers {
        h.update(l.diff_id.as_bytes());
        h.update(b"\n");
    }
    Some(
        cache_dir
            .join("content")
            .join(format!("{}.json", hex::encode(h.finalize()))),
    )
}

fn write_cached(path: &Path, r: &ContentResult) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if serde_json::to_writer(&mut tmp, r).is_ok() && tmp.flush().is_ok() {
        let _ = tmp.persist(path);
    }
}

/// What the user's policy keeps: (rule id, severity, path, package) → keep?
pub(crate) type Keep<'a> = &'a dyn Fn(&str, moat_model::Severity, &str, &str) -> bool;

/// The hook of `ScanPlan::run`: scan (or read the cache under `cache_dir`), apply the
/// policy (`keep`), and put the findings in the report.
pub(crate) fn run(
    engine: &Engine,
    image: &moat_image::Image,
    report: &mut Report,
    cache_dir: Option<&Path>,
    keep: Keep<'_>,
) {
    let cache = cache_path(cache_dir, engine, image);
    let cached = cache
        .as_deref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<ContentResult>(&b).ok());
    let r = match cached {
        Some(r) => r,
        None => {
            let r = scan_image(engine, image);
            if let Some(p) = &cache {
                write_cached(p, &r);
            }
            r
        }
    };
    report.secrets.extend(
        r.secrets
            .into_iter()
            .filter(|f| keep(&f.rule, f.severity, &f.location.path, "")),
    );
    report.malware.extend(
        r.malware
            .into_iter()
            .filter(|f| keep(&f.rule, f.severity, &f.location.path, "")),
    );
    report.files.extend(
        r.files
            .into_iter()
            .filter(|f| keep(&f.rule, f.severity, &f.location.path, "")),
    );
    report.integrity.extend(
        r.integrity
            .into_iter()
            .filter(|f| keep(&f.rule, f.severity, &f.location.path, &f.package)),
    );
}
