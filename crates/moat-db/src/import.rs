//! Reading inputs: OSV JSON files, directories of them, osv.dev `all.zip`
//! archives, Alpine secdb files. Units are handed to a sink one by one, so a
//! large archive is never held in memory whole.

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

/// An advisory (or a whole secdb entry) that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    /// The file (or `archive.zip!entry`) it came from.
    pub location: String,
    pub id: Option<String>,
    pub reason: String,
}

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
    /// Records recognised as another format than OSV or Alpine secdb and not stored as
    /// advisories, per format (`cve-json-5`, `nvd-cve-api-2`): CVE records carry
    /// severities, not affected ranges, and must never be read as OSV (an NVD record has
    /// an `id` and would otherwise pass for an empty OSV advisory).
    pub other_records: BTreeMap<String, usize>,
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
        return read_zip(path, report, sink);
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
        *report.other_records.entry(format.to_string()).or_default() += 1;
        return Ok(());
    }
    match osv::parse(bytes) {
        Ok(p) => {
            report.git_ranges += p.git_ranges;
            sink(Unit::Advisory(Box::new(p.advisory)))
        }
        Err(Ok((id, reason))) => sink(Unit::Skip(Skipped {
            location: location.to_string(),
            id,
            reason,
        })),
        Err(Err(source)) => Err(Error::Json {
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
        return Some("cve-json-5");
    }
    // NVD records carry an `affected` array of their own (CVE 5 affected data), so only
    // OSV's `schema_version` above tells the two apart, with NVD's own two keys here.
    if s.source_identifier.is_some() && s.vuln_status.is_some() {
        return Some("nvd-cve-api-2");
    }
    None
}

fn read_zip(path: &Path, report: &mut ImportReport, sink: &mut Sink<'_>) -> Result<()> {
    let name = path.display().to_string();
    let zerr = |source| Error::Zip {
        location: name.clone(),
        error: source,
    };
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(zerr)?;
    let mut entries: Vec<(String, usize)> = (0..zip.len())
        .filter_map(|i| {
            let n = zip.name_for_index(i)?.ok()?;
            n.to_ascii_lowercase()
                .ends_with(".json")
                .then(|| (n.to_string(), i))
        })
        .collect();
    entries.sort();
    let mut buf = Vec::new();
    for (entry_name, i) in entries {
        let location = format!("{name}!{entry_name}");
        let mut entry = zip.by_index(i).map_err(zerr)?;
        if entry.size() > MAX_ENTRY_BYTES {
            sink(Unit::Skip(Skipped {
                location,
                id: None,
                reason: format!("entry larger than {MAX_ENTRY_BYTES} bytes"),
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
        report.files += 1;
        read_json(&location, &buf, false, report, sink)?;
    }
    Ok(())
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
        read_file(&f, Some(kind), report, sink)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
