//! Java: archives (jar/war/ear, nested jars) by `pom.properties` and `MANIFEST.MF`,
//! and declared dependencies of `pom.xml` (explicit versions and `${property}`
//! references resolved inside the same file; no network, no parent POMs).

use crate::{CatalogError, Cataloger, Ctx, Found, Limits, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, Location, Package};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

pub struct Archives;
pub struct PomXml;

const MAX_NESTING: usize = 3;
const MAX_ENTRY: u64 = 64 << 20;

fn kv_props(s: &str, sep: char) -> BTreeMap<String, String> {
    s.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(sep)?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Open a zip archive of untrusted bytes, refusing the shapes zip bombs take: more
/// central-directory entries than `limits.max_zip_entries`, and entries whose bytes
/// overlap (many entries pointing into one deflate stream).
pub fn open_zip<R: std::io::Read + std::io::Seek>(
    reader: R,
    display: &str,
    limits: &Limits,
) -> Result<zip::ZipArchive<R>, CatalogError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| format!("{display}: {e}"))?;
    if zip.len() > limits.max_zip_entries {
        return Err(CatalogError::OverCount {
            what: format!("{display}: {} zip entries", zip.len()),
            limit: limits.max_zip_entries as u64,
            budget: "max_zip_entries",
        });
    }
    match zip.has_overlapping_entries() {
        Ok(false) => Ok(zip),
        Ok(true) => Err(CatalogError::Malformed(format!(
            "{display}: zip entries overlap (a zip bomb's shape): skipped"
        ))),
        Err(e) => Err(CatalogError::Malformed(format!("{display}: {e}"))),
    }
}

