//! The scan: open the image, catalog it (cached by the image's layer chain), match
//! the advisory database, apply the user's policy, and build one sorted report.

use moat_db::Database;
use moat_match::policy::{FindingRef, IgnoreFile, Suppression, Vex};
use moat_match::{Dropped, FixState, VulnFinding};
use moat_model::report::{
    DbInfo, IgnoredFinding, ImageSummary, LayerSummary, Report as ScanReport, SCHEMA_VERSION, Tool,
};
use moat_model::{Inventory, Severity};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] moat_image::ImageError),
    #[error("{path}: {message}")]
    Database { path: String, message: String },
    #[error(transparent)]
    Policy(#[from] moat_match::policy::PolicyError),
    #[error(transparent)]
    Match(#[from] moat_match::matcher::MatchError),
    #[error("{input}: --offline forbids this source: it is read over the network ({why})")]
    Offline { input: String, why: &'static str },
    #[error(transparent)]
    Content(#[from] moat_content::ContentError),
    #[error(transparent)]
    Sbom(#[from] moat_catalog::sbom::SbomError),
}

/// What a scan reads: an image or tree, or an SBOM (`sbom:FILE`) whose packages are
/// matched as an image's inventory would be.
#[derive(Debug, Clone)]
pub enum ScanSource {
    Image(moat_image::Source),
    Sbom(PathBuf),
}

impl ScanSource {
    /// `sbom:FILE`, or any source [`moat_image::Source::parse`] reads.
    pub fn parse(s: &str) -> Result<ScanSource, ScanError> {
        match s.strip_prefix("sbom:") {
            Some(path) => Ok(ScanSource::Sbom(PathBuf::from(path))),
            None => Ok(ScanSource::Image(moat_image::Source::parse(s)?)),
        }
    }
}

/// Which scanners run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanners {
    pub vuln: bool,
    pub misconfig: bool,
}

impl Default for Scanners {
    fn default() -> Self {
        Scanners {
            vuln: true,
            misconfig: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub image: moat_image::OpenOptions,
    pub scanners: Scanners,
    pub db_path: PathBuf,
    /// Keep only these severities (others move to `ignored`).
    pub severities: Option<BTreeSet<Severity>>,
    pub ignore_unfixed: bool,
    pub ignore_file: Option<PathBuf>,
    pub vex: Vec<PathBuf>,
    /// Warn when the database is older than this many days.
    pub max_db_age_days: u64,
    /// Reuse cached inventories (keyed by the layer chain).
    pub use_cache: bool,
    /// Today, for ignore-file expiry and report time.
    pub now: time::OffsetDateTime,
    /// Refuse every source that is read over the network.
    pub offline: bool,
    /// The catalogers' budgets (bytes per file, zip entries...).
    pub catalog_limits: moat_catalog::Limits,
}

/// A scan, validated before any image is opened: the source parsed (and refused when
/// `--offline` forbids it), the advisory database opened, the ignore file and VEX
/// documents parsed. A bad flag or file fails here, in milliseconds.
pub struct ScanPlan {
    /// The source as the user wrote it.
    pub source_text: String,
    pub source: ScanSource,
    pub opts: ScanOptions,
    db: Option<Database>,
    ignore: Option<IgnoreFile>,
    vex: Vec<Vex>,
    /// The content scanners ([`ScanPlan::with_content`]).
    content: Option<moat_content::Engine>,
}

/// Why `source` is read over the network, if it is: registries always; the Docker
/// Engine when it is reached over TCP or SSH (`--host`/`DOCKER_HOST`), not over its
/// local socket.
pub fn network_use(source: &moat_image::Source, docker_host: Option<&str>) -> Option<&'static str> {
    match source {
        moat_image::Source::Registry(_) => Some("a registry"),
        moat_image::Source::Docker(_) => {
            let host = docker_host
                .map(str::to_string)
                .or_else(|| std::env::var("DOCKER_HOST").ok())
                .unwrap_or_default();
            (host.starts_with("tcp://")
                || host.starts_with("http://")
                || host.starts_with("https://")
                || host.starts_with("ssh://"))
            .then_some("a remote Docker Engine")
        }
        _ => None,
    }
}

impl ScanPlan {
    /// Validate everything the scan will need, without opening the source.
    pub fn new(source: &str, opts: ScanOptions) -> Result<ScanPlan, ScanError> {
        let parsed = ScanSource::parse(source)?;
        if opts.offline
            && let ScanSource::Image(img) = &parsed
            && let Some(why) = network_use(img, opts.image.docker_host.as_deref())
        {
            return Err(ScanError::Offline {
                input: source.to_string(),
                why,
            });
        }
        let ignore = match &opts.ignore_file {
            Some(p) => Some(IgnoreFile::load(p, opts.now.date())?),
            None => None,
        };
        let vex: Vec<Vex> = opts
            .vex
            .iter()
            .map(|p| Vex::load(p))
            .collect::<Result<_, _>>()?;
        let db = if opts.scanners.vuln {
            Some(open_db(&opts.db_path)?)
        } else {
            None
        };
        Ok(ScanPlan {
            source_text: source.to_string(),
            source: parsed,
            opts,
            db,
            ignore,
            vex,
            content: None,
        })
    }

    /// Open the source and catalog it (the cached inventory when the layer chain was
    /// seen before): what `moat sbom` needs.
    pub fn inventory(&self) -> Result<Cataloged, ScanError> {
        let Some(image) = self.open()? else {
            return Ok(Cataloged {
                image: None,
                inventory: self.read_sbom()?,
                cache_hit: false,
            });
        };
        let (inventory, cache_hit) = self.catalog(&image);
        Ok(Cataloged {
            image: Some(image),
            inventory,
            cache_hit,
        })
    }

    /// The inventory an SBOM source declares (empty for an image source).
    fn read_sbom(&self) -> Result<Inventory, ScanError> {
        match &self.source {
            ScanSource::Sbom(path) => Ok(moat_catalog::sbom::read(path)?.inventory),
            ScanSource::Image(_) => Ok(Inventory::default()),
        }
    }

    /// Open the source: `None` for an SBOM, which has no image.
    fn open(&self) -> Result<Option<moat_image::Image>, ScanError> {
        let source = match &self.source {
            ScanSource::Image(s) => s,
            ScanSource::Sbom(_) => return Ok(None),
        };
        let mut image = moat_image::open_source(source, &self.opts.image)?;
        image.metadata.source = self.source_text.clone();
        Ok(Some(image))
    }

    /// The inventory of an opened image (cached by its layer chain), and whether it
    /// came from the cache.
    fn catalog(&self, image: &moat_image::Image) -> (Inventory, bool) {
        let opts = &self.opts;
        let meta = image.metadata();
        let diff_ids: Vec<String> = meta.layers.iter().map(|l| l.diff_id.clone()).collect();
        let cache_path = (!diff_ids.is_empty() && opts.use_cache).then(|| {
            opts.image
                .cache_dir
                .join("inventory")
                .join(format!("{}.json", chain_key(&diff_ids)))
        });
        if let Some(inv) = cache_path.as_deref().and_then(read_cached) {
            return (inv, true);
        }
        // A source tree also gets its declared dependencies (lockfiles).
        let mode = match &self.source {
            ScanSource::Image(moat_image::Source::Dir(_)) => moat_catalog::Mode::Directory,
            _ => moat_catalog::Mode::Image,
        };
        let inv = moat_catalog::catalog(
            image.resolver(),
            &moat_catalog::Options {
                mode,
                limits: opts.catalog_limits,
            },
        );
        if let Some(p) = &cache_path {
            write_cached(p, &inv);
        }
        (inv, false)
    }
}

/// An opened source and its inventory.
pub struct Cataloged {
    /// The opened image or tree; `None` for an SBOM source (no files to look at).
    pub image: Option<moat_image::Image>,
    pub inventory: Inventory,
    /// True when the inventory came from the cache.
    pub cache_hit: bool,
}

/// A report and the candidates that were dropped (for `--explain`).
#[derive(Debug)]
pub struct ScanOutcome {
    pub report: ScanReport,
    pub dropped: Vec<Dropped>,
    /// True when the inventory came from the cache.
    pub cache_hit: bool,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The cache key of an image's inventory: the catalog's version
/// ([`moat_catalog::CATALOG_VERSION`]) and the layer chain (diff_ids in order).
fn chain_key(diff_ids: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(format!("moat-catalog {}\n", moat_catalog::CATALOG_VERSION));
    for d in diff_ids {
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

fn read_cached(path: &Path) -> Option<Inventory> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Write atomically (temp file + rename), so concurrent scans never see half a file.
fn write_cached(path: &Path, inv: &Inventory) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    if serde_json::to_writer(&mut tmp, inv).is_ok() && tmp.flush().is_ok() {
        let _ = tmp.persist(path);
    }
}

/// Validate and run a scan of `source` ([`ScanPlan::new`] then [`ScanPlan::run`]).
pub fn scan(source: &str, opts: &ScanOptions) -> Result<ScanOutcome, ScanError> {
    ScanPlan::new(source, opts.clone())?.run()
}

impl ScanPlan {
    /// Open the source, catalog it, match it, apply the policy: one sorted report.
    pub fn run(&self) -> Result<ScanOutcome, ScanError> {
        let opts = &self.opts;
        let source = self.source_text.as_str();
        let (image, (inventory, cache_hit), content) = match self.open()? {
            None => (None, (self.read_sbom()?, false), None),
            Some(image) => {
                // The content scanners read the layers beside the catalog (both cores).
                let content_cache = opts.use_cache.then_some(opts.image.cache_dir.as_path());
                let (cataloged, content) = std::thread::scope(|s| {
                    let content = self.content.as_ref().map(|engine| {
                        s.spawn(|| crate::content::compute(engine, &image, content_cache))
                    });
                    let cataloged = self.catalog(&image);
                    // A panic in a content scanner is a bug the tests surface; the scan
                    // goes on without its findings.
                    (cataloged, content.and_then(|h| h.join().ok()))
                });
                (Some(image), cataloged, content)
            }
        };
        let meta = image
            .as_ref()
            .map(|i| i.metadata().clone())
            .unwrap_or_default();
        let mut report = ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            created: rfc3339(opts.now),
            source: source.to_string(),
            image: (!meta.layers.is_empty()).then(|| ImageSummary {
                digest: meta.digest.clone(),
                os: meta.os.clone(),
                architecture: meta.architecture.clone(),
                repo_tags: meta.repo_tags.clone(),
                layers: meta
                    .layers
                    .iter()
                    .map(|l| LayerSummary {
                        diff_id: l.diff_id.clone(),
                        created_by: l.created_by.clone(),
                    })
                    .collect(),
            }),
            distro: inventory.distro.clone(),
            packages: inventory.packages.clone(),
            unknowns: inventory.unknowns.clone(),
            dependencies: inventory.dependencies.clone(),
            ..Default::default()
        };

        let mut dropped = Vec::new();
        if let Some(db) = &self.db {
            if let Ok(Some(age)) = db.age_seconds() {
                let days = u64::try_from(age / 86_400).unwrap_or(0);
                if days > opts.max_db_age_days {
                    report.warnings.push(format!(
                        "the advisory database {} is {days} days old; run `moat db update`",
                        opts.db_path.display()
                    ));
                }
                report.database = Some(DbInfo {
                    path: opts.db_path.display().to_string(),
                    updated: String::new(),
                    age_days: Some(days),
                });
            }
            let out = moat_match::matcher::match_packages(
                db,
                &inventory.packages,
                inventory.distro.as_ref(),
            )?;
            report.warnings.extend(out.warnings);
            dropped = out.dropped;
            let mut findings = out.findings;
            add_dependency_paths(&inventory.dependencies, &mut findings);
            self.apply_policy(&mut report, findings);
        }
        match &image {
            Some(image) => {
                if opts.scanners.misconfig {
                    let mut found = moat_lint::image_config::check(&meta, image.resolver());
                    if let Some(keep) = &opts.severities {
                        found.retain(|f| keep.contains(&f.severity));
                    }
                    report.misconfigurations = found;
                }
                if let Some(found) = content {
                    let keep = |id: &str, sev: Severity, path: &str, pkg: &str| {
                        self.keeps_content(id, sev, path, pkg)
                    };
                    crate::content::apply(found, &mut report, &keep);
                }
            }
            None => {
                let mut skipped = Vec::new();
                if opts.scanners.misconfig {
                    skipped.push("misconfig");
                }
                if self.content.is_some() {
                    skipped.push("content (secret, malware, file, integrity)");
                }
                if !skipped.is_empty() {
                    report.warnings.push(format!(
                        "{source}: an SBOM holds no files or image configuration: the {} scanners did not run",
                        skipped.join(" and ")
                    ));
                }
            }
        }
        report.finish();
        report.remediations = crate::remediation::plan(&report);
        Ok(ScanOutcome {
            report,
            dropped,
            cache_hit,
        })
    }
}

/// Give each finding in a transitive dependency the path from a top-level package.
fn add_dependency_paths(deps: &[moat_model::Dependency], findings: &mut [VulnFinding]) {
    if deps.is_empty() {
        return;
    }
    let graph = moat_model::graph::Graph::new(deps);
    let mut memo: std::collections::BTreeMap<String, Option<Vec<String>>> = Default::default();
    for f in findings {
        let purl = f.package.purl.as_str();
        let path = memo
            .entry(purl.to_string())
            .or_insert_with(|| graph.path_to(purl))
            .clone();
        if let Some(p) = path {
            f.dependency_path = p;
        }
    }
}

fn open_db(path: &Path) -> Result<Database, ScanError> {
    if !path.exists() {
        return Err(ScanError::Database {
            path: path.display().to_string(),
            message: "no advisory database here; run `moat db update` or `moat db import PATH`"
                .into(),
        });
    }
    Database::open_read_only(path).map_err(|e| ScanError::Database {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

impl ScanPlan {
    fn apply_policy(&self, report: &mut ScanReport, findings: Vec<VulnFinding>) {
        let opts = &self.opts;
        let ignore = &self.ignore;
        let vex = &self.vex;
        if let Some(ig) = ignore {
            for r in &ig.expired {
                report.warnings.push(format!(
                    "{}: the ignore entry for {} expired on {} and no longer applies",
                    ig.source,
                    r.id,
                    r.expires.as_deref().unwrap_or("?")
                ));
            }
        }
        for f in findings {
            let paths = [f.path.as_str()];
            let fr = FindingRef {
                id: &f.id,
                aliases: &f.aliases,
                package_name: &f.package.name,
                source_name: f.package.source_name.as_deref(),
                purl: f.package.purl.as_str(),
                paths: &paths,
            };
            let suppression = ignore
                .as_ref()
                .and_then(|ig| ig.check(&fr))
                .or_else(|| vex.iter().find_map(|v| v.check(&fr)))
                .or_else(|| {
                    (opts.ignore_unfixed && f.fix_state != FixState::Fixed).then(|| Suppression {
                        kind: "ignore-unfixed".into(),
                        source: "--ignore-unfixed".into(),
                        reason: "no fixed version is known".into(),
                    })
                })
                .or_else(|| {
                    opts.severities
                        .as_ref()
                        .filter(|s| !s.contains(&f.severity))
                        .map(|_| Suppression {
                            kind: "severity".into(),
                            source: "--severity".into(),
                            reason: format!("severity {} is not selected", f.severity),
                        })
                });
            match suppression {
                Some(s) => report.ignored.push(IgnoredFinding {
                    finding: f,
                    suppressed_by: s,
                }),
                None => report.vulnerabilities.push(f),
            }
        }
    }
}

impl ScanPlan {
    /// Add the content scanners (secret, malware, file, integrity): their rules and the
    /// user's files are compiled and checked here, before the source is opened.
    pub fn with_content(mut self, opts: moat_content::ContentOptions) -> Result<Self, ScanError> {
        self.content = if opts.secret || opts.malware || opts.file || opts.integrity {
            Some(moat_content::Engine::new(opts)?)
        } else {
            None
        };
        Ok(self)
    }

    /// Whether a content finding survives `--severity` and the ignore file (rules match
    /// its rule id, its path and, for integrity, its package).
    pub(crate) fn keeps_content(&self, id: &str, sev: Severity, path: &str, package: &str) -> bool {
        if self
            .opts
            .severities
            .as_ref()
            .is_some_and(|s| !s.contains(&sev))
        {
            return false;
        }
        let paths = [path];
        let fr = FindingRef {
            id,
            aliases: &[],
            package_name: package,
            source_name: None,
            purl: "",
            paths: &paths,
        };
        self.ignore.as_ref().and_then(|ig| ig.check(&fr)).is_none()
    }
}
