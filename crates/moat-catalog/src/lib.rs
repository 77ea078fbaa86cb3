//! Catalogers: every OS and language package found in an image or a source tree.
//!
//! A catalog run walks the [`FileResolver`] once, hands each file to the catalogers
//! whose patterns it matches ([`Cataloger`]), and returns one sorted, de-duplicated
//! [`Inventory`]. A file that cannot be parsed becomes an [`Unknown`] with the reason;
//! the run goes on. Language packages whose metadata file is owned by an OS package
//! (dpkg `info/*.list`, apk `R:` lines, rpm file lists) are dropped: the OS package
//! already accounts for them.
//!
//! Two modes, as syft and Trivy do it:
//! - [`Mode::Image`]: installed packages (OS databases, `*.dist-info`, `node_modules`,
//!   binaries, archives, gemspecs, `installed.json`, `*.deps.json`) and `Cargo.lock`
//!   (Rust leaves no other trace of what went into a binary without cargo-auditable).
//! - [`Mode::Directory`]: all of the above plus declared dependencies from lockfiles and
//!   manifests (`package-lock.json`, `yarn.lock`, `poetry.lock`, `go.mod`, `pom.xml`, ...).

#![forbid(unsafe_code)]

/// The version of what the catalogers find. Cached inventories (moat-scan keys them by
/// the image's layer chain) are reused only under the same value: bump it in the same
/// commit as any change that makes a cataloger find, name, version or locate a package
/// differently (a new cataloger, a parser fix, a new field), never for refactors.
pub const CATALOG_VERSION: u32 = 5;

pub mod apk;
pub mod binary;
pub mod classify;
pub mod conda;
mod copies;
pub mod distro;
pub mod dotnet;
pub mod dpkg;
pub mod golang;
pub mod gradle;
pub mod java;
pub mod node;
pub mod php;
pub mod purl;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod rust;
pub mod sbom;

use moat_fs::{FileKind, FileMeta, FileResolver};
use moat_model::{Distro, Ecosystem, Inventory, Location, Package, Purl, Unknown};
use std::collections::{BTreeSet, HashMap, HashSet};

pub use moat_model::Inventory as Catalog;

/// Which catalogers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// An image or a root filesystem: installed packages.
    #[default]
    Image,
    /// A source tree: installed packages plus declared dependencies (lockfiles).
    Directory,
}

/// Options of a catalog run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub mode: Mode,
    /// Budgets that bound what a hostile image can make the catalog read and hold.
    pub limits: Limits,
}

/// Largest metadata file read whole (a dpkg status of a big image is a few MB).
pub const MAX_METADATA: u64 = 64 << 20;
/// Largest binary or archive inspected.
pub const MAX_BINARY: u64 = 512 << 20;

/// Budgets of one catalog run (issue 12). Each exceeded budget skips one file, which
/// becomes an [`Unknown`] naming the file and the budget; the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes read from one metadata file (package DBs, lockfiles, manifests, gemspecs,
    /// `installed.json`, `*.deps.json`, dpkg `.list` files).
    pub max_file_bytes: u64,
    /// Bytes read from one binary, archive (jar/war/ear) or rpm database.
    pub max_binary_bytes: u64,
    /// Bytes read by the whole run, every file together.
    pub max_total_bytes: u64,
    /// Bytes of one line of a line-oriented database (apk `installed`).
    pub max_line_bytes: usize,
    /// Entries in one zip archive's central directory (jar/war/ear, nested included).
    pub max_zip_entries: usize,
    /// Bytes inflated from one archive, its nested archives included.
    pub max_zip_inflated: u64,
    /// Largest inflated/compressed ratio of one zip entry that is read.
    pub max_zip_ratio: u64,
    /// Rows read from one SQLite rpm database.
    pub max_sqlite_rows: usize,
    /// SQLite virtual-machine steps (in thousands) for one rpm database query.
    pub max_sqlite_kilosteps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: MAX_METADATA,
            max_binary_bytes: MAX_BINARY,
            max_total_bytes: 16 << 30,
            max_line_bytes: 64 << 10,
            max_zip_entries: 65_536,
            max_zip_inflated: 512 << 20,
            max_zip_ratio: 1_000,
            max_sqlite_rows: 1_000_000,
            max_sqlite_kilosteps: 2_000_000,
        }
    }
}

