//! Reading inputs: OSV JSON files, directories of them, osv.dev `all.zip`
//! archives, Alpine secdb files. Units are handed to a sink one by one, so a
//! large archive is never held in memory whole.

use crate::cve::{self, CveRecord};
use crate::error::Error;
use crate::model::Advisory;
use crate::{Result, alpine, osv};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// No single advisory file or zip entry may be larger than this (zip bombs,
/// garbage): 64 MiB.
pub const MAX_ENTRY_BYTES: u64 = 64 << 20;

/// Most entries read from one advisory zip (osv.dev's largest, Debian, has about
/// 60,000).
pub const MAX_ZIP_ENTRIES: usize = 2_000_000;

/// Largest inflated/compressed ratio of one zip entry (JSON compresses about 10:1).
pub const MAX_ZIP_RATIO: u64 = 1_000;

/// Largest zip inside a zip (cvelistV5's daily `…_all_CVEs_at_midnight.zip.zip` holds
/// one `cves.zip` of about 600 MB): 4 GiB. It is inflated to a temporary file beside
/// the outer archive, never into memory, and only one level deep.
pub const MAX_NESTED_ZIP_BYTES: u64 = 4 << 30;

/// What an input was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// One OSV JSON record.
    OsvJson,
    /// A zip of OSV JSON records (osv.dev `<Ecosystem>/all.zip`).
    OsvZip,
    /// An Alpine secdb file (`vX.Y/main.json`).
    AlpineSecdb,
    /// A directory, walked recursively for `*.json` and `*.zip`.
    Directory,
    /// NVD CVE API 2.0 response pages (`moat db update`'s `nvd-api` source).
    NvdApi,
}

impl InputKind {
    /// Guess from a file name or URL path (used for downloads).
    pub fn from_name(name: &str) -> InputKind {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".zip") {
            InputKind::OsvZip
        } else if is_secdb_name(&lower) {
            InputKind::AlpineSecdb
        } else {
            InputKind::OsvJson
        }
    }
}

/// `…/vX.Y/main.json`, `…/edge/community.json`.
fn is_secdb_name(lower: &str) -> bool {
    let mut parts = lower.rsplit('/');
    let file = parts.next().unwrap_or("");
    let dir = parts.next().unwrap_or("");
    matches!(file, "main.json" | "community.json")
        && (dir == "edge" || (dir.starts_with('v') && dir[1..].contains('.')))
}

pub use crate::model::Skipped;

/// The outcome of importing one input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// The input as given (path or URL).
    pub location: String,
    /// Advisories stored, per source (`osv`, `alpine-secdb`).
    pub stored: BTreeMap<String, usize>,
    /// Advisories stored, per ecosystem of their affected entries.
    pub ecosystems: BTreeMap<String, usize>,
    /// Of the stored advisories, how many are withdrawn.
    pub withdrawn: usize,
    /// GIT ranges seen and not stored.
    pub git_ranges: usize,
    /// Files (or zip entries) read.
    pub files: usize,
    /// Advisories reported and skipped whole.
    pub skipped: Vec<Skipped>,
    /// CVE records read and stored as CVE records (not advisories), per format
    /// (`cve-json-5`, `nvd-cve-api-2`): they carry severities, CWEs and KEV dates, not
    /// affected ranges, and must never be read as OSV (an NVD record has an `id` and
    /// would otherwise pass for an empty OSV advisory).
    pub other_records: BTreeMap<String, usize>,
    /// Per source (a zip archive, a single file, or a directory of JSON files): records
    /// stored and skipped by reason, for one summary line each.
    pub sources: BTreeMap<String, SourceSummary>,
}

/// What one source of an import gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    /// Advisories and CVE records read.
    pub records: usize,
    /// Records skipped, per reason (the reason without the record's own details).
    pub skipped: BTreeMap<String, usize>,
}

