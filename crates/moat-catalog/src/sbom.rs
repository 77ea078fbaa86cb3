//! SBOMs as input (`moat scan sbom:FILE`): CycloneDX 1.4–1.6 JSON, SPDX 2.2–2.3 JSON
//! and SPDX tag-value, as moat, syft and Trivy write them, read into the same
//! [`Inventory`] an image's catalog gives, so they are matched the same way.
//!
//! What each package becomes:
//! - ecosystem, name and version: moat's own properties when present (a moat SBOM
//!   reads back exactly); otherwise the PURL's type, the component's name, and for OS
//!   packages the PURL's version (with its `epoch` qualifier), which carries the
//!   release Trivy's SPDX `versionInfo` leaves out;
//! - source package (what OS packages are matched by): moat's `sourceName`/
//!   `sourceVersion` properties, Trivy's `SrcName`/`SrcEpoch`/`SrcVersion`/`SrcRelease`,
//!   or the PURL's `upstream` qualifier (syft, moat);
//! - locations: moat's and syft's `location:N:path`/`layer(ID)` properties, Trivy's
//!   `FilePath`/`LayerDiffID`, SPDX `sourceInfo` paths (moat, syft);
//! - the release: the `operating-system` component (CycloneDX) or package (SPDX), else
//!   the `distro` qualifier of an OS package's PURL;
//! - the dependency graph: CycloneDX `dependencies`, SPDX `DEPENDS_ON`/`DEPENDENCY_OF`.
//!
//! A component whose PURL type moat does not match (`pkg:generic/...`, `pkg:oci/...`)
//! becomes an [`Unknown`] naming it; one without a PURL (files, the image itself,
//! Trivy's lockfile groups) is skipped.

use moat_model::{Distro, Ecosystem, Inventory, Location, Package, Purl, PurlParts, Unknown};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Largest SBOM read (bytes): a syft SBOM of a large image is tens of MB.
pub const MAX_SBOM_BYTES: u64 = 256 << 20;
/// Most packages (components) read from one SBOM.
pub const MAX_SBOM_PACKAGES: usize = 1_000_000;
/// Deepest nesting of CycloneDX components followed.
const MAX_DEPTH: usize = 32;

/// Why an SBOM could not be read. Each names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than the {limit}-byte limit for SBOMs")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: more than {limit} packages")]
    TooMany { path: String, limit: usize },
    #[error("{path}: not a CycloneDX or SPDX SBOM: {why}")]
    Unrecognized { path: String, why: String },
    #[error("{path}: {format}: {why}")]
    Malformed {
        path: String,
        format: &'static str,
        why: String,
    },
}

/// The SBOM formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDxJson,
    SpdxJson,
    SpdxTagValue,
}

impl SbomFormat {
    pub fn name(self) -> &'static str {
        match self {
            SbomFormat::CycloneDxJson => "CycloneDX JSON",
            SbomFormat::SpdxJson => "SPDX JSON",
            SbomFormat::SpdxTagValue => "SPDX tag-value",
        }
    }
}

/// An SBOM read into an inventory.
#[derive(Debug, Clone)]
pub struct SbomInventory {
    pub format: SbomFormat,
    /// The spec version the document declares (`1.6`, `SPDX-2.3`).
    pub spec_version: String,
    pub inventory: Inventory,
}

/// Read an SBOM file, within [`MAX_SBOM_BYTES`].
pub fn read(path: &Path) -> Result<SbomInventory, SbomError> {
    read_limited(path, MAX_SBOM_BYTES)
}

