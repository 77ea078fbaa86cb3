//! .NET: `*.deps.json` (the `libraries` of type `package`).

use crate::{Cataloger, Ctx, Found, MAX_METADATA, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use serde_json::Value;

pub struct DepsJson;

pub fn parse_deps_json(s: &str) -> Result<Vec<(String, String)>, String> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let libs = v
        .get("libraries")
        .and_then(Value::as_object)
        .ok_or("no `libraries` object")?;
    let mut out: Vec<_> = libs
        .iter()
        .filter(|(_, l)| l.get("type").and_then(Value::as_str) == Some("package"))
        .filter_map(|(k, _)| k.split_once('/'))
        .map(|(n, v)| (n.to_string(), v.to_string()))
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
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), String> {
        let data = ctx.read(&file.path, MAX_METADATA)?;
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
