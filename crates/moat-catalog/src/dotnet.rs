//! .NET: `*.deps.json` (the `libraries` of type `package`).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use serde_json::Value;

pub struct DepsJson;

pub fn parse_deps_json(s: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let libs = v
        .get("libraries")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // A library that a target lists without runtime, runtimeTargets or native assets
    // ships nothing (compile-time reference packages): skipped, as Trivy does.
    let targets: Vec<&serde_json::Map<String, Value>> = v
        .get("targets")
        .and_then(Value::as_object)
        .map(|t| t.values().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let ships = |key: &str| {
        let entries: Vec<&Value> = targets.iter().filter_map(|t| t.get(key)).collect();
        entries.is_empty()
            || entries.iter().any(|e| {
                ["runtime", "runtimeTargets", "native"]
                    .iter()
                    .any(|k| e.get(*k).is_some())
            })
    };
    let mut out: Vec<_> = libs
        .iter()
        .filter(|(_, l)| {
            matches!(
                l.get("type").and_then(Value::as_str),
                Some("package" | "project" | "runtimepack")
            )
        })
        .filter(|(k, _)| ships(k))
        .filter_map(|(k, _)| k.split_once('/'))
        // Self-contained apps list their bundled runtime as `runtimepack.NAME`.
        .map(|(n, v)| {
            (
                n.trim_start_matches("runtimepack.").to_string(),
                v.to_string(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

impl Cataloger for DepsJson {
    fn name(&self) -> &'static str {
        "dotnet-deps"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/*.deps.json"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_deps_json(&text(&data))? {
            found.packages.push(package(
                &n,
                &v,
                Ecosystem::Nuget,
                purl::simple("nuget", &n, &v),
                file,
            ));
        }
        Ok(())
    }
}

/// NuGet's `packages.lock.json`: every resolved package of every target framework,
/// with the packages each depends on.
pub struct PackagesLock;

/// (name, resolved version, dependency names) of a `packages.lock.json`; `Project`
/// entries (the solution's own projects) are left out.
pub type NugetLock = Vec<(String, String, Vec<String>)>;

pub fn parse_packages_lock(s: &str) -> Result<NugetLock, CatalogError> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(targets) = v.get("dependencies").and_then(Value::as_object) else {
        return Err("no `dependencies` object in a packages.lock.json".into());
    };
    let mut out: NugetLock = Vec::new();
    for pkgs in targets.values().filter_map(Value::as_object) {
        for (name, p) in pkgs {
            if p.get("type").and_then(Value::as_str) == Some("Project") {
                continue;
            }
            let Some(ver) = p.get("resolved").and_then(Value::as_str) else {
                continue;
            };
            let deps = p
                .get("dependencies")
                .and_then(Value::as_object)
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default();
            out.push((name.clone(), ver.to_string(), deps));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    Ok(out)
}

impl Cataloger for PackagesLock {
    fn name(&self) -> &'static str {
        "nuget-packages-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/packages.lock.json"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v, deps) in parse_packages_lock(&text(&data))? {
            let p = package(
                &n,
                &v,
                Ecosystem::Nuget,
                purl::simple("nuget", &n, &v),
                file,
            );
            for d in &deps {
                found
                    .deps
                    .push(crate::DepRef::of(&p, Ecosystem::Nuget, d, None));
            }
            found.packages.push(p);
        }
        Ok(())
    }
}