/// Read an SBOM file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<SbomInventory, SbomError> {
    let name = path.display().to_string();
    let io = |source| SbomError::Io {
        path: name.clone(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut data = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > limit {
        return Err(SbomError::TooLarge { path: name, limit });
    }
    parse(&name, &data)
}

/// Parse an SBOM's bytes; `name` names it in errors and in the packages' unknowns.
pub fn parse(name: &str, data: &[u8]) -> Result<SbomInventory, SbomError> {
    let head = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &data[i..])
        .unwrap_or(&[]);
    if head.starts_with(b"{") {
        let v: Value = serde_json::from_slice(data).map_err(|e| SbomError::Unrecognized {
            path: name.to_string(),
            why: format!("invalid JSON: {e}"),
        })?;
        if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            return cyclonedx(name, &v);
        }
        if v.get("spdxVersion").is_some() {
            return spdx_json(name, &v);
        }
        return Err(SbomError::Unrecognized {
            path: name.to_string(),
            why: "JSON without `bomFormat: CycloneDX` or `spdxVersion`".into(),
        });
    }
    let text = String::from_utf8_lossy(data);
    if text
        .lines()
        .take(64)
        .any(|l| l.trim_start().starts_with("SPDXVersion:"))
    {
        return spdx_tag_value(name, &text);
    }
    Err(SbomError::Unrecognized {
        path: name.to_string(),
        why: "neither JSON nor SPDX tag-value (no `SPDXVersion:` line)".into(),
    })
}

/// One package-like entry of any format, before it becomes a [`Package`].
#[derive(Debug, Default)]
struct Entry {
    /// `bom-ref` or `SPDXID`.
    id: String,
    name: String,
    version: String,
    purl: String,
    props: Vec<(String, String)>,
    licenses: Vec<String>,
    /// SPDX `sourceInfo`.
    source_info: String,
    description: String,
    is_os: bool,
    cpes: Vec<String>,
}

impl Entry {
    fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn malformed(path: &str, format: SbomFormat, why: impl Into<String>) -> SbomError {
    SbomError::Malformed {
        path: path.to_string(),
        format: format.name(),
        why: why.into(),
    }
}

fn cyclonedx(path: &str, v: &Value) -> Result<SbomInventory, SbomError> {
    let fmt = SbomFormat::CycloneDxJson;
    let spec = s(v, "specVersion");
    if !matches!(spec.as_str(), "1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7") {
        return Err(malformed(
            path,
            fmt,
            format!("specVersion {spec:?} is not one moat reads (1.4 to 1.6)"),
        ));
    }
    let mut entries = Vec::new();
    if let Some(list) = v.get("components") {
        let list = list
            .as_array()
            .ok_or_else(|| malformed(path, fmt, "`components` is not an array"))?;
        cdx_components(path, list, 0, &mut entries)?;
    }
    // Some tools nest the image's contents under the metadata component.
    if let Some(list) = v
        .pointer("/metadata/component/components")
        .and_then(Value::as_array)
    {
        cdx_components(path, list, 0, &mut entries)?;
    }
    let mut edges = Vec::new();
    for d in v
        .get("dependencies")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let from = s(d, "ref");
        for t in d
            .get("dependsOn")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let Some(t) = t.as_str() {
                edges.push((from.clone(), t.to_string()));
            }
        }
    }
    Ok(SbomInventory {
        format: fmt,
        spec_version: spec,
        inventory: build(path, entries, &edges, "sbom-cyclonedx"),
    })
}

