//! Java: archives (jar/war/ear, nested jars) by `pom.properties` and `MANIFEST.MF`,
//! and declared dependencies of `pom.xml`: explicit versions, `${property}` references
//! and dependencyManagement, inherited from parent POMs found in the same image or
//! source (by `relativePath` for files of a directory, by coordinates among the POMs
//! of every jar and directory) and from BOMs imported; no network, no Maven repository.
//! Edges: an archive depends on the archives nested in it, a POM's package on its
//! declared dependencies found in the inventory.

use crate::{CatalogError, Cataloger, Ctx, Found, Limits, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, Location, Package};
use std::collections::{BTreeMap, HashMap};
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
/// bytes inflated from the top archive so far. Each package of the archive itself
/// depends on those of the archives nested in it (`WEB-INF/lib/*.jar`, `BOOT-INF/lib`,
/// `lib/`); returns the archive's own (name, version, purl).
fn scan_archive(
    data: &[u8],
    display: &str,
    file: &FileMeta,
    depth: usize,
    limits: &Limits,
    inflated: &mut u64,
    found: &mut Found,
) -> Result<Vec<(String, String, moat_model::Purl)>, CatalogError> {
    let mut zip = open_zip(Cursor::new(data), display, limits)?;
    let mut poms = Vec::new();
    let mut pom_xmls = Vec::new();
    let mut nested = Vec::new();
    let mut manifest = None;
    for i in 0..zip.len() {
        let Ok(mut f) = zip.by_index(i) else { continue };
        let Ok(name) = f.name().map(|n| n.to_string()) else {
            continue;
        };
        let want_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let want_pom_xml = name.starts_with("META-INF/maven/")
            && name.ends_with("/pom.xml")
            && f.size() <= MAX_POM_BYTES as u64;
        let want_manifest = name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        let lname = name.to_ascii_lowercase();
        let want_nested = depth < MAX_NESTING
            && (lname.ends_with(".jar") || lname.ends_with(".war") || lname.ends_with(".ear"));
        if !(want_pom || want_pom_xml || want_manifest || want_nested) || f.size() > MAX_ENTRY {
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
        let dir = name.rsplit_once('/').map_or("", |(d, _)| d).to_string();
        if want_pom {
            poms.push((dir, text(&buf).into_owned()));
        } else if want_pom_xml {
            pom_xmls.push((dir, name.clone(), text(&buf).into_owned()));
        } else if want_manifest {
            manifest = Some(text(&buf).into_owned());
        } else {
            // Scanned at once, so at most one nested archive per depth is in memory.
            drop(f);
            let d = format!("{display}:{name}");
            match scan_archive(&buf, &d, file, depth + 1, limits, inflated, found) {
                Ok(own) => nested.extend(own),
                Err(e) => found.unknowns.push(moat_model::Unknown {
                    location: Location {
                        path: d,
                        layer: file.layer.clone(),
                    },
                    reason: format!("java-archive: {e}"),
                }),
            }
        }
    }
    let loc = Location {
        path: display.to_string(),
        layer: file.layer.clone(),
    };
    let mut own = Vec::new();
    let mut gav_of_dir = BTreeMap::new();
    for (dir, pom) in &poms {
        let p = kv_props(pom, '=');
        if let (Some(g), Some(a), Some(v)) =
            (p.get("groupId"), p.get("artifactId"), p.get("version"))
        {
            let pkg = maven_pkg(g, a, v, file, &loc);
            own.push((pkg.name.clone(), pkg.version.clone(), pkg.purl.clone()));
            found.packages.push(pkg);
            gav_of_dir.insert(dir.as_str(), (g.clone(), a.clone(), v.clone()));
        }
    }
    // The jar's pom.xml: its declared dependencies are resolved when the run ends.
    for (dir, name, xml) in pom_xmls {
        let mut pom = Pom::parse(&xml, &format!("{display}:{name}"));
        pom.jar_gav = gav_of_dir.get(dir.as_str()).cloned();
        pom.file = Some(file.clone());
        keep_pom(found, pom, &loc);
    }
    if own.is_empty()
        && let Some(m) = manifest
    {
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
            let pkg = maven_pkg(&group, &artifact, v, file, &loc);
            own.push((pkg.name.clone(), pkg.version.clone(), pkg.purl.clone()));
            found.packages.push(pkg);
        }
    }
    for (_, _, from) in &own {
        for (name, version, to) in &nested {
            if from != to {
                found.deps.push(crate::DepRef {
                    from: from.clone(),
                    near: display.to_string(),
                    ecosystem: Ecosystem::Maven,
                    name: name.clone(),
                    version: Some(version.clone()),
                });
            }
        }
    }
    Ok(own)
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
        .map(|_| ())
    }
}

