//! Go: declared modules of `go.mod` (`require`, with `replace` applied).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use std::collections::BTreeMap;

pub struct GoMod;

/// A `replace` directive: old module, old version (if pinned), new module and version
/// (`None` for a local directory).
type Replace = (String, Option<String>, Option<(String, String)>);

/// (module, version) required by a go.mod, replacements applied (a replacement by a
/// local directory drops the module: it has no version).
pub fn parse_go_mod(s: &str) -> Vec<(String, String)> {
    let mut req: BTreeMap<String, String> = BTreeMap::new();
    let mut repl: Vec<Replace> = Vec::new();
    let mut block = "";
    let (mut module, mut go, mut toolchain) = (None, None, None);
    for raw in s.lines() {
        let indirect = raw.contains("// indirect");
        let line = raw.split("//").next().unwrap_or("").trim();
        if let Some(m) = line.strip_prefix("module ") {
            module = Some(m.trim().trim_matches('"').to_string());
            continue;
        }
        if let Some(v) = line.strip_prefix("go ") {
            go = Some(v.trim().to_string());
            continue;
        }
        if let Some(v) = line.strip_prefix("toolchain ") {
            toolchain = Some(v.trim().to_string());
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = "";
            continue;
        }
        let (kind, rest) = if let Some(r) = line.strip_prefix("require ") {
            ("require", r.trim())
        } else if let Some(r) = line.strip_prefix("replace ") {
            ("replace", r.trim())
        } else if !block.is_empty() {
            (block, line)
        } else {
            continue;
        };
        if rest == "(" {
            block = kind;
            continue;
        }
        match kind {
            "require" => {
                // Before Go 1.17 a go.mod lists only some indirect dependencies: the
                // listed ones are not the build's, so they are left out (as Trivy does).
                if indirect && go_minor(go.as_deref()) < 17 {
                    continue;
                }
                let mut f = rest.split_whitespace();
                if let (Some(m), Some(v)) = (f.next(), f.next()) {
                    req.insert(m.to_string(), v.to_string());
                }
            }
            "replace" => {
                let Some((l, r)) = rest.split_once("=>") else {
                    continue;
                };
                let mut lf = l.split_whitespace();
                let mut rf = r.split_whitespace();
                let (Some(old), old_v) = (lf.next(), lf.next()) else {
                    continue;
                };
                let new = match (rf.next(), rf.next()) {
                    (Some(m), Some(v)) => Some((m.to_string(), v.to_string())),
                    _ => None,
                };
                repl.push((old.to_string(), old_v.map(str::to_string), new));
            }
            _ => {}
        }
    }
    for (old, old_v, new) in repl {
        let Some(cur) = req.get(&old).cloned() else {
            continue;
        };
        if old_v.as_ref().is_some_and(|v| *v != cur) {
            continue;
        }
        req.remove(&old);
        if let Some((m, v)) = new {
            req.insert(m, v);
        }
    }
    let mut out: Vec<(String, String)> = req.into_iter().collect();
    // The module itself (no version: it is the source tree) and the toolchain as
    // `stdlib`: the `toolchain` directive, else a `go` directive from Go 1.21 on (which
    // names an exact toolchain version).
    if let Some(m) = module {
        out.push((m, String::new()));
    }
    let std = toolchain
        .and_then(|t| t.strip_prefix("go").map(str::to_string))
        .or_else(|| {
            go.clone()
                .filter(|g| go_minor(Some(g)) >= 21 && g.matches('.').count() >= 2)
        });
    if let Some(v) = std {
        out.push(("stdlib".into(), format!("v{v}")));
    }
    out.sort();
    out
}

/// Minor version of a `go 1.N[.P]` directive (99 when absent: assume modern).
fn go_minor(go: Option<&str>) -> u32 {
    go.and_then(|g| g.split('.').nth(1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(99)
}

/// The toolchain's PURL carries the bare version (`pkg:golang/stdlib@1.22.5`), as for
/// binaries; modules keep their `v`.
fn go_purl(module: &str, version: &str) -> String {
    if module == "stdlib" {
        purl::golang(module, version.trim_start_matches('v'))
    } else {
        purl::golang(module, version)
    }
}

impl Cataloger for GoMod {
    fn name(&self) -> &'static str {
        "go-mod"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/go.mod"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (m, v) in parse_go_mod(&text(&data)) {
            if v.is_empty() {
                continue; // the module being scanned: a source tree, not a dependency
            }
            found
                .packages
                .push(package(&m, &v, Ecosystem::Golang, go_purl(&m, &v), file));
        }
        Ok(())
    }
}