/// The class of a skip reason: `affected[3] (x) range 0: invalid Semver version "1.9":
/// expected …` → `invalid Semver version`.
pub fn reason_class(reason: &str) -> String {
    let mut r = reason;
    // Strip the record's own prefix: `affected[3] (x) range 0: ` (OSV), `pkg 1.2-r0: `
    // (Alpine secdb).
    if let Some(i) = r.find(": ")
        && !r[..i].contains('"')
        && (r.starts_with("affected[")
            || r[i + 2..].starts_with("invalid ")
            || r[i + 2..].starts_with("no "))
    {
        r = &r[i + 2..];
    }
    // A quoted value followed by `: why` is the record's data (`version "1.9": …`); a
    // quoted word inside the sentence is part of the reason (`no "introduced" event`).
    let quote = r.find('"').filter(|&q| {
        r[q + 1..].find('"').is_some_and(|e| {
            let rest = &r[q + 1 + e + 1..];
            rest.is_empty() || rest.starts_with(':')
        })
    });
    let end = r
        .find([':', '('])
        .into_iter()
        .chain(quote)
        .min()
        .unwrap_or(r.len());
    let class = r[..end].trim();
    if class.is_empty() {
        "other".to_string()
    } else {
        class.to_string()
    }
}

impl ImportReport {
    /// Total advisories stored.
    pub fn total(&self) -> usize {
        self.stored.values().sum()
    }
}

/// One unit read from an input.
pub(crate) enum Unit {
    Advisory(Box<Advisory>),
    Cve(Box<CveRecord>),
    Skip(Skipped),
}

/// The callback units are handed to.
pub(crate) type Sink<'a> = dyn FnMut(Unit) -> Result<()> + 'a;

/// Read `path` (file, directory or zip) and hand every unit to `sink`.
pub(crate) fn read_path(path: &Path, report: &mut ImportReport, sink: &mut Sink<'_>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        read_dir(path, report, sink)
    } else {
        read_file(path, None, report, sink)
    }
}

/// Read one file; `kind` overrides detection (downloads name their kind by URL).
pub(crate) fn read_file(
    path: &Path,
    kind: Option<InputKind>,
    report: &mut ImportReport,
    sink: &mut Sink<'_>,
) -> Result<()> {
    read_file_as(path, &path.display().to_string(), kind, report, sink)
}

/// Read one file, counting what it gives under `source` in [`ImportReport::sources`].
fn read_file_as(
    path: &Path,
    source: &str,
    kind: Option<InputKind>,
    report: &mut ImportReport,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut summary = report.sources.remove(source).unwrap_or_default();
    let result = {
        let mut counting = |u: Unit| -> Result<()> {
            match &u {
                Unit::Skip(s) => {
                    *summary.skipped.entry(reason_class(&s.reason)).or_default() += 1;
                }
                Unit::Advisory(_) | Unit::Cve(_) => summary.records += 1,
            }
            sink(u)
        };
        read_file_inner(path, kind, report, &mut counting)
    };
    report.sources.insert(source.to_string(), summary);
    result
}

