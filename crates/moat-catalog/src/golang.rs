//! Go: declared modules of `go.mod` (`require`, with `replace` applied).

use crate::{Cataloger, Ctx, Found, MAX_METADATA, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use std::collections::BTreeMap;

pub struct GoMod;

/// (module, version) required by a go.mod, replacements applied (a replacement by a
/// local directory drops the module: it has no version).
pub fn parse_go_mod(s: &str) -> Vec<(String, String)> {
    let mut req: BTreeMap<String, String> = BTreeMap::new();
    let mut repl: Vec<(String, Option<String>, Option<(String, String)>)> = Vec::new();
    let mut block = "";
    for raw in s.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
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
    req.into_iter().collect()
}

impl Cataloger for GoMod {
    fn name(&self) -> &'static str {
        "go-mod"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/go.mod"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), String> {
        let data = ctx.read(&file.path, MAX_METADATA)?;
        for (m, v) in parse_go_mod(&text(&data)) {
            found.packages.push(package(
                &m,
                &v,
                Ecosystem::Golang,
                purl::golang(&m, &v),
                file,
            ));
        }
        Ok(())
    }
}