/// Why a file could not be cataloged (it becomes an [`Unknown`] with this message).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A budget of [`Limits`] was exceeded; `budget` names the field.
    #[error("{what}: over the {limit}-byte budget ({budget}), skipped")]
    OverBudget {
        what: String,
        limit: u64,
        budget: &'static str,
    },
    /// A count budget of [`Limits`] was exceeded.
    #[error("{what}: over the budget of {limit} ({budget}), skipped")]
    OverCount {
        what: String,
        limit: u64,
        budget: &'static str,
    },
    #[error(transparent)]
    Fs(#[from] moat_fs::FsError),
    /// A host file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A binary without Go build information.
    #[error("no Go build information ({0})")]
    NotGo(String),
    /// The file is not what its name says, or is corrupt.
    #[error("{0}")]
    Malformed(String),
}

impl From<String> for CatalogError {
    fn from(s: String) -> Self {
        CatalogError::Malformed(s)
    }
}

impl From<&str> for CatalogError {
    fn from(s: &str) -> Self {
        CatalogError::Malformed(s.to_string())
    }
}

/// What a cataloger looks at.
pub enum Selector {
    /// Paths matching any of these globs (`*` does not cross `/`).
    Globs(&'static [&'static str]),
    /// Regular, executable files (ELF binaries are checked by content).
    Executables,
}

/// The context a cataloger parses in.
pub struct Ctx<'a> {
    pub resolver: &'a dyn FileResolver,
    pub distro: Option<&'a Distro>,
    pub limits: Limits,
    /// Bytes read so far by this run (against [`Limits::max_total_bytes`]).
    read_total: std::cell::Cell<u64>,
}

impl<'a> Ctx<'a> {
    /// A context with the default budgets.
    pub fn new(resolver: &'a dyn FileResolver, distro: Option<&'a Distro>) -> Self {
        Ctx::with_limits(resolver, distro, Limits::default())
    }

    pub fn with_limits(
        resolver: &'a dyn FileResolver,
        distro: Option<&'a Distro>,
        limits: Limits,
    ) -> Self {
        Ctx {
            resolver,
            distro,
            limits,
            read_total: std::cell::Cell::new(0),
        }
    }

    /// Count `n` bytes read outside [`Ctx::read`] against the total budget.
    pub fn count_read(&self, n: u64) {
        self.read_total.set(self.read_total.get().saturating_add(n));
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read_total.get()
    }

    /// Read a whole file of at most `limit` bytes (`budget` names the limit in the
    /// error), counted against the run's total budget.
    pub fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, CatalogError> {
        self.read_budget(path, limit, "max_file_bytes")
    }

