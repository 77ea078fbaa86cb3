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
}

pub fn parse_cargo_lock(s: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let lock: Lock = toml::from_str(s).map_err(|e| e.to_string())?;
    let mut v: Vec<_> = lock
        .package
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect();
    v.sort();
    v.dedup();
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
        for (n, v) in parse_cargo_lock(&text(&data))? {
            found.packages.push(package(
                &n,
                &v,
                Ecosystem::Cargo,
                purl::simple("cargo", &n, &v),
                file,
            ));
        }
        Ok(())
    }
}