fn cdx_components(
    path: &str,
    list: &[Value],
    depth: usize,
    out: &mut Vec<Entry>,
) -> Result<(), SbomError> {
    if depth > MAX_DEPTH {
        return Err(malformed(
            path,
            SbomFormat::CycloneDxJson,
            format!("components nested deeper than {MAX_DEPTH}"),
        ));
    }
    for c in list {
        if out.len() >= MAX_SBOM_PACKAGES {
            return Err(SbomError::TooMany {
                path: path.to_string(),
                limit: MAX_SBOM_PACKAGES,
            });
        }
        let props = c
            .get("properties")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .map(|p| (s(p, "name"), s(p, "value")))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let licenses = c
            .get("licenses")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .filter_map(|l| {
                        l.get("expression")
                            .and_then(Value::as_str)
                            .or_else(|| l.pointer("/license/id").and_then(Value::as_str))
                            .or_else(|| l.pointer("/license/name").and_then(Value::as_str))
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = match c.get("group").and_then(Value::as_str) {
            // npm scopes go into `group` with some tools; Maven groups stay out of
            // the name (moat and syft name a Maven package by its artifact).
            Some(g) if g.starts_with('@') => format!("{g}/{}", s(c, "name")),
            _ => s(c, "name"),
        };
        out.push(Entry {
            id: s(c, "bom-ref"),
            name,
            version: s(c, "version"),
            purl: s(c, "purl"),
            props,
            licenses,
            source_info: String::new(),
            description: s(c, "description"),
            is_os: s(c, "type") == "operating-system",
            cpes: [s(c, "cpe")]
                .into_iter()
                .filter(|c| !c.is_empty())
                .collect(),
        });
        if let Some(sub) = c.get("components").and_then(Value::as_array) {
            cdx_components(path, sub, depth + 1, out)?;
        }
    }
    Ok(())
}

/// `SPDX-2.2` / `SPDX-2.3` (and the 2.1 documents some tools still write).
fn check_spdx_version(path: &str, fmt: SbomFormat, v: &str) -> Result<(), SbomError> {
    if matches!(v.trim(), "SPDX-2.1" | "SPDX-2.2" | "SPDX-2.3") {
        Ok(())
    } else {
        Err(malformed(
            path,
            fmt,
            format!("spdxVersion {v:?} is not one moat reads (SPDX-2.2 or SPDX-2.3)"),
        ))
    }
}

fn spdx_is_os(purpose: &str, id: &str) -> bool {
    let p = purpose.replace('_', "-");
    p.eq_ignore_ascii_case("OPERATING-SYSTEM") || id.starts_with("SPDXRef-OperatingSystem")
}

fn spdx_json(path: &str, v: &Value) -> Result<SbomInventory, SbomError> {
    let fmt = SbomFormat::SpdxJson;
    let spec = s(v, "spdxVersion");
    check_spdx_version(path, fmt, &spec)?;
    let pkgs = match v.get("packages") {
        None => &[][..],
        Some(p) => p
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| malformed(path, fmt, "`packages` is not an array"))?,
    };
    if pkgs.len() > MAX_SBOM_PACKAGES {
        return Err(SbomError::TooMany {
            path: path.to_string(),
            limit: MAX_SBOM_PACKAGES,
        });
    }
    let mut entries = Vec::new();
    for p in pkgs {
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| s(r, "referenceType") == "purl")
                    .map(|r| s(r, "referenceLocator"))
            })
            .unwrap_or_default();
        let props = p
            .get("attributionTexts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter_map(attribution)
                    .collect()
            })
            .unwrap_or_default();
        let id = s(p, "SPDXID");
        entries.push(Entry {
            is_os: spdx_is_os(&s(p, "primaryPackagePurpose"), &id),
            id,
            name: s(p, "name"),
            version: s(p, "versionInfo"),
            purl,
            props,
            licenses: spdx_license(&s(p, "licenseDeclared")),
            source_info: s(p, "sourceInfo"),
            description: s(p, "description"),
            cpes: p
                .get("externalRefs")
                .and_then(Value::as_array)
                .map(|refs| {
                    refs.iter()
                        .filter(|r| s(r, "referenceType") == "cpe23Type")
                        .map(|r| s(r, "referenceLocator"))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    let mut edges = Vec::new();
    for r in v
        .get("relationships")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        spdx_edge(
            &s(r, "spdxElementId"),
            &s(r, "relationshipType"),
            &s(r, "relatedSpdxElement"),
            &mut edges,
        );
    }
    Ok(SbomInventory {
        format: fmt,
        spec_version: spec,
        inventory: build(path, entries, &edges, "sbom-spdx"),
    })
}

/// Trivy's `attributionTexts`: `Key: value` pairs, as its CycloneDX properties.
fn attribution(t: &str) -> Option<(String, String)> {
    let (k, v) = t.split_once(": ")?;
    Some((
        format!("aquasecurity:trivy:{}", k.trim()),
        v.trim().to_string(),
    ))
}

fn spdx_license(s: &str) -> Vec<String> {
    let s = s.trim();
    if s.is_empty() || s == "NOASSERTION" || s == "NONE" {
        Vec::new()
    } else {
        vec![s.to_string()]
    }
}

fn spdx_edge(a: &str, kind: &str, b: &str, edges: &mut Vec<(String, String)>) {
    match kind {
        "DEPENDS_ON" => edges.push((a.to_string(), b.to_string())),
        "DEPENDENCY_OF" => edges.push((b.to_string(), a.to_string())),
        _ => {}
    }
}

fn spdx_tag_value(path: &str, text: &str) -> Result<SbomInventory, SbomError> {
    let fmt = SbomFormat::SpdxTagValue;
    let mut spec = String::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut edges = Vec::new();
    let mut purpose = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some((tag, value)) = line.split_once(':') else {
            continue;
        };
        let tag = tag.trim();
        let mut value = value.trim().to_string();
        // A `<text>...</text>` value may span lines.
        if let Some(rest) = value.strip_prefix("<text>") {
            let mut acc = rest.to_string();
            while !acc.contains("</text>") {
                match lines.next() {
                    Some(l) => {
                        acc.push('\n');
                        acc.push_str(l);
                    }
                    None => return Err(malformed(path, fmt, "unterminated <text> value")),
                }
            }
            value = acc.split("</text>").next().unwrap_or_default().to_string();
        }
        match tag {
            "SPDXVersion" => spec = value,
            "PackageName" => {
                if let Some(last) = entries.last_mut() {
                    last.is_os = spdx_is_os(&purpose, &last.id);
                }
                purpose.clear();
                if entries.len() >= MAX_SBOM_PACKAGES {
                    return Err(SbomError::TooMany {
                        path: path.to_string(),
                        limit: MAX_SBOM_PACKAGES,
                    });
                }
                entries.push(Entry {
                    name: value,
                    ..Entry::default()
                });
            }
            // Before the first package, SPDXID names the document.
            "SPDXID" => {
                if let Some(e) = entries.last_mut()
                    && e.id.is_empty()
                {
                    e.id = value;
                }
            }
            "PackageVersion" => {
                if let Some(e) = entries.last_mut() {
                    e.version = value;
                }
            }
            "PackageSourceInfo" => {
                if let Some(e) = entries.last_mut() {
                    e.source_info = value;
                }
            }
            "PackageLicenseDeclared" => {
                if let Some(e) = entries.last_mut() {
                    e.licenses = spdx_license(&value);
                }
            }
            "PackageSummary" | "PackageDescription" => {
                if let Some(e) = entries.last_mut() {
                    e.description = value;
                }
            }
            "PrimaryPackagePurpose" => purpose = value,
            "PackageAttributionText" => {
                if let (Some(e), Some(kv)) = (entries.last_mut(), attribution(&value)) {
                    e.props.push(kv);
                }
            }
            "ExternalRef" => {
                let mut parts = value.split_whitespace();
                let (_cat, ty, loc) = (parts.next(), parts.next(), parts.next());
                if let (Some(e), Some(l)) = (entries.last_mut(), loc) {
                    match ty {
                        Some("purl") => e.purl = l.to_string(),
                        Some("cpe23Type") => e.cpes.push(l.to_string()),
                        _ => {}
                    }
                }
            }
            "Relationship" => {
                let mut parts = value.split_whitespace();
                if let (Some(a), Some(k), Some(b)) = (parts.next(), parts.next(), parts.next()) {
                    spdx_edge(a, k, b, &mut edges);
                }
            }
            // A file section ends the package section.
            "FileName" => {
                if let Some(last) = entries.last_mut() {
                    last.is_os = last.is_os || spdx_is_os(&purpose, &last.id);
                }
                purpose.clear();
            }
            _ => {}
        }
    }
    if let Some(last) = entries.last_mut() {
        last.is_os = last.is_os || spdx_is_os(&purpose, &last.id);
    }
    check_spdx_version(path, fmt, &spec)?;
    Ok(SbomInventory {
        format: fmt,
        spec_version: spec,
        inventory: build(path, entries, &edges, "sbom-spdx"),
    })
}

/// A PURL's parts, percent-decoded.
struct ParsedPurl {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: String,
    qualifiers: BTreeMap<String, String>,
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_purl(s: &str) -> Option<ParsedPurl> {
    let rest = s.strip_prefix("pkg:")?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let (rest, quals) = match rest.split_once('?') {
        Some((a, q)) => (a, q),
        None => (rest, ""),
    };
    let (ty, path) = rest.split_once('/')?;
    let (path, version) = match path.rsplit_once('@') {
        // `@` of an npm scope is encoded (`%40`) in a valid PURL, but tolerate a
        // leading raw one (`pkg:npm/@scope/name@1.0`).
        Some((p, v)) if !p.is_empty() => (p, decode(v)),
        _ => (path, String::new()),
    };
    let path = path.trim_matches('/');
    let (ns, name) = match path.rsplit_once('/') {
        Some((ns, n)) => (
            Some(ns.split('/').map(decode).collect::<Vec<_>>().join("/")),
            n,
        ),
        None => (None, path),
    };
    let qualifiers = quals
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_ascii_lowercase(), decode(v)))
        .collect();
    Some(ParsedPurl {
        ty: ty.to_ascii_lowercase(),
        namespace: ns,
        name: decode(name),
        version,
        qualifiers,
    })
}

