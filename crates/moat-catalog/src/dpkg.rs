//! dpkg: `var/lib/dpkg/status` and distroless `var/lib/dpkg/status.d/*`.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;

pub struct DpkgStatus;
pub struct DpkgStatusD;

/// One stanza's fields (continuation lines folded into the previous field).
pub fn stanzas(s: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for_each_stanza(s, |st| out.push(st.to_vec()));
    out
}

/// Call `f` with each stanza in turn (one stanza in memory at a time).
pub fn for_each_stanza(s: &str, mut f: impl FnMut(&[(String, String)])) {
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in s.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                f(&cur);
                cur.clear();
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        f(&cur);
    }
}

fn field<'a>(st: &'a [(String, String)], key: &str) -> Option<&'a str> {
    st.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// A parsed dpkg entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebEntry {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    /// Package names of `Pre-Depends` and `Depends` (every alternative; `:any` and
    /// version constraints dropped).
    pub depends: Vec<String>,
    /// Names of `Provides` (virtual packages).
    pub provides: Vec<String>,
}

/// The package names of a dpkg relationship field (`a (>= 1) | b, c:any`).
pub fn relation_names(s: &str) -> Vec<String> {
    s.split([',', '|'])
        .filter_map(|alt| {
            let n = alt.split(['(', '[', '<']).next()?.trim();
            let n = n.split(':').next()?.trim();
            (!n.is_empty()).then(|| n.to_string())
        })
        .collect()
}

/// Installed packages of a status file (stanzas whose Status is not `installed` are
/// skipped, as dpkg-query does for listing installed packages).
pub fn parse_status(s: &str, require_status: bool) -> Vec<DebEntry> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for_each_stanza(s, |st| {
        let (Some(name), Some(version)) = (field(st, "Package"), field(st, "Version")) else {
            return;
        };
        if require_status || field(st, "Status").is_some() {
            let installed = field(st, "Status")
                .and_then(|s| s.split_whitespace().nth(2))
                .is_some_and(|w| w == "installed");
            if !installed {
                return;
            }
        }
        let (mut source_name, mut source_version) = (None, None);
        if let Some(src) = field(st, "Source") {
            let (n, v) = match src.split_once('(') {
                Some((n, v)) => (n.trim(), Some(v.trim_end_matches(')').trim())),
                None => (src.trim(), None),
            };
            if !n.is_empty() {
                source_name = Some(n.to_string());
            }
            source_version = v.filter(|v| *v != version).map(str::to_string);
        }
        let e = DebEntry {
            name: name.to_string(),
            version: version.to_string(),
            arch: field(st, "Architecture").unwrap_or("").to_string(),
            source_name,
            source_version,
            depends: ["Pre-Depends", "Depends"]
                .iter()
                .filter_map(|k| field(st, k))
                .flat_map(relation_names)
                .collect(),
            provides: field(st, "Provides")
                .map(relation_names)
                .unwrap_or_default(),
        };
        // A repeated stanza is one package (and must not make the list grow).
        if seen.insert((e.name.clone(), e.version.clone(), e.arch.clone())) {
            out.push(e);
        }
    });
    out
}

/// License names from `usr/share/doc/NAME/copyright`, as syft reads them: the first
/// word of each DEP-5 `License:` line, and every `/usr/share/common-licenses/NAME`
/// reference of free-form files.
fn copyright_licenses(s: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for line in s.lines() {
        if let Some(w) = line
            .strip_prefix("License:")
            .and_then(|r| r.split_whitespace().next())
            .filter(|w| !w.eq_ignore_ascii_case("none"))
        {
            v.push(w.to_string());
        }
        let mut rest = line;
        while let Some(i) = rest.find("/usr/share/common-licenses/") {
            let after = &rest[i + "/usr/share/common-licenses/".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                v.push(name.to_string());
            }
            rest = after;
        }
    }
    v.sort();
    v.dedup();
    v
}

