//! Python: installed distributions (`*.dist-info/METADATA`, `*.egg-info`) and declared
//! dependencies (`requirements*.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, Package};

pub struct Installed;
pub struct Requirements;
pub struct PoetryLock;
pub struct PipfileLock;
pub struct UvLock;

/// Name, version and licenses from core metadata (`METADATA`, `PKG-INFO`).
pub fn parse_metadata(s: &str) -> Option<(String, String, Vec<String>)> {
    let (mut name, mut version) = (None, None);
    let (mut license, mut expr, mut classifiers) = (None, None, Vec::new());
    for line in s.lines() {
        if line.is_empty() {
            break; // the body (long description) starts here
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "Name" => name = Some(v.to_string()),
            "Version" => version = Some(v.to_string()),
            "License-Expression" => expr = Some(v.to_string()),
            "License" if !v.is_empty() && v.len() < 100 && v != "UNKNOWN" => {
                license = Some(v.to_string())
            }
            "Classifier" => {
                if let Some(l) = v.strip_prefix("License :: ") {
                    let l = l.rsplit(" :: ").next().unwrap_or(l);
                    if l != "OSI Approved" {
                        classifiers.push(l.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    let licenses = match (expr, license) {
        (Some(e), _) => vec![e],
        (None, Some(l)) => vec![l],
        (None, None) => classifiers,
    };
    Some((name?, version?, licenses))
}

/// The names of core metadata's `Requires-Dist` lines that apply without an extra
/// (`requests (>=2.0)`, `idna<4,>=2.5`, `chardet; python_version < "3"`; not
/// `pysocks; extra == "socks"`).
pub fn requires_dist(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in s.lines() {
        if line.is_empty() {
            break;
        }
        let Some(v) = line.strip_prefix("Requires-Dist:") else {
            continue;
        };
        let (req, marker) = v.split_once(';').unwrap_or((v, ""));
        if marker.contains("extra") {
            continue;
        }
        let name: String = req
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn pypi(name: &str, version: &str, file: &FileMeta) -> Package {
    package(
        name,
        version,
        Ecosystem::Pypi,
        purl::pypi(name, version),
        file,
    )
}

impl Cataloger for Installed {
    fn name(&self) -> &'static str {
        "python-installed"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&[
            "**/*.dist-info/METADATA",
            "**/*.egg-info/PKG-INFO",
            "**/*.egg-info",
        ])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let (name, version, licenses) =
            parse_metadata(&text(&data)).ok_or("no Name or no Version in Python core metadata")?;
        let mut p = pypi(&name, &version, file);
        p.licenses = licenses;
        for d in requires_dist(&text(&data)) {
            found
                .deps
                .push(crate::DepRef::of(&p, Ecosystem::Pypi, &d, None));
        }
        found.packages.push(p);
        Ok(())
    }
}

/// `name==version` pins of a requirements file (ranges name no single version: skipped).
pub fn parse_requirements(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in s.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('#') || line.starts_with('-') || line.is_empty() {
            continue;
        }
        let line = line.split(';').next().unwrap_or("").trim();
        let Some((name, ver)) = line.split_once("==") else {
            continue;
        };
        let ver = ver.trim_start_matches('=').trim();
        let ver = ver.split([',', ' ', '\\']).next().unwrap_or("").trim();
        let name = name.split('[').next().unwrap_or("").trim();
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        let ver_ok = !ver.is_empty()
            && ver.bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'+' | b'!')
            });
        if !name_ok || !ver_ok {
            continue; // templating, URLs, wildcards: not a pin
        }
        out.push((name.to_string(), ver.to_string()));
    }
    out
}

impl Cataloger for Requirements {
    fn name(&self) -> &'static str {
        "python-requirements"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/*requirements*.txt"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_requirements(&text(&data)) {
            found.packages.push(pypi(&n, &v, file));
        }
        Ok(())
    }
}

#[derive(serde::Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPkg>,
}
#[derive(serde::Deserialize)]
struct TomlPkg {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Value>,
}

/// `[[package]]` name/version pairs of `poetry.lock` or `uv.lock`. uv's project itself
/// (an editable or virtual source) is not a dependency and is skipped.
pub fn parse_toml_lock(s: &str, skip_local: bool) -> Result<Vec<(String, String)>, CatalogError> {
    let lock: TomlLock = toml::from_str(s).map_err(|e| e.to_string())?;
    Ok(lock
        .package
        .into_iter()
        .filter(|p| {
            !(skip_local
                && p.source
                    .as_ref()
                    .is_some_and(|s| s.get("editable").is_some() || s.get("virtual").is_some()))
        })
        .filter_map(|p| Some((p.name, p.version?)))
        .collect())
}

impl Cataloger for PoetryLock {
    fn name(&self) -> &'static str {
        "python-poetry-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/poetry.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_toml_lock(&text(&data), false)? {
            found.packages.push(pypi(&n, &v, file));
        }
        Ok(())
    }
}

impl Cataloger for UvLock {
    fn name(&self) -> &'static str {
        "python-uv-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/uv.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_toml_lock(&text(&data), false)? {
            found.packages.push(pypi(&n, &v, file));
        }
        Ok(())
    }
}

/// `default` and `develop` sections of a `Pipfile.lock` (`"version": "==1.2.3"`).
pub fn parse_pipfile_lock(s: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for sec in ["default", "develop"] {
        if let Some(m) = v.get(sec).and_then(|m| m.as_object()) {
            for (name, d) in m {
                if let Some(ver) = d.get("version").and_then(|x| x.as_str()) {
                    out.push((name.clone(), ver.trim_start_matches('=').to_string()));
                }
            }
        }
    }
    Ok(out)
}

impl Cataloger for PipfileLock {
    fn name(&self) -> &'static str {
        "python-pipfile-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/Pipfile.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_pipfile_lock(&text(&data))? {
            found.packages.push(pypi(&n, &v, file));
        }
        Ok(())
    }
}