/// `debian-12`, `alpine-3.21.3`, `centos-7.6.1810`, `ubuntu-22.04`: id and version.
fn distro_qualifier(q: &str) -> Option<Distro> {
    let (id, v) = q.split_once('-')?;
    Some(Distro {
        id: id.to_string(),
        version_id: v.to_string(),
        ..Distro::default()
    })
}

/// An Ubuntu release without PRETTY_NAME: YY.04 of an even year is an LTS release
/// (Canonical's policy since 6.06), which the matcher's namespace needs to know.
fn ubuntu_pretty(d: &mut Distro) {
    if d.id == "ubuntu" && d.pretty_name.is_empty() {
        let mut it = d.version_id.split('.');
        if let (Some(yy), Some("04")) = (it.next().and_then(|y| y.parse::<u32>().ok()), it.next())
            && yy % 2 == 0
        {
            d.pretty_name = format!("Ubuntu {}.04 LTS", yy);
        }
    }
}

fn os_distro(e: &Entry) -> Distro {
    let mut d = Distro {
        id: e
            .prop("syft:distro:id")
            .map(str::to_string)
            .unwrap_or_else(|| e.name.to_ascii_lowercase()),
        version_id: e
            .prop("syft:distro:versionID")
            .map(str::to_string)
            .unwrap_or_else(|| e.version.clone()),
        version_codename: e
            .prop("syft:distro:versionCodename")
            .unwrap_or_default()
            .to_string(),
        pretty_name: e
            .prop("syft:distro:prettyName")
            .map(str::to_string)
            .unwrap_or_else(|| e.description.clone()),
        id_like: e
            .prop("syft:distro:idLike")
            .map(|s| {
                s.split([',', ' '])
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    };
    ubuntu_pretty(&mut d);
    d
}

/// The paths of an SPDX `sourceInfo`: moat's `... in: A, B`, syft's `...: A, B`.
fn source_info_paths(s: &str) -> Vec<String> {
    let tail = s
        .rsplit_once(" in: ")
        .map(|(_, t)| t)
        .or_else(|| s.split_once(": ").map(|(_, t)| t))
        .unwrap_or("");
    tail.split(", ")
        .map(str::trim)
        .filter(|p| p.starts_with('/'))
        .map(str::to_string)
        .collect()
}

/// moat's SPDX `sourceInfo`: `source package NAME[ VERSION]; found by moat ...`.
fn moat_source_info(s: &str) -> Option<(String, Option<String>, String)> {
    let (head, tail) = match s.strip_prefix("source package ") {
        Some(rest) => {
            let (src, tail) = rest.split_once("; ")?;
            (Some(src), tail)
        }
        None => (None, s),
    };
    let found_by = tail
        .strip_prefix("found by moat ")?
        .split(" in: ")
        .next()?
        .to_string();
    let (name, version) = match head {
        Some(h) => match h.split_once(' ') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (h.to_string(), None),
        },
        None => (String::new(), None),
    };
    Some((name, version, found_by))
}

fn locations(e: &Entry) -> Vec<Location> {
    let mut out = Vec::new();
    for i in 0..1024 {
        let path = e
            .prop(&format!("moat:location:{i}:path"))
            .or_else(|| e.prop(&format!("syft:location:{i}:path")));
        let Some(path) = path else { break };
        let layer = e
            .prop(&format!("moat:location:{i}:layer"))
            .or_else(|| e.prop(&format!("syft:location:{i}:layerID")))
            .map(str::to_string);
        out.push(Location {
            path: path.to_string(),
            layer,
        });
    }
    if out.is_empty() {
        let layer = e.prop("aquasecurity:trivy:LayerDiffID").map(str::to_string);
        if let Some(p) = e.prop("aquasecurity:trivy:FilePath") {
            let p = if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            };
            out.push(Location { path: p, layer });
        } else {
            for p in source_info_paths(&e.source_info) {
                out.push(Location {
                    path: p,
                    layer: None,
                });
            }
            if out.is_empty() && layer.is_some() {
                out.push(Location {
                    path: String::new(),
                    layer,
                });
            }
        }
    }
    out
}

