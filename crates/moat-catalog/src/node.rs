//! Node: installed packages (`node_modules/**/package.json`) and declared dependencies
//! (`package-lock.json` v1-v3, `yarn.lock` v1 and berry, `pnpm-lock.yaml`).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, Package};
use serde_json::Value;

pub struct Installed;
pub struct PackageLock;
pub struct YarnLock;
pub struct PnpmLock;

fn npm(name: &str, version: &str, file: &FileMeta) -> Package {
    package(
        name,
        version,
        Ecosystem::Npm,
        purl::npm(name, version),
        file,
    )
}

fn licenses(v: &Value) -> Vec<String> {
    let one = |l: &Value| match l {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    if let Some(l) = v.get("license").and_then(one) {
        return vec![l];
    }
    v.get("licenses")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(one).collect())
        .unwrap_or_default()
}

impl Cataloger for Installed {
    fn name(&self) -> &'static str {
        "npm-installed"
    }
    fn selector(&self) -> Selector {
        // Only a package's own directory (`node_modules/NAME`, `node_modules/@SCOPE/NAME`)
        // is an installed package, as `npm ls` sees it; nested `package.json` files
        // (`lib/esm/package.json`) are build details.
        Selector::Globs(&[
            "**/node_modules/*/package.json",
            "**/node_modules/@*/*/package.json",
        ])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let v: Value = serde_json::from_slice(&data).map_err(|e| format!("invalid JSON: {e}"))?;
        let name = v.get("name").and_then(Value::as_str);
        let version = v.get("version").and_then(Value::as_str);
        let (Some(name), Some(version)) = (name, version) else {
            // A directory under node_modules without a name/version is not a package
            // (for example `node_modules/.bin`); not an error either.
            return Ok(());
        };
        let mut p = npm(name, version, file);
        p.licenses = licenses(&v);
        // `dependencies` and `optionalDependencies`, resolved as node does: the
        // nearest `node_modules` up the tree.
        for key in ["dependencies", "optionalDependencies"] {
            if let Some(deps) = v.get(key).and_then(Value::as_object) {
                for d in deps.keys() {
                    found
                        .deps
                        .push(crate::DepRef::of(&p, Ecosystem::Npm, d, None));
                }
            }
        }
        found.packages.push(p);
        Ok(())
    }
}

/// (name, version, dev) of a package-lock.json, any lockfileVersion.
pub fn parse_package_lock(s: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let v: Value = serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(pkgs) = v.get("packages").and_then(Value::as_object) {
        for (key, p) in pkgs {
            // Only `node_modules/...` entries are installed packages; a workspace folder
            // appears there as a link whose version is the folder's own.
            let Some(i) = key.rfind("node_modules/") else {
                continue;
            };
            let name = key[i + "node_modules/".len()..].to_string();
            let entry = if p.get("link").and_then(Value::as_bool) == Some(true) {
                match p
                    .get("resolved")
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                    .and_then(|r| pkgs.get(r))
                {
                    Some(target) => target,
                    None => continue, // a broken link
                }
            } else {
                p
            };
            let ver = entry.get("version").and_then(Value::as_str).unwrap_or("");
            out.push((name, ver.to_string()));
        }
    } else if let Some(deps) = v.get("dependencies").and_then(Value::as_object) {
        fn walk(deps: &serde_json::Map<String, Value>, out: &mut Vec<(String, String)>) {
            for (name, d) in deps {
                if let Some(ver) = d.get("version").and_then(Value::as_str) {
                    // `file:` and `link:` specs are local folders, not registry versions.
                    if !ver.starts_with("file:") {
                        out.push((name.clone(), ver.to_string()));
                    }
                }
                if let Some(sub) = d.get("dependencies").and_then(Value::as_object) {
                    walk(sub, out);
                }
            }
        }
        walk(deps, &mut out);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl Cataloger for PackageLock {
    fn name(&self) -> &'static str {
        "npm-package-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/package-lock.json"])
    }
    fn content_only(&self) -> bool {
        false // skipped inside node_modules
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        if file.path.contains("/node_modules/") {
            return Ok(()); // a dependency's own lockfile, not what was installed
        }
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_package_lock(&text(&data))? {
            found.packages.push(npm(&n, &v, file));
        }
        Ok(())
    }
}