fn emit(ctx: &Ctx<'_>, file: &FileMeta, entries: Vec<DebEntry>, found: &mut Found, info_dir: &str) {
    // A stanza repeated (by accident or to make us read its `.list` file again and
    // again) is one package: each (name, version, arch) is emitted once, each file read
    // once.
    let mut done = std::collections::HashSet::new();
    let mut read = std::collections::HashSet::new();
    for e in entries {
        if !done.insert((e.name.clone(), e.version.clone(), e.arch.clone())) {
            continue;
        }
        // syft's qualifier: the source name, with `@version` when the source version
        // differs (a binNMU such as bash 5.2.15-2+b13 from source bash 5.2.15-2).
        let upstream = match (&e.source_name, &e.source_version) {
            (Some(s), Some(v)) => Some(format!("{s}@{v}")),
            (Some(s), None) if *s != e.name => Some(s.clone()),
            _ => None,
        };
        let purl = purl::os(
            "deb",
            ctx.distro,
            "debian",
            &e.name,
            &e.version,
            &e.arch,
            upstream.as_deref(),
        );
        let mut p = package(&e.name, &e.version, Ecosystem::Deb, purl, file);
        // `Source:` is absent when it equals the package: the source is then the package.
        p.source_name = Some(e.source_name.clone().unwrap_or_else(|| e.name.clone()));
        p.source_version = e.source_version.clone();
        for d in &e.depends {
            found
                .deps
                .push(crate::DepRef::of(&p, Ecosystem::Deb, d, None));
        }
        for v in &e.provides {
            found
                .provides
                .push((Ecosystem::Deb, v.clone(), p.purl.clone()));
        }
        let copyright = format!("/usr/share/doc/{}/copyright", e.name);
        if read.insert(copyright.clone())
            && let Ok(b) = ctx.read(&copyright, 1 << 20)
        {
            p.licenses = copyright_licenses(&text(&b));
        }
        found.packages.push(p);
        if !info_dir.is_empty() {
            for list in [
                format!("{info_dir}/{}.list", e.name),
                format!("{info_dir}/{}:{}.list", e.name, e.arch),
            ] {
                if !read.insert(list.clone()) {
                    continue;
                }
                if let Ok(b) = ctx.read(&list, ctx.limits.max_file_bytes) {
                    found.owned_files.extend(
                        text(&b)
                            .lines()
                            .filter(|l| !l.is_empty())
                            .map(str::to_string),
                    );
                }
            }
        }
    }
}

impl Cataloger for DpkgStatus {
    fn name(&self) -> &'static str {
        "dpkg-db"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/var/lib/dpkg/status"])
    }
    fn content_only(&self) -> bool {
        false // reads `info/*.list` beside the status file
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let s = text(&data);
        let mut any_package = false;
        for_each_stanza(&s, |st| any_package |= field(st, "Package").is_some());
        if !s.trim().is_empty() && !any_package {
            return Err("no `Package:` stanza in a dpkg status file".into());
        }
        let entries = parse_status(&s, true);
        let info = format!("{}/info", moat_fs::parent(&file.path));
        emit(ctx, file, entries, found, &info);
        Ok(())
    }
}

impl Cataloger for DpkgStatusD {
    fn name(&self) -> &'static str {
        "dpkg-db"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/var/lib/dpkg/status.d/*"])
    }
    fn content_only(&self) -> bool {
        false // a `.md5sums` file is told by its name
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let s = text(&data);
        if file.path.ends_with(".md5sums") {
            // `<md5>  <path without leading />`: the files this package owns.
            found.owned_files.extend(
                s.lines()
                    .filter_map(|l| l.split_once("  ").map(|(_, p)| format!("/{}", p.trim()))),
            );
            return Ok(());
        }
        let entries = parse_status(&s, false);
        if entries.is_empty() {
            return Err("no package stanza".into());
        }
        emit(ctx, file, entries, found, "");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_with_version_is_split() {
        let s = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc (2.36-9)\nVersion: 2.36-9+deb12u4\nDescription: x\n more\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n";
        let e = parse_status(s, true);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].source_name.as_deref(), Some("glibc"));
        assert_eq!(e[0].source_version.as_deref(), Some("2.36-9"));
    }

    #[test]
    fn relationship_fields_give_package_names() {
        assert_eq!(
            relation_names(
                "libc6 (>= 2.34), libtinfo6 (>= 6) | libncurses6, perl:any, foo [amd64] <!nocheck>"
            ),
            ["libc6", "libtinfo6", "libncurses6", "perl", "foo"]
        );
        let s = "Package: a\nStatus: install ok installed\nVersion: 1\nPre-Depends: libc6 (>= 2.34)\nDepends: b | c, d\nProvides: mail-transport-agent\n";
        let e = parse_status(s, true);
        assert_eq!(e[0].depends, ["libc6", "b", "c", "d"]);
        assert_eq!(e[0].provides, ["mail-transport-agent"]);
    }
}