    fn read_budget(
        &self,
        path: &str,
        limit: u64,
        budget: &'static str,
    ) -> Result<Vec<u8>, CatalogError> {
        let left = self
            .limits
            .max_total_bytes
            .saturating_sub(self.read_total.get());
        let (cap, cap_budget) = if left < limit {
            (left, "max_total_bytes")
        } else {
            (limit, budget)
        };
        match self.resolver.read_limited(path, cap) {
            Ok(b) => {
                self.read_total.set(self.read_total.get() + b.len() as u64);
                Ok(b)
            }
            Err(e) if e.kind == moat_fs::FsErrorKind::TooLarge => {
                self.read_total.set(self.read_total.get() + cap);
                Err(CatalogError::OverBudget {
                    what: path.to_string(),
                    limit: if cap_budget == "max_total_bytes" {
                        self.limits.max_total_bytes
                    } else {
                        cap
                    },
                    budget: cap_budget,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Read a metadata file whole, within [`Limits::max_file_bytes`].
    pub fn read_meta(&self, file: &FileMeta) -> Result<Vec<u8>, CatalogError> {
        self.check_size(file, self.limits.max_file_bytes, "max_file_bytes")?;
        self.read_budget(&file.path, self.limits.max_file_bytes, "max_file_bytes")
    }

    /// Read a binary, archive or database whole, within [`Limits::max_binary_bytes`].
    pub fn read_binary(&self, file: &FileMeta) -> Result<Vec<u8>, CatalogError> {
        self.check_size(file, self.limits.max_binary_bytes, "max_binary_bytes")?;
        self.read_budget(&file.path, self.limits.max_binary_bytes, "max_binary_bytes")
    }

    /// Refuse, before reading, a file whose listed size is over `limit`.
    pub fn check_size(
        &self,
        file: &FileMeta,
        limit: u64,
        budget: &'static str,
    ) -> Result<(), CatalogError> {
        if file.size > limit {
            return Err(CatalogError::OverBudget {
                what: format!("{} ({} bytes)", file.path, file.size),
                limit,
                budget,
            });
        }
        Ok(())
    }
}

/// What one cataloger call found.
#[derive(Debug, Default)]
pub struct Found {
    pub packages: Vec<Package>,
    /// Files owned by an OS package (absolute paths).
    pub owned_files: Vec<String>,
    /// Problems inside a file that did not stop the cataloger (one entry each).
    pub unknowns: Vec<Unknown>,
    /// Dependencies read from metadata, resolved to packages when the run ends.
    pub deps: Vec<DepRef>,
    /// Other names a package answers to (dpkg `Provides`, apk `p:`, rpm provides).
    pub provides: Vec<(Ecosystem, String, Purl)>,
    /// pom.xml files read, resolved against their parents when the run ends.
    pub(crate) poms: Vec<java::Pom>,
}

/// One dependency a cataloger read (`from` depends on a package of `ecosystem` named
/// `name`), resolved to a package of the inventory when the run ends: among the
/// packages of that name (and `version`, when given), or failing that the packages
/// that provide the name, the one whose location is nearest `near` (most leading path
/// components in common, then the shallowest: node's `node_modules` lookup, one
/// `site-packages`, one `Cargo.lock`). A dependency nothing satisfies is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepRef {
    pub from: Purl,
    pub near: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: Option<String>,
}

impl DepRef {
    /// A dependency of `p` (found at its first location) on `name`.
    pub fn of(p: &Package, ecosystem: Ecosystem, name: &str, version: Option<&str>) -> DepRef {
        DepRef {
            from: p.purl.clone(),
            near: p
                .locations
                .first()
                .map(|l| l.path.clone())
                .unwrap_or_default(),
            ecosystem,
            name: name.to_string(),
            version: version.map(str::to_string),
        }
    }
}

/// The name under which dependencies look a package up (PyPI names are normalised).
fn dep_key(eco: Ecosystem, name: &str) -> (Ecosystem, String) {
    match eco {
        Ecosystem::Pypi => (eco, name.to_ascii_lowercase().replace(['_', '.'], "-")),
        _ => (eco, name.to_string()),
    }
}

/// Resolve the dependencies read to edges between the inventory's packages.
fn resolve_deps(
    packages: &[Package],
    deps: &[DepRef],
    provides: &[(Ecosystem, String, Purl)],
) -> Vec<moat_model::Dependency> {
    if deps.is_empty() {
        return Vec::new();
    }
    let mut by_name: HashMap<(Ecosystem, String), Vec<&Package>> = HashMap::new();
    let mut by_purl: HashMap<&str, &Package> = HashMap::new();
    for p in packages {
        by_name
            .entry(dep_key(p.ecosystem, &p.name))
            .or_default()
            .push(p);
        by_purl.entry(p.purl.as_str()).or_insert(p);
    }
    let mut by_provide: HashMap<(Ecosystem, String), Vec<&Package>> = HashMap::new();
    for (eco, name, purl) in provides {
        if let Some(p) = by_purl.get(purl.as_str()) {
            by_provide.entry(dep_key(*eco, name)).or_default().push(p);
        }
    }
    let components = |s: &str| s.split('/').filter(|c| !c.is_empty()).count();
    let common = |a: &str, b: &str| {
        a.split('/')
            .filter(|c| !c.is_empty())
            .zip(b.split('/').filter(|c| !c.is_empty()))
            .take_while(|(x, y)| x == y)
            .count()
    };
    let mut edges = Vec::new();
    for d in deps {
        if !by_purl.contains_key(d.from.as_str()) {
            continue;
        }
        let key = dep_key(d.ecosystem, &d.name);
        let pick = |cands: &[&Package]| -> Option<Purl> {
            cands
                .iter()
                .filter(|p| d.version.as_deref().is_none_or(|v| p.version == v))
                .map(|p| {
                    let path = p.locations.first().map(|l| l.path.as_str()).unwrap_or("");
                    (
                        std::cmp::Reverse(common(path, &d.near)),
                        components(path),
                        *p,
                    )
                })
                .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))
                .map(|(_, _, p)| p.purl.clone())
        };
        let to = by_name
            .get(&key)
            .and_then(|c| pick(c))
            .or_else(|| by_provide.get(&key).and_then(|c| pick(c)));
        if let Some(to) = to {
            edges.push((d.from.clone(), to));
        }
    }
    moat_model::graph::normalize(edges)
}

/// One cataloger: a name, the files it wants, and a parser.
pub trait Cataloger: Sync {
    /// Stable name, recorded in `Package::found_by` (`dpkg-db`, `python-installed`).
    fn name(&self) -> &'static str;
    fn selector(&self) -> Selector;
    /// Parse one selected file. An `Err` is the reason the file became an unknown.
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError>;
    /// Whether what `parse` finds depends only on the file's bytes (not on its path or
    /// on other files): copies of one content (hard links) are then parsed once.
    fn content_only(&self) -> bool {
        true
    }
    /// Whether what `parse` finds also depends on the file's name (a jar without
    /// `pom.properties` is named after its file): copies are then one content only
    /// under the same name.
    fn name_matters(&self) -> bool {
        false
    }
}

/// The catalogers run in `mode`.
pub fn catalogers(mode: Mode) -> Vec<&'static dyn Cataloger> {
    let mut v: Vec<&'static dyn Cataloger> = vec![
        &dpkg::DpkgStatus,
        &dpkg::DpkgStatusD,
        &apk::ApkInstalled,
        &rpm::RpmDb,
        &python::Installed,
        &node::Installed,
        &rust::CargoLock,
        &binary::Binaries,
        &classify::Classifiers,
        &java::Archives,
        &ruby::Gemspecs,
        &php::Installed,
        &dotnet::DepsJson,
        &conda::CondaMeta,
    ];
    if mode == Mode::Directory {
        v.extend([
            &node::PackageLock as &'static dyn Cataloger,
            &node::YarnLock,
            &node::PnpmLock,
            &python::Requirements,
            &python::PoetryLock,
            &python::PipfileLock,
            &python::UvLock,
            &golang::GoMod,
            &ruby::GemfileLock,
            &php::ComposerLock,
            &java::PomXml,
            &gradle::GradleLock,
            &dotnet::PackagesLock,
        ]);
    }
    v
}

