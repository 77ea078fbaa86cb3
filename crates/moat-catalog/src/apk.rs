//! apk: `lib/apk/db/installed`.

use crate::{Cataloger, Ctx, Found, MAX_METADATA, Selector, license_list, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;

pub struct ApkInstalled;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApkEntry {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub origin: String,
    pub license: String,
    pub files: Vec<String>,
}

/// Entries of an installed database; entries without a name or version are skipped.
pub fn parse_installed(s: &str) -> Vec<ApkEntry> {
    let mut out = Vec::new();
    let mut cur = ApkEntry::default();
    let mut dir = String::new();
    let flush = |cur: &mut ApkEntry, out: &mut Vec<ApkEntry>| {
        let e = std::mem::take(cur);
        if !e.name.is_empty() && !e.version.is_empty() {
            out.push(e);
        }
    };
    for line in s.lines() {
        if line.trim().is_empty() {
            flush(&mut cur, &mut out);
            dir.clear();
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match k {
            "P" => cur.name = v.to_string(),
            "V" => cur.version = v.to_string(),
            "A" => cur.arch = v.to_string(),
            "o" => cur.origin = v.to_string(),
            "L" => cur.license = v.to_string(),
            "F" => dir = v.to_string(),
            "R" => cur.files.push(moat_fs::normalize(&format!("/{dir}/{v}"))),
            _ => {}
        }
    }
    flush(&mut cur, &mut out);
    out
}

impl Cataloger for ApkInstalled {
    fn name(&self) -> &'static str {
        "apk-db"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/lib/apk/db/installed"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), String> {
        let data = ctx.read(&file.path, MAX_METADATA)?;
        for e in parse_installed(&text(&data)) {
            let upstream =
                (!e.origin.is_empty() && e.origin != e.name).then_some(e.origin.as_str());
            let purl = purl::os(
                "apk", ctx.distro, "alpine", &e.name, &e.version, &e.arch, upstream,
            );
            let mut p = package(&e.name, &e.version, Ecosystem::Apk, purl, file);
            // Every OS package names its source package (matching is by source); the
            // package itself when the database names none.
            p.source_name = Some(if e.origin.is_empty() {
                e.name.clone()
            } else {
                e.origin.clone()
            });
            p.licenses = license_list(&e.license);
            found.packages.push(p);
            found.owned_files.extend(e.files);
        }
        Ok(())
    }
}