/// Packages of one archive (recursing into nested archives); `inflated` counts the
/// bytes inflated from the top archive so far.
fn scan_archive(
    data: &[u8],
    display: &str,
    file: &FileMeta,
    depth: usize,
    limits: &Limits,
    inflated: &mut u64,
    found: &mut Found,
) -> Result<(), CatalogError> {
    let mut zip = open_zip(Cursor::new(data), display, limits)?;
    let mut poms = Vec::new();
    let mut manifest = None;
    for i in 0..zip.len() {
        let Ok(mut f) = zip.by_index(i) else { continue };
        let Ok(name) = f.name().map(|n| n.to_string()) else {
            continue;
        };
        let want_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let want_manifest = name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        let lname = name.to_ascii_lowercase();
        let want_nested = depth < MAX_NESTING
            && (lname.ends_with(".jar") || lname.ends_with(".war") || lname.ends_with(".ear"));
        if !(want_pom || want_manifest || want_nested) || f.size() > MAX_ENTRY {
            continue;
        }
        // A deflate bomb inflates a few bytes into megabytes: refuse an entry whose
        // ratio is beyond what real content has, and stop at the archive's budget.
        if f.size() > 1 << 20 && f.size() / f.compressed_size().max(1) > limits.max_zip_ratio {
            found.unknowns.push(moat_model::Unknown {
                location: Location {
                    path: format!("{display}:{name}"),
                    layer: file.layer.clone(),
                },
                reason: format!(
                    "java-archive: inflates {} bytes to {}, over the ratio budget of {} (max_zip_ratio): skipped",
                    f.compressed_size(),
                    f.size(),
                    limits.max_zip_ratio
                ),
            });
            continue;
        }
        let left = limits.max_zip_inflated.saturating_sub(*inflated);
        let mut buf = Vec::new();
        if (&mut f)
            .take(MAX_ENTRY.min(left.saturating_add(1)))
            .read_to_end(&mut buf)
            .is_err()
        {
            continue;
        }
        *inflated += buf.len() as u64;
        if *inflated > limits.max_zip_inflated {
            return Err(CatalogError::OverBudget {
                what: format!("{display}: bytes inflated"),
                limit: limits.max_zip_inflated,
                budget: "max_zip_inflated",
            });
        }
        if want_pom {
            poms.push(text(&buf).into_owned());
        } else if want_manifest {
            manifest = Some(text(&buf).into_owned());
        } else {
            // Scanned at once, so at most one nested archive per depth is in memory.
            drop(f);
            let d = format!("{display}:{name}");
            if let Err(e) = scan_archive(&buf, &d, file, depth + 1, limits, inflated, found) {
                found.unknowns.push(moat_model::Unknown {
                    location: Location {
                        path: d,
                        layer: file.layer.clone(),
                    },
                    reason: format!("java-archive: {e}"),
                });
            }
        }
    }
    let loc = Location {
        path: display.to_string(),
        layer: file.layer.clone(),
    };
    let mut emitted = false;
    for pom in &poms {
        let p = kv_props(pom, '=');
        if let (Some(g), Some(a), Some(v)) =
            (p.get("groupId"), p.get("artifactId"), p.get("version"))
        {
            found.packages.push(maven_pkg(g, a, v, file, &loc));
            emitted = true;
        }
    }
    if !emitted && let Some(m) = manifest {
        let p = kv_props(&m, ':');
        let fname = display.rsplit(['/', ':']).next().unwrap_or(display);
        let stem = fname.rsplit_once('.').map(|(s, _)| s).unwrap_or(fname);
        let (fn_name, fn_ver) = match stem.rfind('-') {
            Some(i) if stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => {
                (&stem[..i], Some(&stem[i + 1..]))
            }
            _ => (stem, None),
        };
        let version = p
            .get("Implementation-Version")
            .or(p.get("Bundle-Version"))
            .map(String::as_str)
            .or(fn_ver);
        let artifact = p
            .get("Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or(s).to_string())
            .filter(|_| fn_name.is_empty())
            .unwrap_or_else(|| fn_name.to_string());
        let group = p
            .get("Implementation-Vendor-Id")
            .cloned()
            .unwrap_or_else(|| artifact.clone());
        if let Some(v) = version {
            found
                .packages
                .push(maven_pkg(&group, &artifact, v, file, &loc));
        }
    }
    Ok(())
}

fn maven_pkg(g: &str, a: &str, v: &str, file: &FileMeta, loc: &Location) -> Package {
    let mut p = package(a, v, Ecosystem::Maven, purl::maven(g, a, v), file);
    p.name = format!("{g}:{a}");
    p.locations = vec![loc.clone()];
    p
}

impl Cataloger for Archives {
    fn name(&self) -> &'static str {
        "java-archive"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/*.jar", "**/*.war", "**/*.ear", "**/*.jpi", "**/*.hpi"])
    }
    fn name_matters(&self) -> bool {
        true // a jar without pom.properties is named after its file
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_binary(file)?;
        let mut inflated = 0;
        scan_archive(
            &data,
            &file.path,
            file,
            0,
            &ctx.limits,
            &mut inflated,
            found,
        )
    }
}

/// Text between `<tag>` and `</tag>` of every top-level occurrence.
fn blocks<'a>(s: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

fn tag<'a>(s: &'a str, t: &str) -> Option<&'a str> {
    blocks(s, t).into_iter().next().map(str::trim)
}

/// (groupId, artifactId, version) declared in a pom.xml; test-scoped and unresolvable
/// versions are skipped.
pub fn parse_pom(s: &str) -> Vec<(String, String, String)> {
    // Comments could hide tags: drop them first.
    let mut clean = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("<!--") {
        clean.push_str(&rest[..i]);
        rest = rest[i..]
            .find("-->")
            .map(|j| &rest[i + j + 3..])
            .unwrap_or("");
    }
    clean.push_str(rest);
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(p) = tag(&clean, "properties") {
        for line in p.split('<').filter(|x| !x.starts_with('/')) {
            if let Some((k, v)) = line.split_once('>') {
                props.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }
    let head = clean.split("<dependencies>").next().unwrap_or("");
    let head = head.split("<parent>").next().unwrap_or(head);
    if let Some(v) = tag(head, "version") {
        props.insert("project.version".into(), v.to_string());
    }
    let resolve = |v: &str| -> Option<String> {
        let mut v = v.to_string();
        for _ in 0..5 {
            let Some(i) = v.find("${") else {
                return Some(v);
            };
            let j = v[i..].find('}')? + i;
            let val = props.get(&v[i + 2..j])?;
            v = format!("{}{}{}", &v[..i], val, &v[j + 1..]);
        }
        None
    };
    let mut out = Vec::new();
    for deps in blocks(&clean, "dependencies") {
        for d in blocks(deps, "dependency") {
            if tag(d, "scope") == Some("test") {
                continue;
            }
            let (Some(g), Some(a), Some(v)) =
                (tag(d, "groupId"), tag(d, "artifactId"), tag(d, "version"))
            else {
                continue;
            };
            if let (Some(g), Some(a), Some(v)) = (resolve(g), resolve(a), resolve(v)) {
                out.push((g, a, v));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Cataloger for PomXml {
    fn name(&self) -> &'static str {
        "java-pom"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/pom.xml"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let loc = crate::location(file);
        for (g, a, v) in parse_pom(&text(&data)) {
            found.packages.push(maven_pkg(&g, &a, &v, file, &loc));
        }
        Ok(())
    }
}

#[cfg(test)]
mod zip_budget_tests {
    use super::*;
    use std::io::Write;

    /// A jar with a pom.properties and a nested `lib/zeros.jar` of `zeros` zero bytes.
    fn jar(zeros: usize) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("META-INF/maven/g/a/pom.properties", o)
            .unwrap();
        w.write_all(b"groupId=g\nartifactId=a\nversion=1.0\n")
            .unwrap();
        w.start_file("lib/zeros.jar", o).unwrap();
        w.write_all(&vec![0u8; zeros]).unwrap();
        w.finish().unwrap().into_inner()
    }

    fn run(data: &[u8], limits: &Limits) -> (Found, Result<(), CatalogError>) {
        let file = FileMeta {
            path: "/app/a.jar".into(),
            kind: moat_fs::FileKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: data.len() as u64,
            link_target: None,
            layer: None,
        };
        let mut found = Found::default();
        let mut inflated = 0;
        let r = scan_archive(
            data,
            "/app/a.jar",
            &file,
            0,
            limits,
            &mut inflated,
            &mut found,
        );
        (found, r)
    }

    #[test]
    fn entries_ratio_and_inflated_bytes_are_bounded() {
        let data = jar(4 << 20);
        // Defaults: the package is found (the nested entry of zeros is an unknown).
        let (found, r) = run(&data, &Limits::default());
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(found.packages.len(), 1);

        let few = Limits {
            max_zip_entries: 1,
            ..Limits::default()
        };
        let e = run(&data, &few).1.unwrap_err().to_string();
        assert!(e.contains("max_zip_entries"), "{e}");

        let ratio = Limits {
            max_zip_ratio: 10,
            ..Limits::default()
        };
        let (found, r) = run(&data, &ratio);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(found.packages.len(), 1);
        assert!(
            found
                .unknowns
                .iter()
                .any(|u| u.location.path == "/app/a.jar:lib/zeros.jar"
                    && u.reason.contains("max_zip_ratio")),
            "{:?}",
            found.unknowns
        );

        let small = Limits {
            max_zip_inflated: 1 << 20,
            max_zip_ratio: u64::MAX,
            ..Limits::default()
        };
        let e = run(&data, &small).1.unwrap_err().to_string();
        assert!(e.contains("max_zip_inflated"), "{e}");
    }
}