/// The file without its XML comments (they could hide tags).
fn strip_comments(s: &str) -> String {
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
    clean
}

/// The top-level elements of `s` in order: (name, inner text). Attributes are ignored,
/// a self-closing element has empty text. Linear in `s` (no backtracking).
fn elements(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let Some(gt) = after.find('>') else { break };
        if after.starts_with(['?', '!', '/']) {
            rest = &after[gt + 1..];
            continue;
        }
        let head = &after[..gt];
        let name = head
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        let body = &after[gt + 1..];
        if head.ends_with('/') || name.is_empty() {
            out.push((name, ""));
            rest = body;
            continue;
        }
        let (open, close) = (format!("<{name}"), format!("</{name}"));
        let mut depth = 1usize;
        let mut end = None;
        let mut next_gt = 0usize;
        let mut k = 0usize;
        while let Some(off) = body[k..].find('<') {
            let at = k + off;
            let t = &body[at..];
            if t.starts_with(&close) && t[close.len()..].starts_with(['>', ' ', '\t', '\r', '\n']) {
                depth -= 1;
                if depth == 0 {
                    end = Some(at);
                    break;
                }
            } else if t.starts_with(&open)
                && t[open.len()..].starts_with(['>', ' ', '\t', '\r', '\n', '/'])
            {
                if next_gt <= at {
                    next_gt = body[at..].find('>').map_or(body.len(), |g| at + g);
                }
                if !body[..next_gt].ends_with('/') {
                    depth += 1;
                }
            }
            k = at + 1;
        }
        let Some(end) = end else { break };
        out.push((name, &body[..end]));
        rest = body[end..].find('>').map_or("", |g| &body[end + g + 1..]);
    }
    out
}

/// The trimmed text of the first top-level element `name`.
fn child<'a>(els: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    els.iter().find(|(n, _)| *n == name).map(|(_, v)| v.trim())
}

/// One `<dependency>`: groupId, artifactId, version, scope, type, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PomDep {
    group: String,
    artifact: String,
    version: Option<String>,
    scope: Option<String>,
    kind: Option<String>,
}

fn pom_deps(s: &str) -> Vec<PomDep> {
    elements(s)
        .into_iter()
        .filter(|(n, _)| *n == "dependency")
        .filter_map(|(_, d)| {
            let e = elements(d);
            Some(PomDep {
                group: child(&e, "groupId")?.to_string(),
                artifact: child(&e, "artifactId")?.to_string(),
                version: child(&e, "version").map(str::to_string),
                scope: child(&e, "scope").map(str::to_string),
                kind: child(&e, "type").map(str::to_string),
            })
        })
        .collect()
}

/// The `<parent>` of a POM.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PomParent {
    group: String,
    artifact: String,
    version: Option<String>,
    /// `None`: Maven's default `../pom.xml`; `Some("")`: no local lookup.
    relative_path: Option<String>,
}

/// A pom.xml as written (nothing inherited or interpolated yet).
#[derive(Debug, Clone, Default)]
pub struct Pom {
    /// The pom.xml (`/src/pom.xml`, or `/app/a.jar:META-INF/maven/g/a/pom.xml`).
    path: String,
    /// A file of a directory source (its parent is looked up by `relativePath`).
    standalone: bool,
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    parent: Option<PomParent>,
    props: BTreeMap<String, String>,
    managed: Vec<PomDep>,
    deps: Vec<PomDep>,
    /// (groupId, artifactId, version) of the jar's `pom.properties` next to it.
    jar_gav: Option<(String, String, String)>,
    /// The file it was read from (the archive for a jar's pom.xml).
    file: Option<FileMeta>,
}