fn read_file_inner(
    path: &Path,
    kind: Option<InputKind>,
    report: &mut ImportReport,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let name = path.to_string_lossy();
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut f, &mut magic).map_err(|e| Error::io(path, e))?;
    let is_zip = n == 4 && &magic == b"PK\x03\x04";
    let kind = kind.unwrap_or(if is_zip {
        InputKind::OsvZip
    } else {
        InputKind::OsvJson
    });
    if kind == InputKind::OsvZip || is_zip {
        if !is_zip {
            return Err(Error::Unrecognized {
                location: name.into_owned(),
                reason: "not a zip archive".into(),
            });
        }
        drop(f);
        return read_zip(path, 0, report, sink);
    }
    drop(f);
    let bytes = read_limited(path)?;
    report.files += 1;
    read_json(&name, &bytes, kind == InputKind::AlpineSecdb, report, sink)
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(Error::Unrecognized {
            location: path.display().to_string(),
            reason: format!("larger than {MAX_ENTRY_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

/// One JSON document: a secdb file or an OSV record.
fn read_json(
    location: &str,
    bytes: &[u8],
    secdb: bool,
    report: &mut ImportReport,
    sink: &mut Sink<'_>,
) -> Result<()> {
    if secdb || alpine::sniff(bytes) {
        let (advs, skipped) = alpine::parse(location, bytes).map_err(|source| Error::Json {
            location: location.to_string(),
            error: source,
        })?;
        for s in skipped {
            sink(Unit::Skip(s))?;
        }
        for a in advs {
            sink(Unit::Advisory(Box::new(a)))?;
        }
        return Ok(());
    }
    if let Some(format) = other_format(bytes) {
        return read_cve(location, bytes, format, report, sink);
    }
    match osv::parse(bytes) {
        Ok(p) => {
            report.git_ranges += p.git_ranges;
            sink(Unit::Advisory(Box::new(p.advisory)))
        }
        Err(osv::ParseError::Invalid(osv::Invalid { id, reason })) => sink(Unit::Skip(Skipped {
            location: location.to_string(),
            id,
            reason,
        })),
        Err(osv::ParseError::Json(source)) => Err(Error::Json {
            location: location.to_string(),
            error: source,
        }),
    }
}

/// Top-level keys that tell a CVE record from an OSV record.
#[derive(serde::Deserialize)]
struct Sniff {
    #[serde(rename = "dataType")]
    data_type: Option<String>,
    #[serde(rename = "cveMetadata")]
    cve_metadata: Option<serde::de::IgnoredAny>,
    #[serde(rename = "sourceIdentifier")]
    source_identifier: Option<serde::de::IgnoredAny>,
    #[serde(rename = "vulnStatus")]
    vuln_status: Option<serde::de::IgnoredAny>,
    schema_version: Option<serde::de::IgnoredAny>,
    format: Option<String>,
    vulnerabilities: Option<serde::de::IgnoredAny>,
}

/// An NVD CVE API 2.0 response page (`{"format": "NVD_CVE", "vulnerabilities": [...]}`).
const NVD_PAGE: &str = "nvd-cve-api-2-page";

/// Read a CVE record (or an NVD response page of them) and hand each to `sink`.
fn read_cve(
    location: &str,
    bytes: &[u8],
    format: &str,
    report: &mut ImportReport,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Json {
        location: location.to_string(),
        error: e,
    })?;
    let records = match format {
        cve::CVE_JSON_5 => vec![cve::parse_cve5(&v)],
        NVD_PAGE => cve::nvd_page(&v),
        _ => vec![cve::parse_nvd(&v)],
    };
    let format = if format == NVD_PAGE {
        cve::NVD_API_2
    } else {
        format
    };
    for r in records {
        match r {
            Ok(rec) => {
                *report.other_records.entry(format.to_string()).or_default() += 1;
                sink(Unit::Cve(Box::new(rec)))?;
            }
            Err(cve::Invalid { id, reason }) => sink(Unit::Skip(Skipped {
                location: location.to_string(),
                id,
                reason,
            }))?,
        }
    }
    Ok(())
}

/// `Some(format)` when `bytes` is a CVE JSON 5 record (the CVE Program's format) or an
/// NVD CVE API 2.0 record rather than OSV. Unparseable JSON is left to the OSV parser,
/// which reports it.
fn other_format(bytes: &[u8]) -> Option<&'static str> {
    let s: Sniff = serde_json::from_slice(bytes).ok()?;
    if s.schema_version.is_some() {
        return None;
    }
    if s.data_type.as_deref() == Some("CVE_RECORD") || s.cve_metadata.is_some() {
        return Some(cve::CVE_JSON_5);
    }
    // NVD records carry an `affected` array of their own (CVE 5 affected data), so only
    // OSV's `schema_version` above tells the two apart, with NVD's own two keys here.
    if s.source_identifier.is_some() && s.vuln_status.is_some() {
        return Some(cve::NVD_API_2);
    }
    if s.format.as_deref() == Some("NVD_CVE") && s.vulnerabilities.is_some() {
        return Some(NVD_PAGE);
    }
    None
}

/// Read a zip of JSON records; at `depth` 0, a `.zip` entry (cvelistV5's `cves.zip`
/// inside the daily release asset) is read too, one level down.
fn read_zip(path: &Path, depth: u8, report: &mut ImportReport, sink: &mut Sink<'_>) -> Result<()> {
    let name = path.display().to_string();
    let zerr = |source| Error::Zip {
        location: name.clone(),
        error: source,
    };
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(zerr)?;
    // The shapes zip bombs take: too many entries, or entries sharing bytes (thousands
    // of central-directory entries pointing into one deflate stream).
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(Error::Unrecognized {
            location: name,
            reason: format!(
                "{} zip entries, over the budget of {MAX_ZIP_ENTRIES} (MAX_ZIP_ENTRIES)",
                zip.len()
            ),
        });
    }
    if zip.has_overlapping_entries().map_err(zerr)? {
        return Err(Error::Unrecognized {
            location: name,
            reason: "zip entries overlap (the shape of a zip bomb): refused".into(),
        });
    }
    let mut entries: Vec<(String, usize)> = (0..zip.len())
        .filter_map(|i| {
            let n = zip.name_for_index(i)?.ok()?;
            let lower = n.to_ascii_lowercase();
            (lower.ends_with(".json") || lower.ends_with(".zip")).then(|| (n.to_string(), i))
        })
        .collect();
    entries.sort();
    let mut buf = Vec::new();
    for (entry_name, i) in entries {
        let location = format!("{name}!{entry_name}");
        if entry_name.to_ascii_lowercase().ends_with(".zip") {
            if depth > 0 {
                sink(Unit::Skip(Skipped {
                    location,
                    id: None,
                    reason: "a zip in a zip in a zip: not read (one level of nesting only)".into(),
                }))?;
                continue;
            }
            let mut entry = zip.by_index(i).map_err(zerr)?;
            let sizes = (entry.size(), entry.compressed_size());
            let Some(inner) = extract_nested(path, &location, sizes, &mut entry, sink)? else {
                continue;
            };
            drop(entry);
            read_zip_named(&inner, &location, depth + 1, report, sink)?;
            continue;
        }
        let mut entry = zip.by_index(i).map_err(zerr)?;
        let too_big = entry.size() > MAX_ENTRY_BYTES;
        let ratio = entry.size() / entry.compressed_size().max(1);
        if too_big || (entry.size() > 1 << 20 && ratio > MAX_ZIP_RATIO) {
            sink(Unit::Skip(Skipped {
                location,
                id: None,
                reason: if too_big {
                    format!("entry larger than {MAX_ENTRY_BYTES} bytes")
                } else {
                    format!("entry inflates {ratio}:1, over the {MAX_ZIP_RATIO}:1 budget")
                },
            }))?;
            continue;
        }
        buf.clear();
        (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::Zip {
                location: location.clone(),
                error: zip::result::ZipError::Io(e),
            })?;
        // The declared size can lie: the record cap holds for what was inflated.
        if buf.len() as u64 > MAX_ENTRY_BYTES {
            sink(Unit::Skip(Skipped {
                location,
                id: None,
                reason: format!("entry larger than {MAX_ENTRY_BYTES} bytes"),
            }))?;
            continue;
        }
        report.files += 1;
        read_json(&location, &buf, false, report, sink)?;
    }
    Ok(())
}