/// One entry as a package, or why it is not one.
/// Why an entry with a PURL is not a package moat can match (it becomes an unknown).
struct NotMatched(String);

fn package(e: &Entry, default_found_by: &str) -> Result<Option<Package>, NotMatched> {
    if e.purl.is_empty() {
        return Ok(None);
    }
    let Some(pp) = parse_purl(&e.purl) else {
        return Err(NotMatched(format!(
            "{}: not a package URL: {:?}",
            e.name, e.purl
        )));
    };
    // The image itself (syft's SPDX root package), not a package in it.
    if matches!(pp.ty.as_str(), "oci" | "docker") {
        return Ok(None);
    }
    let eco = e
        .prop("moat:package:ecosystem")
        .and_then(Ecosystem::from_purl_type)
        .or_else(|| Ecosystem::from_purl_type(&pp.ty));
    let Some(eco) = eco else {
        return Err(NotMatched(format!(
            "{} {}: PURL type {:?} is not matched by moat ({})",
            e.name, e.version, pp.ty, e.purl
        )));
    };
    let is_moat = e.prop("moat:package:ecosystem").is_some();
    let moat_spdx = moat_source_info(&e.source_info);
    let name = if !e.name.is_empty() {
        e.name.clone()
    } else {
        match (&pp.namespace, eco) {
            (Some(ns), Ecosystem::Npm | Ecosystem::Golang | Ecosystem::Composer) => {
                format!("{ns}/{}", pp.name)
            }
            _ => pp.name.clone(),
        }
    };
    let mut version = if is_moat || moat_spdx.is_some() {
        e.version.clone()
    } else if eco.is_os() && !pp.version.is_empty() {
        match pp.qualifiers.get("epoch") {
            Some(ep) if !pp.version.contains(':') && ep != "0" => {
                format!("{ep}:{}", pp.version)
            }
            _ => pp.version.clone(),
        }
    } else {
        e.version.clone()
    };
    if version.is_empty() {
        version = pp.version.clone();
    }
    let mut source_name = None;
    let mut source_version = None;
    if let Some(s) = e.prop("moat:package:sourceName") {
        source_name = Some(s.to_string());
        source_version = e.prop("moat:package:sourceVersion").map(str::to_string);
    } else if let Some((sn, sv, _)) = moat_spdx.as_ref().filter(|m| !m.0.is_empty()) {
        source_name = Some(sn.clone());
        source_version = sv.clone();
    } else if eco.is_os() {
        if let Some(sn) = e.prop("aquasecurity:trivy:SrcName") {
            source_name = Some(sn.to_string());
            if let Some(sv) = e.prop("aquasecurity:trivy:SrcVersion") {
                let mut full = sv.to_string();
                if let Some(r) = e.prop("aquasecurity:trivy:SrcRelease") {
                    full = format!("{full}-{r}");
                }
                let bare = version.split_once(':').map(|(_, v)| v).unwrap_or(&version);
                if full != bare {
                    if let Some(ep) = e.prop("aquasecurity:trivy:SrcEpoch")
                        && ep != "0"
                        && eco != Ecosystem::Rpm
                    {
                        full = format!("{ep}:{full}");
                    }
                    if full != version {
                        source_version = Some(full);
                    }
                }
            }
        } else if let Some(up) = pp.qualifiers.get("upstream") {
            if eco == Ecosystem::Rpm {
                if let Some((sn, sv)) = crate::rpm::split_source_rpm(up) {
                    let bare = version.split_once(':').map(|(_, v)| v).unwrap_or(&version);
                    if sv != bare {
                        source_version = Some(sv);
                    }
                    source_name = Some(sn);
                }
            } else {
                match up.split_once('@') {
                    Some((sn, sv)) => {
                        source_name = Some(sn.to_string());
                        if sv != version {
                            source_version = Some(sv.to_string());
                        }
                    }
                    None => source_name = Some(up.clone()),
                }
            }
        }
        if source_name.is_none() {
            source_name = Some(name.clone());
        }
    }
    let purl = Purl::parse(&e.purl).unwrap_or_else(|_| {
        PurlParts::new(&pp.ty, pp.namespace.as_deref(), &pp.name, Some(&version)).build()
    });
    let found_by = e
        .prop("moat:package:foundBy")
        .map(str::to_string)
        .or_else(|| moat_spdx.as_ref().map(|m| m.2.clone()))
        .or_else(|| e.prop("syft:package:foundBy").map(str::to_string))
        .or_else(|| {
            e.prop("aquasecurity:trivy:PkgType")
                .or_else(|| e.prop("aquasecurity:trivy:Type"))
                .map(|t| format!("trivy-{t}"))
        })
        .unwrap_or_else(|| default_found_by.to_string());
    Ok(Some(Package {
        name,
        version,
        ecosystem: eco,
        purl,
        source_name,
        source_version,
        locations: locations(e),
        licenses: e.licenses.clone(),
        found_by,
        cpes: e.cpes.clone(),
    }))
}

