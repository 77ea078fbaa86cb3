//! PHP: `vendor/composer/installed.json` (Composer 1 and 2) and `composer.lock`.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use serde_json::Value;

pub struct Installed;
pub struct ComposerLock;

/// (name, version, licenses) of Composer package objects.
fn packages(list: &[Value]) -> Vec<(String, String, Vec<String>)> {
    list.iter()
        .filter_map(|p| {
            let n = p.get("name")?.as_str()?;
            let v = p.get("version")?.as_str()?;
            let l = p
                .get("license")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some((n.to_string(), v.to_string(), l))
        })
        .collect()
}

pub fn parse_installed(s: &str) -> Result<Vec<(String, String, Vec<String>)>, CatalogError> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let list = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("packages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => return Err("neither a list nor an object".into()),
    };
    Ok(packages(&list))
}

pub fn parse_lock(s: &str) -> Result<Vec<(String, String, Vec<String>)>, CatalogError> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = Vec::new();
    for sec in ["packages", "packages-dev"] {
        if let Some(a) = v.get(sec).and_then(Value::as_array) {
            out.extend(packages(a));
        }
    }
    Ok(out)
}

fn emit(list: Vec<(String, String, Vec<String>)>, file: &FileMeta, found: &mut Found) {
    for (n, v, l) in list {
        let mut p = package(
            &n,
            &v,
            Ecosystem::Composer,
            purl::namespaced("composer", &n, &v),
            file,
        );
        p.licenses = l;
        found.packages.push(p);
    }
}

impl Cataloger for Installed {
    fn name(&self) -> &'static str {
        "php-composer-installed"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/vendor/composer/installed.json"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        emit(parse_installed(&text(&data))?, file, found);
        Ok(())
    }
}

impl Cataloger for ComposerLock {
    fn name(&self) -> &'static str {
        "php-composer-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/composer.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        emit(parse_lock(&text(&data))?, file, found);
        Ok(())
    }
}