impl Pom {
    /// Parse a pom.xml read at `path`.
    fn parse(s: &str, path: &str) -> Pom {
        let clean = strip_comments(s);
        let root = elements(&clean);
        let top = match root.iter().find(|(n, _)| *n == "project") {
            Some((_, p)) => elements(p),
            None => root,
        };
        let parent = top.iter().find(|(n, _)| *n == "parent").and_then(|(_, p)| {
            let e = elements(p);
            Some(PomParent {
                group: child(&e, "groupId")?.to_string(),
                artifact: child(&e, "artifactId")?.to_string(),
                version: child(&e, "version").map(str::to_string),
                relative_path: child(&e, "relativePath").map(str::to_string),
            })
        });
        let props = child(&top, "properties")
            .map(|p| {
                elements(p)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let managed = child(&top, "dependencyManagement")
            .and_then(|m| child(&elements(m), "dependencies").map(pom_deps))
            .unwrap_or_default();
        Pom {
            path: path.to_string(),
            group: child(&top, "groupId").map(str::to_string),
            artifact: child(&top, "artifactId").map(str::to_string),
            version: child(&top, "version").map(str::to_string),
            parent,
            props,
            managed,
            deps: child(&top, "dependencies")
                .map(pom_deps)
                .unwrap_or_default(),
            ..Pom::default()
        }
    }

    /// Coordinates as written or inherited literally from `<parent>` (no properties).
    fn gav(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        if let Some((g, a, v)) = &self.jar_gav {
            return (Some(g), Some(a), Some(v));
        }
        let p = self.parent.as_ref();
        (
            self.group.as_deref().or(p.map(|p| p.group.as_str())),
            self.artifact.as_deref(),
            self.version
                .as_deref()
                .or(p.and_then(|p| p.version.as_deref())),
        )
    }
}

/// Most parents followed from one POM (Maven has no limit; real chains are 2-5).
const MAX_PARENTS: usize = 8;
/// Most POMs kept by one run for parent resolution; beyond, one unknown says so.
pub const MAX_POMS: usize = 100_000;
/// Largest pom.xml parsed (real ones are under 200 KB).
const MAX_POM_BYTES: usize = 4 << 20;

/// Keep a parsed POM for the end of the run (bounded by [`MAX_POMS`]).
fn keep_pom(found: &mut Found, pom: Pom, loc: &Location) {
    if found.poms.len() >= MAX_POMS {
        if found.poms.len() == MAX_POMS {
            found.unknowns.push(moat_model::Unknown {
                location: loc.clone(),
                reason: format!(
                    "java-pom: over {MAX_POMS} pom.xml files, the rest are not resolved"
                ),
            });
            found.poms.push(Pom::default());
        }
        return;
    }
    found.poms.push(pom);
}

/// `dir/rel` with `.` and `..` components folded.
fn join_path(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let base = if rel.starts_with('/') { "" } else { dir };
    for c in base.split('/').chain(rel.split(['/', '\\'])) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The POMs read, indexed for parent lookups.
struct PomIndex<'a> {
    poms: &'a [Pom],
    by_path: HashMap<&'a str, usize>,
    by_gav: HashMap<(&'a str, &'a str, &'a str), usize>,
}

/// A POM with what it inherits: the effective properties (the child's override the
/// parent's) and managed versions (`groupId:artifactId` -> version, interpolated).
struct Effective {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    props: BTreeMap<String, String>,
    managed: BTreeMap<(String, String), String>,
}

/// Replace `${name}` references by `props`; `None` when one does not resolve.
fn interpolate(v: &str, props: &BTreeMap<String, String>) -> Option<String> {
    let mut v = v.to_string();
    for _ in 0..8 {
        let Some(i) = v.find("${") else {
            return Some(v);
        };
        let j = v[i..].find('}')? + i;
        let val = props.get(&v[i + 2..j])?;
        if v.len() + val.len() > 4096 {
            return None;
        }
        v = format!("{}{}{}", &v[..i], val, &v[j + 1..]);
    }
    None
}

impl<'a> PomIndex<'a> {
    fn new(poms: &'a [Pom]) -> Self {
        let mut by_path = HashMap::new();
        let mut by_gav = HashMap::new();
        for (i, p) in poms.iter().enumerate() {
            if p.path.is_empty() {
                continue;
            }
            by_path.entry(p.path.as_str()).or_insert(i);
            if let (Some(g), Some(a), Some(v)) = p.gav()
                && !v.contains("${")
            {
                by_gav.entry((g, a, v)).or_insert(i);
            }
        }
        PomIndex {
            poms,
            by_path,
            by_gav,
        }
    }

    /// The parent of POM `i` found in the same image or source: by `relativePath` for
    /// a file of a directory (when its coordinates match), else by coordinates.
    fn parent_of(&self, i: usize) -> Option<usize> {
        let pom = self.poms.get(i)?;
        let want = pom.parent.as_ref()?;
        let matches = |j: usize| {
            let (g, a, v) = self.poms[j].gav();
            g == Some(want.group.as_str())
                && a == Some(want.artifact.as_str())
                && (want.version.is_none() || v.is_none() || v == want.version.as_deref())
        };
        if pom.standalone {
            let rel = want.relative_path.as_deref().unwrap_or("../pom.xml");
            if !rel.is_empty() {
                let dir = moat_fs::parent(&pom.path);
                let mut p = join_path(dir, rel);
                if !p.ends_with(".xml") {
                    p = join_path(&p, "pom.xml");
                }
                if let Some(&j) = self.by_path.get(p.as_str())
                    && j != i
                    && matches(j)
                {
                    return Some(j);
                }
            }
        }
        let v = want.version.as_deref()?;
        self.by_gav
            .get(&(want.group.as_str(), want.artifact.as_str(), v))
            .copied()
            .filter(|&j| j != i)
    }

    /// POM `i` with what it inherits from its parents (at most [`MAX_PARENTS`], a
    /// cycle ends the chain) and imports from BOMs found in the image (`budget` bounds
    /// the BOMs visited for the imports, `imports` the BOMs being resolved: BOMs
    /// importing BOMs are followed [`MAX_PARENTS`] deep, never in a cycle).
    fn effective(&self, i: usize, budget: &mut usize, imports: &mut Vec<usize>) -> Effective {
        let mut chain = vec![i];
        while chain.len() <= MAX_PARENTS {
            let Some(&last) = chain.last() else { break };
            match self.parent_of(last) {
                Some(j) if !chain.contains(&j) => chain.push(j),
                _ => break,
            }
        }
        let mut eff = Effective {
            group: None,
            artifact: None,
            version: None,
            props: BTreeMap::new(),
            managed: BTreeMap::new(),
        };
        // From the farthest ancestor down: each child overrides what it declares.
        let mut parent_version: Option<String> = None;
        let mut raw_managed: BTreeMap<(String, String), PomDep> = BTreeMap::new();
        for &j in chain.iter().rev() {
            let p = &self.poms[j];
            eff.props
                .extend(p.props.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Some(pp) = &p.parent {
                parent_version = pp.version.clone().or(parent_version);
            }
            let (g, a, v) = p.gav();
            eff.group = g.map(str::to_string).or(eff.group.take());
            eff.artifact = a.map(str::to_string);
            eff.version = v.map(str::to_string).or(eff.version.take());
            for d in &p.managed {
                raw_managed.insert((d.group.clone(), d.artifact.clone()), d.clone());
            }
        }
        // Maven's model properties: `${project.*}`, the legacy `${pom.*}`, the parent's.
        let mut model = BTreeMap::new();
        for prefix in ["project", "pom"] {
            if let Some(g) = &eff.group {
                model.insert(format!("{prefix}.groupId"), g.clone());
            }
            if let Some(a) = &eff.artifact {
                model.insert(format!("{prefix}.artifactId"), a.clone());
            }
            if let Some(v) = &eff.version {
                model.insert(format!("{prefix}.version"), v.clone());
            }
        }
        if let Some(pp) = self.poms[i].parent.as_ref() {
            model.insert("project.parent.groupId".into(), pp.group.clone());
            model.insert("project.parent.artifactId".into(), pp.artifact.clone());
        }
        if let Some(v) = parent_version {
            model.insert("project.parent.version".into(), v);
        }
        eff.props.extend(model);
        // The coordinates themselves may use properties (`${revision}`).
        let resolved = |v: &Option<String>| v.as_deref().and_then(|v| interpolate(v, &eff.props));
        let (g, a, v) = (
            resolved(&eff.group),
            resolved(&eff.artifact),
            resolved(&eff.version),
        );
        for (k, val) in [("groupId", &g), ("artifactId", &a), ("version", &v)] {
            if let Some(val) = val {
                eff.props.insert(format!("project.{k}"), val.clone());
            }
        }
        (eff.group, eff.artifact, eff.version) = (g, a, v);
        let mut boms = Vec::new();
        for ((g, a), d) in raw_managed {
            let (Some(g), Some(a)) = (interpolate(&g, &eff.props), interpolate(&a, &eff.props))
            else {
                continue;
            };
            let Some(v) = d
                .version
                .as_deref()
                .and_then(|v| interpolate(v, &eff.props))
            else {
                continue;
            };
            if d.scope.as_deref() == Some("import") && d.kind.as_deref() == Some("pom") {
                boms.push((g, a, v));
            } else {
                eff.managed.insert((g, a), v);
            }
        }
        // A BOM imported supplies versions the POM and its parents do not manage.
        for (g, a, v) in boms {
            if *budget == 0 || imports.len() >= MAX_PARENTS {
                break;
            }
            *budget -= 1;
            if let Some(&j) = self.by_gav.get(&(g.as_str(), a.as_str(), v.as_str()))
                && !chain.contains(&j)
                && !imports.contains(&j)
            {
                imports.push(j);
                let bom = self.effective(j, budget, imports);
                imports.pop();
                for (k, v) in bom.managed {
                    eff.managed.entry(k).or_insert(v);
                }
            }
        }
        eff
    }
}

/// (groupId, artifactId, version) declared in one pom.xml, without parent POMs:
/// explicit versions, `${property}` references and dependencyManagement of the same
/// file; test-scoped and unresolvable versions are skipped.
pub fn parse_pom(s: &str) -> Vec<(String, String, String)> {
    let poms = [Pom::parse(s, "/pom.xml")];
    let index = PomIndex::new(&poms);
    let mut budget = 0;
    let eff = index.effective(0, &mut budget, &mut vec![0]);
    let mut out = resolved_deps(&poms[0], &eff);
    out.sort();
    out.dedup();
    out
}

/// The dependencies of `pom` whose coordinates resolve with `eff` (test scope skipped;
/// a missing version comes from dependencyManagement; never a guessed one).
fn resolved_deps(pom: &Pom, eff: &Effective) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for d in &pom.deps {
        if d.scope.as_deref() == Some("test") {
            continue;
        }
        let (Some(g), Some(a)) = (
            interpolate(&d.group, &eff.props),
            interpolate(&d.artifact, &eff.props),
        ) else {
            continue;
        };
        let v = match &d.version {
            Some(v) => interpolate(v, &eff.props),
            None => eff.managed.get(&(g.clone(), a.clone())).cloned(),
        };
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push((g, a, v));
        }
    }
    out
}

/// At the end of a run: resolve every POM kept against its parents in the same image
/// or source. A pom.xml of a directory adds its project's package and its declared
/// dependencies (`java-pom`); every POM adds dependency edges from its package.
pub(crate) fn resolve_poms(found: &mut Found) {
    let poms = std::mem::take(&mut found.poms);
    let index = PomIndex::new(&poms);
    let mut budget = MAX_POMS;
    for (i, pom) in poms.iter().enumerate() {
        let Some(file) = &pom.file else { continue };
        let eff = index.effective(i, &mut budget, &mut vec![i]);
        let deps = resolved_deps(pom, &eff);
        let (loc, near) = if pom.standalone {
            (crate::location(file), pom.path.clone())
        } else {
            let p = pom.path.rsplit_once(":META-INF/").map_or("", |(a, _)| a);
            (
                Location {
                    path: p.to_string(),
                    layer: file.layer.clone(),
                },
                p.to_string(),
            )
        };
        let from = match (&eff.group, &eff.artifact, &eff.version) {
            (Some(g), Some(a), Some(v)) if !v.is_empty() => {
                let p = maven_pkg(g, a, v, file, &loc);
                let purl = p.purl.clone();
                if pom.standalone {
                    let mut p = p;
                    p.found_by = "java-pom".into();
                    found.packages.push(p);
                }
                Some(purl)
            }
            _ => None,
        };
        for (g, a, v) in deps {
            if pom.standalone {
                let mut p = maven_pkg(&g, &a, &v, file, &loc);
                p.found_by = "java-pom".into();
                found.packages.push(p);
            }
            if let Some(from) = &from {
                found.deps.push(crate::DepRef {
                    from: from.clone(),
                    near: near.clone(),
                    ecosystem: Ecosystem::Maven,
                    name: format!("{g}:{a}"),
                    version: Some(v),
                });
            }
        }
    }
}

impl Cataloger for PomXml {
    fn name(&self) -> &'static str {
        "java-pom"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/pom.xml"])
    }
    fn content_only(&self) -> bool {
        false // its parent is found by its path
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        if data.len() > MAX_POM_BYTES {
            return Err(CatalogError::OverBudget {
                what: file.path.clone(),
                limit: MAX_POM_BYTES as u64,
                budget: "pom.xml size",
            });
        }
        let mut pom = Pom::parse(&text(&data), &file.path);
        pom.standalone = true;
        pom.file = Some(file.clone());
        keep_pom(found, pom, &crate::location(file));
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
        )
        .map(|_| ());
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

#[cfg(test)]
mod pom_tests {
    use super::*;

    fn bom(me: &str, imports: &str) -> String {
        format!(
            "<project><groupId>g</groupId><artifactId>{me}</artifactId><version>1</version>\
             <dependencyManagement><dependencies>\
             <dependency><groupId>g</groupId><artifactId>{imports}</artifactId><version>1</version>\
             <type>pom</type><scope>import</scope></dependency>\
             <dependency><groupId>x</groupId><artifactId>{me}-lib</artifactId><version>7</version></dependency>\
             </dependencies></dependencyManagement></project>"
        )
    }

    #[test]
    fn boms_importing_each_other_end_and_still_supply_versions() {
        let mut poms = vec![
            Pom::parse(&bom("a", "b"), "/a/pom.xml"),
            Pom::parse(&bom("b", "a"), "/b/pom.xml"),
        ];
        poms[0].deps = vec![PomDep {
            group: "x".into(),
            artifact: "b-lib".into(),
            ..PomDep::default()
        }];
        let index = PomIndex::new(&poms);
        let mut budget = MAX_POMS;
        let eff = index.effective(0, &mut budget, &mut vec![0]);
        assert_eq!(
            resolved_deps(&poms[0], &eff),
            [("x".to_string(), "b-lib".to_string(), "7".to_string())]
        );
    }

    #[test]
    fn hostile_xml_parses_in_linear_time_without_panics() {
        let n = 200_000;
        let cases = [
            "<a>".repeat(n),
            "<a ".repeat(n),
            "<a/>".repeat(n),
            format!(
                "<project>{}</project>",
                "<dependencies><dependency>".repeat(n)
            ),
            format!(
                "<project><properties>{}</properties></project>",
                "<p>${p}</p>".repeat(n)
            ),
            "<!--".repeat(n),
            "<".repeat(n),
        ];
        for c in &cases {
            let p = Pom::parse(c, "/pom.xml");
            assert!(p.deps.len() <= n);
            let _ = parse_pom(c);
        }
        // A property referring to itself does not resolve (and does not loop).
        let p = "<project><properties><v>${v}</v></properties><dependencies><dependency>\
                 <groupId>g</groupId><artifactId>a</artifactId><version>${v}</version>\
                 </dependency></dependencies></project>";
        assert!(parse_pom(p).is_empty());
    }
}
