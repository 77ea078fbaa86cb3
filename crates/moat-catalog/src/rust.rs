//! Rust: `Cargo.lock` (every `[[package]]`, the workspace's own crates included, as
//! syft and Trivy list them).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;

pub struct CargoLock;

#[derive(serde::Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Pkg>,
}
#[derive(serde::Deserialize)]
struct Pkg {
    name: String,
    version: String,
    #[serde(default)]
    dependencies: Vec<String>,
}

pub fn parse_cargo_lock(s: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let mut v: Vec<_> = parse_cargo_lock_graph(s)?
        .into_iter()
        .map(|(n, v, _)| (n, v))
        .collect();
    v.dedup();
    Ok(v)
}

/// Each package with its dependencies: (name, version when the lockfile names one,
/// as it does when two versions of a crate are locked).
pub type CargoDeps = Vec<(String, Option<String>)>;

/// (name, version, dependencies) of each `[[package]]`, sorted.
pub fn parse_cargo_lock_graph(s: &str) -> Result<Vec<(String, String, CargoDeps)>, CatalogError> {
    let lock: Lock = toml::from_str(s).map_err(|e| e.to_string())?;
    let mut v: Vec<_> = lock
        .package
        .into_iter()
        .map(|p| {
            let deps = p
                .dependencies
                .iter()
                .filter_map(|d| {
                    let mut w = d.split_whitespace();
                    let n = w.next()?.to_string();
                    Some((n, w.next().map(str::to_string)))
                })
                .collect();
            (p.name, p.version, deps)
        })
        .collect();
    v.sort();
    v.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    Ok(v)
}

impl Cataloger for CargoLock {
    fn name(&self) -> &'static str {
        "rust-cargo-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/Cargo.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v, deps) in parse_cargo_lock_graph(&text(&data))? {
            let p = package(
                &n,
                &v,
                Ecosystem::Cargo,
                purl::simple("cargo", &n, &v),
                file,
            );
            for (dn, dv) in &deps {
                found
                    .deps
                    .push(crate::DepRef::of(&p, Ecosystem::Cargo, dn, dv.as_deref()));
            }
            found.packages.push(p);
        }
        Ok(())
    }
}