/// Inflate a nested zip entry into a temporary file beside `outer` (or in the
/// system's temporary directory when that is not writable), within
/// [`MAX_NESTED_ZIP_BYTES`] and [`MAX_ZIP_RATIO`]; `None` (reported as skipped) when
/// over budget.
fn extract_nested(
    outer: &Path,
    location: &str,
    (size, compressed): (u64, u64),
    entry: &mut dyn Read,
    sink: &mut Sink<'_>,
) -> Result<Option<tempfile::TempPath>> {
    let ratio = size / compressed.max(1);
    let over = if size > MAX_NESTED_ZIP_BYTES {
        Some(format!(
            "nested zip larger than {MAX_NESTED_ZIP_BYTES} bytes"
        ))
    } else if size > 1 << 20 && ratio > MAX_ZIP_RATIO {
        Some(format!(
            "nested zip inflates {ratio}:1, over the {MAX_ZIP_RATIO}:1 budget"
        ))
    } else {
        None
    };
    if let Some(reason) = over {
        sink(Unit::Skip(Skipped {
            location: location.to_string(),
            id: None,
            reason,
        }))?;
        return Ok(None);
    }
    let dir = match outer.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".moat-download-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix(".moat-nested-")
                .suffix(".tmp")
                .tempfile()
        })
        .map_err(|e| Error::io(&dir, e))?;
    let (mut file, tmp_path) = tmp.into_parts();
    let copied =
        std::io::copy(&mut entry.take(MAX_NESTED_ZIP_BYTES + 1), &mut file).map_err(|e| {
            Error::Zip {
                location: location.to_string(),
                error: zip::result::ZipError::Io(e),
            }
        })?;
    // The declared size can lie: the budget holds for what was inflated.
    if copied > MAX_NESTED_ZIP_BYTES {
        sink(Unit::Skip(Skipped {
            location: location.to_string(),
            id: None,
            reason: format!("nested zip larger than {MAX_NESTED_ZIP_BYTES} bytes"),
        }))?;
        return Ok(None);
    }
    drop(file);
    Ok(Some(tmp_path))
}