/// The inventory of the entries: packages sorted as a catalog's, the release, the graph.
fn build(
    path: &str,
    entries: Vec<Entry>,
    edges: &[(String, String)],
    default_found_by: &str,
) -> Inventory {
    let mut distro = entries.iter().find(|e| e.is_os).map(os_distro);
    let mut found = crate::Found::default();
    let mut purl_of: BTreeMap<&str, Purl> = BTreeMap::new();
    for e in &entries {
        if e.is_os {
            continue;
        }
        match package(e, default_found_by) {
            Ok(Some(p)) => {
                if !e.id.is_empty() {
                    purl_of.insert(e.id.as_str(), p.purl.clone());
                }
                // A bom-ref is often the PURL itself: edges may name it either way.
                purl_of.insert(e.purl.as_str(), p.purl.clone());
                found.packages.push(p);
            }
            Ok(None) => {}
            Err(NotMatched(why)) => found.unknowns.push(Unknown {
                location: Location {
                    path: path.to_string(),
                    layer: None,
                },
                reason: format!("sbom: {why}"),
            }),
        }
    }
    if distro.is_none() {
        distro = found
            .packages
            .iter()
            .filter(|p| p.ecosystem.is_os())
            .find_map(|p| {
                parse_purl(&p.purl).and_then(|pp| {
                    pp.qualifiers
                        .get("distro")
                        .and_then(|q| distro_qualifier(q))
                })
            })
            .map(|mut d| {
                ubuntu_pretty(&mut d);
                d
            });
    }
    let mut inv = crate::finish(distro, found);
    inv.dependencies = moat_model::graph::normalize(edges.iter().filter_map(|(a, b)| {
        Some((
            purl_of.get(a.as_str())?.clone(),
            purl_of.get(b.as_str())?.clone(),
        ))
    }));
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_split_and_decoded() {
        let p = parse_purl("pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12&upstream=gcc-12")
            .unwrap();
        assert_eq!(
            (
                p.ty.as_str(),
                p.namespace.as_deref(),
                p.name.as_str(),
                p.version.as_str()
            ),
            ("deb", Some("debian"), "libstdc++6", "12.2.0-14+deb12u1")
        );
        assert_eq!(
            p.qualifiers.get("upstream").map(String::as_str),
            Some("gcc-12")
        );
        let n = parse_purl("pkg:npm/%40babel/core@7.0.0").unwrap();
        assert_eq!(
            (n.namespace.as_deref(), n.name.as_str()),
            (Some("@babel"), "core")
        );
        let g = parse_purl("pkg:golang/github.com/a/b@v1.0.0").unwrap();
        assert_eq!(g.namespace.as_deref(), Some("github.com/a"));
        assert!(parse_purl("npm/x@1").is_none());
    }

    #[test]
    fn ubuntu_lts_follows_the_release_policy() {
        let mut d = distro_qualifier("ubuntu-22.04").unwrap();
        ubuntu_pretty(&mut d);
        assert_eq!(d.pretty_name, "Ubuntu 22.04 LTS");
        let mut d = distro_qualifier("ubuntu-23.04").unwrap();
        ubuntu_pretty(&mut d);
        assert_eq!(d.pretty_name, "");
    }

    #[test]
    fn source_info_paths_of_moat_and_syft() {
        assert_eq!(
            source_info_paths("found by moat dpkg-db in: /var/lib/dpkg/status"),
            ["/var/lib/dpkg/status"]
        );
        assert_eq!(
            source_info_paths(
                "acquired package info from DPKG DB: /var/lib/dpkg/status, /usr/share/doc/a/copyright"
            ),
            ["/var/lib/dpkg/status", "/usr/share/doc/a/copyright"]
        );
        assert_eq!(
            moat_source_info("source package util-linux 2.38.1-5; found by moat dpkg-db in: /x"),
            Some((
                "util-linux".to_string(),
                Some("2.38.1-5".to_string()),
                "dpkg-db".to_string()
            ))
        );
    }

    #[test]
    fn unknown_text_is_refused_naming_the_file() {
        let e = parse("/tmp/x.txt", b"hello").unwrap_err().to_string();
        assert!(
            e.starts_with("/tmp/x.txt: not a CycloneDX or SPDX SBOM"),
            "{e}"
        );
        let e = parse("/tmp/x.json", b"{\"a\": 1}").unwrap_err().to_string();
        assert!(e.contains("/tmp/x.json"), "{e}");
        let e = parse(
            "/tmp/y.json",
            b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"9\"}",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("specVersion \"9\""), "{e}");
    }
}
