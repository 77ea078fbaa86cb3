//! apk: `lib/apk/db/installed`.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, license_list, package, purl, text};
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
    /// `D:` names (`so:libc.musl-x86_64.so.1`, `scanelf`), conflicts (`!x`) left out.
    pub depends: Vec<String>,
    /// `p:` names (`so:libcrypto.so.3`, `cmd:openssl`).
    pub provides: Vec<String>,
}

/// The names of an apk `D:` or `p:` line, version constraints dropped.
pub fn apk_names(v: &str) -> Vec<String> {
    v.split_whitespace()
        .filter(|w| !w.starts_with('!'))
        .filter_map(|w| {
            let n = w.split(['=', '<', '>', '~']).next()?;
            (!n.is_empty()).then(|| n.to_string())
        })
        .collect()
}

/// Entries of an installed database; entries without a name or version are skipped.
pub fn parse_installed(s: &str) -> Vec<ApkEntry> {
    let l = crate::Limits::default();
    parse_installed_limited(s, l.max_line_bytes, l.max_file_bytes).0
}

/// [`parse_installed`] within budgets: an entry with a line longer than `max_line`
/// bytes is skipped, and the file list of all entries stops growing at `max_files`
/// bytes. The second value says what was skipped (one line each).
pub fn parse_installed_limited(
    s: &str,
    max_line: usize,
    max_files: u64,
) -> (Vec<ApkEntry>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut cur = ApkEntry::default();
    let mut bad = false;
    let mut dir = String::new();
    let mut files_bytes = 0u64;
    let mut files_full = false;
    let flush = |cur: &mut ApkEntry, bad: &mut bool, out: &mut Vec<ApkEntry>| {
        let e = std::mem::take(cur);
        if !std::mem::take(bad) && !e.name.is_empty() && !e.version.is_empty() {
            out.push(e);
        }
    };
    for (n, line) in s.lines().enumerate() {
        if line.trim().is_empty() {
            flush(&mut cur, &mut bad, &mut out);
            dir.clear();
            continue;
        }
        if line.len() > max_line {
            if !bad {
                problems.push(format!(
                    "line {}: {} bytes, over the {max_line}-byte budget (max_line_bytes): entry skipped",
                    n + 1,
                    line.len()
                ));
            }
            bad = true;
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
            "D" => cur.depends = apk_names(v),
            "p" => cur.provides = apk_names(v),
            "F" => dir = v.to_string(),
            "R" if !files_full => {
                let f = moat_fs::normalize(&format!("/{dir}/{v}"));
                files_bytes += f.len() as u64;
                if files_bytes > max_files {
                    files_full = true;
                    problems.push(format!(
                        "line {}: the owned-file list grows past the {max_files}-byte budget (max_file_bytes): further files not recorded",
                        n + 1
                    ));
                } else {
                    cur.files.push(f);
                }
            }
            _ => {}
        }
    }
    flush(&mut cur, &mut bad, &mut out);
    (out, problems)
}

impl Cataloger for ApkInstalled {
    fn name(&self) -> &'static str {
        "apk-db"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/lib/apk/db/installed"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let (entries, problems) = parse_installed_limited(
            &text(&data),
            ctx.limits.max_line_bytes,
            ctx.limits.max_file_bytes,
        );
        for p in problems {
            found.unknowns.push(moat_model::Unknown {
                location: crate::location(file),
                reason: format!("{}: {p}", self.name()),
            });
        }
        for e in entries {
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
            for d in &e.depends {
                found
                    .deps
                    .push(crate::DepRef::of(&p, Ecosystem::Apk, d, None));
            }
            for v in &e.provides {
                found
                    .provides
                    .push((Ecosystem::Apk, v.clone(), p.purl.clone()));
            }
            found.packages.push(p);
            found.owned_files.extend(e.files);
        }
        Ok(())
    }
}
