//! conda: `conda-meta/*.json`, one file per package installed in an environment.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, license_list, package, text};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, PurlParts};
use serde_json::Value;

pub struct CondaMeta;

/// A conda package record: name, version, license, channel, build, subdir, depends.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CondaPackage {
    pub name: String,
    pub version: String,
    pub license: String,
    pub channel: String,
    pub build: String,
    pub subdir: String,
    /// Names of `depends` (`_libgcc_mutex 0.1 main` -> `_libgcc_mutex`).
    pub depends: Vec<String>,
}

pub fn parse_conda_meta(s: &str) -> Result<CondaPackage, CatalogError> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let str_of = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let p = CondaPackage {
        name: str_of("name"),
        version: str_of("version"),
        license: str_of("license"),
        channel: str_of("channel"),
        build: str_of("build"),
        subdir: str_of("subdir"),
        depends: v
            .get("depends")
            .and_then(Value::as_array)
            .map(|d| {
                d.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|d| d.split_whitespace().next())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    };
    if p.name.is_empty() || p.version.is_empty() {
        return Err("no name or no version in a conda-meta record".into());
    }
    Ok(p)
}

impl Cataloger for CondaMeta {
    fn name(&self) -> &'static str {
        "conda-meta"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/conda-meta/*.json"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let c = parse_conda_meta(&text(&data))?;
        let purl = PurlParts::new("conda", None, &c.name, Some(&c.version))
            .with_qualifier("build", &c.build)
            .with_qualifier("channel", &c.channel)
            .with_qualifier("subdir", &c.subdir)
            .build();
        let mut p = package(&c.name, &c.version, Ecosystem::Conda, purl, file);
        p.licenses = license_list(&c.license);
        for d in &c.depends {
            found
                .deps
                .push(crate::DepRef::of(&p, Ecosystem::Conda, d, None));
        }
        found.packages.push(p);
        Ok(())
    }
}
