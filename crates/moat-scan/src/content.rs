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
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the content scanners found in one image.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ContentResult {
    pub secrets: Vec<SecretFinding>,
    pub malware: Vec<MalwareFinding>,
    pub files: Vec<FileFinding>,
    pub integrity: Vec<IntegrityFinding>,
}

fn read_capped(r: &dyn FileResolver, path: &str, size: u64, cap: u64) -> Option<Vec<u8>> {
    let mut f = r.open_resolved(path).ok()?;
    // The size is known: one allocation and one read for most files.
    let mut buf = Vec::with_capacity(usize::try_from(size.min(cap)).unwrap_or(0));
    (&mut f).take(cap).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// One file to search: the tree (layer) it is in, its path and size.
struct Job {
    tree: usize,
    path: String,
    size: u64,
}

/// Threads for the per-file work: the machine's parallelism, at most 4 (the work is
/// CPU-bound; more threads only add memory).
fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// Secrets and malware of every regular file of every tree in `trees` (the layers,
/// bottom first, or one directory), on all cores. Findings come back per tree, in
/// path order within it (deterministic whatever the threads do).
fn scan_trees(engine: &Engine, trees: &[&dyn FileResolver], own: &Ownership) -> Vec<ContentResult> {
    let cap = engine.max_file();
    let mut jobs = Vec::new();
    for (tree, r) in trees.iter().enumerate() {
        for m in r.entries() {
            if m.kind == FileKind::File && m.size <= cap && m.size > 0 {
                jobs.push(Job {
                    tree,
                    path: m.path,
                    size: m.size,
                });
            }
        }
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, moat_content::FileHits)> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let r = trees[job.tree];
            let Some(data) = read_capped(r, &job.path, job.size, cap) else {
                continue;
            };
            let hits = engine.scan_file(&job.path, &data, own.packaged(&job.path));
            if !hits.secrets.is_empty() || !hits.malware.is_empty() {
                done.push((i, hits));
            }
        }
        done
    };
    let n = workers().min(jobs.len().max(1));
    let mut found: Vec<(usize, moat_content::FileHits)> = if n <= 1 {
        work()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (1..n).map(|_| s.spawn(work)).collect();
            let mut all = work();
            for h in handles {
                // A worker that panicked loses its files' findings; the panic itself
                // is a bug in a scanner, surfaced by the tests, not by the scan.
                if let Ok(v) = h.join() {
                    all.extend(v);
                }
            }
            all
        })
    };
    found.sort_by_key(|(i, _)| *i);
    let mut out: Vec<ContentResult> = trees.iter().map(|_| ContentResult::default()).collect();
    for (i, hits) in found {
        let Some(job) = jobs.get(i) else { continue };
        let res = &mut out[job.tree];
        res.secrets.extend(hits.secrets);
        res.malware.extend(hits.malware);
    }
    out
}

/// Run every selected content scanner over `image`.
pub fn scan_image(engine: &Engine, image: &moat_image::Image) -> ContentResult {
    let squashed = image.resolver();
    let mut own = Ownership::load(squashed);
    // The rpm database's file lists (moat-catalog parses it; moat-content sits beside
    // moat-catalog): ownership and expected digests on an RPM image. An unreadable
    // database leaves ownership unknown there, as before.
    let rpm = if own.rpm && (engine.opts.file || engine.opts.integrity) {
        rpm_files(squashed)
    } else {
        Vec::new()
    };
    if !rpm.is_empty() {
        own.add_rpm(squashed, rpm.iter().map(|f| f.path.as_str()));
    }
    // The final-tree checks (integrity hashes every package file) run beside the
    // per-layer walk, on their own thread.
    let (mut out, (files, integrity)) = std::thread::scope(|s| {
        let tree = s.spawn(|| {
            let files = if engine.opts.file {
                moat_content::files::scan(squashed, &own)
            } else {
                Vec::new()
            };
            let integrity = if engine.opts.integrity {
                moat_content::integrity::scan_with_rpm(
                    squashed,
                    engine.opts.limits.integrity_max_file,
                    &rpm,
                )
            } else {
                Vec::new()
            };
            (files, integrity)
        });
        let out = walk(engine, image, squashed, &own);
        // A panic in a final-tree check is a bug the tests surface; the walk's
        // findings are still reported.
        (out, tree.join().unwrap_or_default())
    });
    if let Some(s) = &engine.secrets {
        out.secrets
            .extend(moat_content::config::scan(s, image.metadata()));
    }
    out.files = files;
    out.integrity = integrity;
    out
}

/// Every file of the image's rpm database, as moat-content takes them; none when
/// there is no database or it cannot be read within moat-catalog's default limits.
/// The files of the image's rpm database as the integrity and ownership checks take
/// them (empty when there is none or it cannot be read).
pub fn rpm_files(r: &dyn FileResolver) -> Vec<moat_content::integrity::RpmFile> {
    use moat_catalog::rpm::RpmDigestAlgo as A;
    use moat_content::integrity::Algo;
    let Ok(Some((_, entries))) = moat_catalog::rpm::installed(r, &moat_catalog::Limits::default())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries {
        for f in e.file_entries {
            out.push(moat_content::integrity::RpmFile {
                package: e.name.clone(),
                path: f.path,
                digest: f.digest,
                algo: match f.algo {
                    A::Md5 => Some(Algo::Md5),
                    A::Sha1 => Some(Algo::Sha1),
                    A::Sha256 => Some(Algo::Sha256),
                    A::Sha384 => Some(Algo::Sha384),
                    A::Sha512 => Some(Algo::Sha512),
                    A::Other(_) => None,
                },
                flags: f.flags,
                mode: f.mode,
                verify: f.verify,
                state: f.state,
            });
        }
    }
    out
}

/// Secrets and malware of every layer (or of the one tree of a directory).
fn walk(
    engine: &Engine,
    image: &moat_image::Image,
    squashed: &dyn FileResolver,
    own: &Ownership,
) -> ContentResult {
    let mut out = ContentResult::default();
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
                let trees: Vec<&dyn FileResolver> =
                    views.iter().map(|v| v as &dyn FileResolver).collect();
                let per_layer = scan_trees(engine, &trees, own);
                for ((i, v), found) in views.iter().enumerate().zip(per_layer) {
                    let diff = v.diff_id().to_string();
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
                        s.location.layer.clone_from(&diff);
                        s.deleted_in = gone(&s.location.path);
                        out.secrets.push(s);
                    }
                    for mut m in found.malware {
                        m.location.layer.clone_from(&diff);
                        m.deleted_in = gone(&m.location.path);
                        out.malware.push(m);
                    }
                }
            }
            None => {
                if let Some(found) = scan_trees(engine, &[squashed], own).pop() {
                    out.secrets.extend(found.secrets);
                    out.malware.extend(found.malware);
                }
            }
        }
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

/// The content result of `image`: from the cache under `cache_dir`, or scanned (and
/// then cached). Runs beside the catalog (see `ScanPlan::run`).
pub(crate) fn compute(
    engine: &Engine,
    image: &moat_image::Image,
    cache_dir: Option<&Path>,
) -> ContentResult {
    let cache = cache_path(cache_dir, engine, image);
    let cached = cache
        .as_deref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<ContentResult>(&b).ok());
    match cached {
        Some(r) => r,
        None => {
            let r = scan_image(engine, image);
            if let Some(p) = &cache {
                write_cached(p, &r);
            }
            r
        }
    }
}

/// Apply the policy (`keep`) and put the findings in the report.
pub(crate) fn apply(r: ContentResult, report: &mut Report, keep: Keep<'_>) {
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