/// Catalog everything `resolver` holds.
pub fn catalog(resolver: &dyn FileResolver, opts: &Options) -> Inventory {
    let distro = distro::detect(resolver);
    let cats = catalogers(opts.mode);
    let ctx = Ctx::with_limits(resolver, distro.as_ref(), opts.limits);

    // One glob set over every pattern; `owner[i]` is the cataloger of pattern i.
    let mut b = globset::GlobSetBuilder::new();
    let mut owner = Vec::new();
    let mut exec_cats = Vec::new();
    for (ci, c) in cats.iter().enumerate() {
        match c.selector() {
            Selector::Globs(globs) => {
                for g in globs {
                    // The patterns are ours and tested; a bad one is skipped, not fatal.
                    if let Ok(glob) = globset::GlobBuilder::new(g).literal_separator(true).build() {
                        b.add(glob);
                        owner.push(ci);
                    }
                }
            }
            Selector::Executables => exec_cats.push(ci),
        }
    }
    let set = b.build().unwrap_or_else(|_| globset::GlobSet::empty());

    let mut found = Found::default();
    let mut copies = copies::Copies::default();
    let mut hits = Vec::new();
    for meta in resolver.entries() {
        if meta.kind != FileKind::File {
            continue;
        }
        set.matches_into(meta.path.as_str(), &mut hits);
        let mut seen = BTreeSet::new();
        for &h in &hits {
            if let Some(&ci) = owner.get(h) {
                seen.insert(ci);
            }
        }
        if meta.mode & 0o111 != 0 && meta.size >= 1024 {
            seen.extend(exec_cats.iter().copied());
        }
        for ci in seen {
            let Some(c) = cats.get(ci) else { continue };
            // Each distinct content is parsed once: a copy (a hard link) of a file
            // already parsed by this cataloger adds its location to what was found.
            let key = if c.content_only() {
                copies::key(&ctx, &meta, ci, c.name_matters())
            } else {
                None
            };
            if let Some(k) = &key
                && copies.add_copy(k, &meta, &mut found)
            {
                continue;
            }
            let before = (found.packages.len(), found.unknowns.len());
            if let Err(err) = c.parse(&ctx, &meta, &mut found) {
                found.unknowns.push(Unknown {
                    location: location(&meta),
                    reason: format!("{}: {err}", c.name()),
                });
            }
            for p in &mut found.packages[before.0..] {
                if p.found_by.is_empty() {
                    p.found_by = c.name().to_string();
                }
            }
            if let Some(k) = key {
                copies.record(k, &meta, before, &found);
            }
        }
    }

    finish(distro, found)
}

