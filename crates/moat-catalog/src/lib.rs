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
pub const CATALOG_VERSION: u32 = 2;

pub mod apk;
pub mod binary;
pub mod distro;
pub mod dotnet;
pub mod dpkg;
pub mod golang;
pub mod java;
pub mod node;
pub mod php;
pub mod purl;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod rust;

use moat_fs::{FileKind, FileMeta, FileResolver};
use moat_model::{Distro, Ecosystem, Inventory, Location, Package, Unknown};
use std::collections::{BTreeSet, HashSet};

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
}

/// Largest metadata file read whole (a dpkg status of a big image is a few MB).
pub const MAX_METADATA: u64 = 64 << 20;
/// Largest binary or archive inspected.
pub const MAX_BINARY: u64 = 512 << 20;

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
}

impl Ctx<'_> {
    /// Read a whole file, as a one-line reason on failure.
    pub fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        self.resolver
            .read_limited(path, limit)
            .map_err(|e| e.to_string())
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
}

/// One cataloger: a name, the files it wants, and a parser.
pub trait Cataloger: Sync {
    /// Stable name, recorded in `Package::found_by` (`dpkg-db`, `python-installed`).
    fn name(&self) -> &'static str;
    fn selector(&self) -> Selector;
    /// Parse one selected file. An `Err` is the reason the file became an unknown.
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), String>;
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
        &java::Archives,
        &ruby::Gemspecs,
        &php::Installed,
        &dotnet::DepsJson,
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
        ]);
    }
    v
}

/// Catalog everything `resolver` holds.
pub fn catalog(resolver: &dyn FileResolver, opts: &Options) -> Inventory {
    let distro = distro::detect(resolver);
    let cats = catalogers(opts.mode);
    let ctx = Ctx {
        resolver,
        distro: distro.as_ref(),
    };

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
            let before = found.packages.len();
            if let Err(reason) = c.parse(&ctx, &meta, &mut found) {
                found.unknowns.push(Unknown {
                    location: location(&meta),
                    reason: format!("{}: {reason}", c.name()),
                });
            }
            for p in &mut found.packages[before..] {
                if p.found_by.is_empty() {
                    p.found_by = c.name().to_string();
                }
            }
        }
    }

    finish(distro, found)
}

/// Drop language packages owned by OS packages, sort and de-duplicate.
fn finish(distro: Option<Distro>, found: Found) -> Inventory {
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
    purl: String,
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
}