/// The package name of a yarn descriptor (`"@babel/core@^7.0.0"`, `lodash@npm:^4`).
fn descriptor_name(d: &str) -> Option<&str> {
    let d = d.trim().trim_matches('"');
    let at = if let Some(rest) = d.strip_prefix('@') {
        rest.find('@').map(|i| i + 1)?
    } else {
        d.find('@')?
    };
    Some(&d[..at])
}

/// (name, version) of a yarn.lock (classic v1 and berry).
pub fn parse_yarn_lock(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    let mut skip = false;
    for line in s.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let header = line.trim_end_matches(':');
            let first = header.split(", ").next().unwrap_or("");
            name = descriptor_name(first).map(str::to_string);
            // Registry versions only: `npm:` or a plain range; `workspace:`, `patch:`,
            // `link:`, `file:`, `portal:` and unknown protocols name no registry version.
            let range = name
                .as_deref()
                .and_then(|n| first.trim().trim_matches('"').get(n.len() + 1..))
                .unwrap_or("");
            let proto = range
                .split_once(':')
                .map(|(p, _)| p)
                .filter(|p| p.bytes().all(|c| c.is_ascii_alphabetic()));
            skip = proto.is_some_and(|p| p != "npm") || first.trim_matches('"') == "__metadata";
            continue;
        }
        let t = line.trim();
        let ver = t
            .strip_prefix("version ")
            .or_else(|| t.strip_prefix("\"version\" "))
            .or_else(|| t.strip_prefix("version: "))
            .map(|v| v.trim().trim_matches('"'));
        let Some(v) = ver else { continue };
        if let Some(n) = name.take()
            && !skip
        {
            out.push((n, v.to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Cataloger for YarnLock {
    fn name(&self) -> &'static str {
        "yarn-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/yarn.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_yarn_lock(&text(&data)) {
            found.packages.push(npm(&n, &v, file));
        }
        Ok(())
    }
}

/// Split a pnpm package key (`/name/1.0.0`, `/@s/n/1.0.0`, `/name@1.0.0(peer@2)`,
/// `name@1.0.0`) into (name, version).
fn pnpm_key(key: &str) -> Option<(String, String)> {
    let k = key.trim_start_matches('/');
    let k = k.split('(').next().unwrap_or(k);
    // v6+ and v9: name@version
    let at = if let Some(rest) = k.strip_prefix('@') {
        rest.find('@').map(|i| i + 1)
    } else {
        k.find('@')
    };
    if let Some(i) = at {
        let (n, v) = (&k[..i], &k[i + 1..]);
        let v = v.split('_').next().unwrap_or(v);
        return Some((n.to_string(), v.to_string()));
    }
    // v5: name/version (scoped: @s/n/version)
    let (n, v) = k.rsplit_once('/')?;
    let v = v.split('_').next().unwrap_or(v);
    Some((n.to_string(), v.to_string()))
}

/// (name, version) of a pnpm-lock.yaml.
pub fn parse_pnpm_lock(s: &str) -> Result<Vec<(String, String)>, CatalogError> {
    // pnpm may write several YAML documents (a `---` separated env lockfile first):
    // the one with `packages` is the project's.
    let docs: Vec<Value> = serde_saphyr::from_multiple(s).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let v = docs
        .iter()
        .rev()
        .find(|d| d.get("packages").is_some())
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(pkgs) = v.get("packages").and_then(Value::as_object) {
        for (key, p) in pkgs {
            // Development-only dependencies are not part of what ships (Trivy drops them).
            if p.get("dev").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some((mut n, mut ver)) = pnpm_key(key) else {
                continue;
            };
            if let Some(x) = p.get("name").and_then(Value::as_str) {
                n = x.to_string();
            }
            if let Some(x) = p.get("version").and_then(Value::as_str) {
                ver = x.to_string();
            }
            if ver.starts_with("link:") || ver.starts_with("file:") {
                continue;
            }
            out.push((n, ver));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl Cataloger for PnpmLock {
    fn name(&self) -> &'static str {
        "pnpm-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/pnpm-lock.yaml"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_pnpm_lock(&text(&data))? {
            found.packages.push(npm(&n, &v, file));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_quoted_keys() {
        let s = "\"jquery@^3.6.0\":\n  \"integrity\" \"sha512-x==\"\n  \"version\" \"3.6.0\"";
        assert_eq!(
            parse_yarn_lock(s),
            [("jquery".to_string(), "3.6.0".to_string())]
        );
    }
}