/// Drop language packages owned by OS packages, sort and de-duplicate.
pub(crate) fn finish(distro: Option<Distro>, mut found: Found) -> Inventory {
    java::resolve_poms(&mut found);
    let owned: HashSet<&str> = found.owned_files.iter().map(String::as_str).collect();
    let is_owned = |p: &Package| {
        !p.ecosystem.is_os()
            && p.locations.iter().all(|l| {
                owned.contains(l.path.as_str())
                    || owned.contains(moat_fs::parent(&l.path))
                        && (l.path.contains(".egg-info") || l.path.contains(".dist-info"))
            })
            && !p.locations.is_empty()
    };
    let mut packages: Vec<Package> = found
        .packages
        .iter()
        .filter(|p| !is_owned(p))
        .cloned()
        .collect();
    for p in &mut packages {
        p.locations.sort();
        p.locations.dedup();
        p.licenses.sort();
        p.licenses.dedup();
    }
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.purl, &a.locations).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.purl,
            &b.locations,
        ))
    });
    packages.dedup_by(|a, b| a.purl == b.purl && a.locations == b.locations);
    let mut unknowns = found.unknowns;
    unknowns.sort();
    unknowns.dedup();
    Inventory {
        distro,
        dependencies: resolve_deps(&packages, &found.deps, &found.provides),
        packages,
        unknowns,
    }
}

/// The location of a file.
pub fn location(meta: &FileMeta) -> Location {
    Location {
        path: meta.path.clone(),
        layer: meta.layer.clone(),
    }
}

/// A package with the common fields set.
pub(crate) fn package(
    name: &str,
    version: &str,
    ecosystem: Ecosystem,
    purl: moat_model::Purl,
    meta: &FileMeta,
) -> Package {
    Package {
        name: name.to_string(),
        version: version.to_string(),
        ecosystem,
        purl,
        source_name: None,
        source_version: None,
        locations: vec![location(meta)],
        licenses: Vec::new(),
        found_by: String::new(),
        cpes: Vec::new(),
    }
}