/// [`read_zip`] on a temporary file, with locations named after the entry it came from.
fn read_zip_named(
    path: &Path,
    location: &str,
    depth: u8,
    report: &mut ImportReport,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut rename = |u: Unit| -> Result<()> {
        let tmp = path.display().to_string();
        match u {
            Unit::Skip(mut s) => {
                if let Some(rest) = s.location.strip_prefix(&tmp) {
                    s.location = format!("{location}{rest}");
                }
                sink(Unit::Skip(s))
            }
            other => sink(other),
        }
    };
    read_zip(path, depth, report, &mut rename).map_err(|e| match e {
        Error::Zip { location: l, error } => Error::Zip {
            location: l.replacen(&path.display().to_string(), location, 1),
            error,
        },
        Error::Unrecognized {
            location: l,
            reason,
        } => Error::Unrecognized {
            location: l.replacen(&path.display().to_string(), location, 1),
            reason,
        },
        Error::Json { location: l, error } => Error::Json {
            location: l.replacen(&path.display().to_string(), location, 1),
            error,
        },
        other => other,
    })
}

fn read_dir(root: &Path, report: &mut ImportReport, sink: &mut Sink<'_>) -> Result<()> {
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let p = entry.path();
            // Symlinked directories are not followed (no loops); symlinked files are.
            let ft = entry.file_type().map_err(|e| Error::io(&p, e))?;
            if ft.is_dir() {
                stack.push(p);
            } else {
                let lower = p.to_string_lossy().to_ascii_lowercase();
                if (lower.ends_with(".json") || lower.ends_with(".zip")) && p.is_file() {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    for f in files {
        let lower = f.to_string_lossy().replace('\\', "/").to_ascii_lowercase();
        let kind = if lower.ends_with(".zip") {
            InputKind::OsvZip
        } else if is_secdb_name(&lower) {
            InputKind::AlpineSecdb
        } else {
            InputKind::OsvJson
        };
        // Loose JSON files count under their directory, archives under themselves.
        let source = if kind == InputKind::OsvZip {
            f.display().to_string()
        } else {
            f.parent().unwrap_or(root).display().to_string()
        };
        read_file_as(&f, &source, Some(kind), report, sink)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reasons_are_classed_without_record_details() {
        assert_eq!(
            reason_class(
                r#"affected[0] (m/x) range 0: invalid Semver version "1.9.3.9": expected"#
            ),
            "invalid Semver version"
        );
        assert_eq!(
            reason_class(r#"quassel: invalid Apk version "0.12.5.-r0": not valid"#),
            "invalid Apk version"
        );
        assert_eq!(
            reason_class(r#"openjdk7 7.2-r0: no advisory id in "CVE_2019-2426""#),
            "no advisory id in"
        );
        assert_eq!(
            reason_class(r#"affected[0] (a) range 0: range has no "introduced" event"#),
            r#"range has no "introduced" event"#
        );
        assert_eq!(
            reason_class("not a valid OSV record: missing field `id`"),
            "not a valid OSV record"
        );
    }

    #[test]
    fn kinds_from_names() {
        assert_eq!(
            InputKind::from_name("https://x/Go/all.zip"),
            InputKind::OsvZip
        );
        assert_eq!(
            InputKind::from_name("https://secdb.alpinelinux.org/v3.21/main.json"),
            InputKind::AlpineSecdb
        );
        assert_eq!(
            InputKind::from_name("http://h/edge/community.json"),
            InputKind::AlpineSecdb
        );
        assert_eq!(InputKind::from_name("GO-2024-1.json"), InputKind::OsvJson);
    }
}