/// Parse bytes as UTF-8 text (lossy only for invalid bytes: metadata is still usable).
pub(crate) fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Split a license declaration into entries (trimmed, non-empty).
pub(crate) fn license_list(s: &str) -> Vec<String> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("unknown") || s.eq_ignore_ascii_case("none") {
        Vec::new()
    } else {
        vec![s.to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_fs::MemResolver;

    #[test]
    fn corrupt_file_becomes_unknown_and_scan_goes_on() {
        let r = MemResolver::new()
            .file(
                "/usr/lib/python3/site-packages/a-1.0.dist-info/METADATA",
                "Metadata-Version: 2.1\nName: a\nVersion: 1.0\n",
            )
            .file("/app/node_modules/x/package.json", "{not json");
        let inv = catalog(&r, &Options::default());
        assert_eq!(inv.packages.len(), 1);
        assert_eq!(inv.packages[0].purl, "pkg:pypi/a@1.0");
        assert_eq!(inv.unknowns.len(), 1);
        assert_eq!(
            inv.unknowns[0].location.path,
            "/app/node_modules/x/package.json"
        );
        assert!(inv.unknowns[0].reason.starts_with("npm-installed: "));
    }

    #[test]
    fn os_owned_python_package_is_not_duplicated() {
        let status = "Package: python3-six\nStatus: install ok installed\nArchitecture: all\nVersion: 1.16.0-4\n\n";
        let r = MemResolver::new()
            .file("/var/lib/dpkg/status", status)
            .file(
                "/var/lib/dpkg/info/python3-six.list",
                "/usr/lib/python3/dist-packages/six-1.16.0.dist-info\n/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA\n",
            )
            .file(
                "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                "Name: six\nVersion: 1.16.0\n",
            )
            .file(
                "/usr/local/lib/python3.11/dist-packages/six-1.15.0.dist-info/METADATA",
                "Name: six\nVersion: 1.15.0\n",
            );
        let inv = catalog(&r, &Options::default());
        let names: Vec<_> = inv
            .packages
            .iter()
            .map(|p| format!("{}:{}@{}", p.ecosystem, p.name, p.version))
            .collect();
        assert_eq!(names, ["deb:python3-six@1.16.0-4", "pypi:six@1.15.0"]);
    }

    fn package_json(name: &str, pad: usize) -> String {
        format!(
            "{{\"name\": \"{name}\", \"version\": \"1.0.0\", \"description\": \"{}\"}}",
            "x".repeat(pad)
        )
    }

    #[test]
    fn a_file_over_the_per_file_budget_is_an_unknown_naming_it_and_the_budget() {
        let r = MemResolver::new()
            .file("/app/node_modules/a/package.json", package_json("a", 10))
            .file("/app/node_modules/b/package.json", package_json("b", 5000));
        let opts = Options {
            limits: Limits {
                max_file_bytes: 1000,
                ..Limits::default()
            },
            ..Options::default()
        };
        let inv = catalog(&r, &opts);
        let names: Vec<&str> = inv.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(inv.unknowns.len(), 1);
        assert_eq!(
            inv.unknowns[0].location.path,
            "/app/node_modules/b/package.json"
        );
        assert!(
            inv.unknowns[0]
                .reason
                .contains("1000-byte budget (max_file_bytes)"),
            "{}",
            inv.unknowns[0].reason
        );
    }

    #[test]
    fn the_run_stops_reading_at_the_total_budget() {
        let mut r = MemResolver::new();
        for i in 0..10 {
            r = r.file(
                &format!("/app/node_modules/p{i}/package.json"),
                package_json(&format!("p{i}"), 100),
            );
        }
        let opts = Options {
            limits: Limits {
                max_total_bytes: 500,
                ..Limits::default()
            },
            ..Options::default()
        };
        let inv = catalog(&r, &opts);
        // Each file is about 160 bytes: three fit, the rest are unknowns.
        assert_eq!(inv.packages.len(), 3, "{:?}", inv.packages);
        assert_eq!(inv.unknowns.len(), 7);
        assert!(
            inv.unknowns
                .iter()
                .all(|u| u.reason.contains("max_total_bytes"))
        );
    }

    #[test]
    fn one_package_installed_at_two_paths_keeps_both_locations() {
        // Same name and version, different package.json contents (npm adds fields).
        let r = MemResolver::new()
            .file(
                "/a/node_modules/ms/package.json",
                r#"{"name":"ms","version":"2.0.0"}"#,
            )
            .file(
                "/b/node_modules/ms/package.json",
                r#"{"name":"ms","version":"2.0.0","_where":"/b"}"#,
            );
        let inv = catalog(&r, &Options::default());
        let locs: Vec<&str> = inv
            .packages
            .iter()
            .flat_map(|p| p.locations.iter().map(|l| l.path.as_str()))
            .collect();
        assert_eq!(
            locs,
            [
                "/a/node_modules/ms/package.json",
                "/b/node_modules/ms/package.json"
            ]
        );
    }

    #[test]
    fn node_dependencies_resolve_to_the_nearest_node_modules() {
        let pj = |n: &str, v: &str, deps: &[&str]| {
            let d: Vec<String> = deps.iter().map(|d| format!("\"{d}\": \"*\"")).collect();
            format!(
                "{{\"name\":\"{n}\",\"version\":\"{v}\",\"dependencies\":{{{}}}}}",
                d.join(",")
            )
        };
        let r = MemResolver::new()
            .file(
                "/app/node_modules/express/package.json",
                pj("express", "4.16.0", &["statuses", "debug"]),
            )
            .file(
                "/app/node_modules/statuses/package.json",
                pj("statuses", "1.4.0", &[]),
            )
            .file(
                "/app/node_modules/debug/package.json",
                pj("debug", "2.6.9", &["ms"]),
            )
            .file("/app/node_modules/ms/package.json", pj("ms", "2.0.0", &[]))
            .file(
                "/app/node_modules/http-errors/package.json",
                pj("http-errors", "1.6.2", &["statuses"]),
            )
            .file(
                "/app/node_modules/http-errors/node_modules/statuses/package.json",
                pj("statuses", "1.3.1", &[]),
            );
        let inv = catalog(&r, &Options::default());
        let edges: Vec<String> = inv
            .dependencies
            .iter()
            .flat_map(|d| {
                d.depends_on
                    .iter()
                    .map(move |t| format!("{} -> {}", d.package, t))
            })
            .collect();
        assert_eq!(
            edges,
            [
                "pkg:npm/debug@2.6.9 -> pkg:npm/ms@2.0.0",
                "pkg:npm/express@4.16.0 -> pkg:npm/debug@2.6.9",
                "pkg:npm/express@4.16.0 -> pkg:npm/statuses@1.4.0",
                "pkg:npm/http-errors@1.6.2 -> pkg:npm/statuses@1.3.1",
            ]
        );
        let g = moat_model::graph::Graph::new(&inv.dependencies);
        assert_eq!(
            g.path_to("pkg:npm/ms@2.0.0"),
            Some(vec![
                "pkg:npm/express@4.16.0".to_string(),
                "pkg:npm/debug@2.6.9".to_string(),
                "pkg:npm/ms@2.0.0".to_string()
            ])
        );
    }

    #[test]
    fn dpkg_and_apk_dependencies_resolve_by_name_and_provides() {
        let status = "Package: a\nStatus: install ok installed\nVersion: 1\nDepends: b (>= 1), mail-transport-agent | exim4, gone\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n\nPackage: postfix\nStatus: install ok installed\nVersion: 3\nProvides: mail-transport-agent\n\n";
        let r = MemResolver::new().file("/var/lib/dpkg/status", status);
        let inv = catalog(&r, &Options::default());
        let d: Vec<(String, Vec<String>)> = inv
            .dependencies
            .iter()
            .map(|d| {
                (
                    d.package
                        .as_str()
                        .split('?')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    d.depends_on
                        .iter()
                        .map(|t| t.as_str().split('?').next().unwrap_or("").to_string())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            d,
            [(
                "pkg:deb/debian/a@1".to_string(),
                vec![
                    "pkg:deb/debian/b@2".to_string(),
                    "pkg:deb/debian/postfix@3".to_string()
                ]
            )]
        );
        let apk = "P:musl\nV:1.2.4-r2\nA:x86_64\np:so:libc.musl-x86_64.so.1=1\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nD:so:libc.musl-x86_64.so.1 !busybox-extras\n\n";
        let r = MemResolver::new().file("/lib/apk/db/installed", apk);
        let inv = catalog(&r, &Options::default());
        assert_eq!(inv.dependencies.len(), 1);
        assert!(inv.dependencies[0].package.contains("busybox"));
        assert!(inv.dependencies[0].depends_on[0].contains("musl"));
    }

    #[test]
    fn copies_of_one_content_are_parsed_once_and_listed_at_each_path() {
        let body = package_json("same", 5000);
        let r = MemResolver::new()
            .file("/a/node_modules/same/package.json", body.clone())
            .file("/b/node_modules/same/package.json", body.clone())
            .file("/c/node_modules/same/package.json", body);
        let ctx_limits = Limits::default();
        let inv = catalog(&r, &Options::default());
        assert_eq!(inv.packages.len(), 1, "{:?}", inv.packages);
        let paths: Vec<&str> = inv.packages[0]
            .locations
            .iter()
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "/a/node_modules/same/package.json",
                "/b/node_modules/same/package.json",
                "/c/node_modules/same/package.json"
            ]
        );
        // Read once whole, plus the 64 KiB heads that recognise the copies.
        let ctx = Ctx::with_limits(&r, None, ctx_limits);
        let meta = r.lstat("/a/node_modules/same/package.json").unwrap();
        let k1 = copies::key(&ctx, &meta, 0, false);
        assert!(k1.is_some());
        assert_eq!(ctx.bytes_read(), meta.size);
    }
}
