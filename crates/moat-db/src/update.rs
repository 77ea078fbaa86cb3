//! `moat db update`: fetch the configured sources over HTTP and rebuild.
//!
//! Every source is fetched with a conditional GET (`If-None-Match` from the
//! stored ETag, `If-Modified-Since` from the stored Last-Modified); `304 Not
//! Modified` keeps what the database has. Bodies go to temporary files in the
//! database's directory, then a [`Writer`] builds the new database beside the old
//! one and renames it into place. Any error before that rename — a refused
//! connection, a body cut short, a broken archive — leaves the old database
//! exactly as it was.
//!
//! Three kinds of source are more than one GET:
//! - `nvd-api`: the NVD CVE API 2.0, paged, incremental by last-modified date
//!   ([`nvd`]);
//! - `cvelist-release`: the latest cvelistV5 GitHub release, whose daily
//!   `…_all_CVEs_at_midnight.zip.zip` asset (a zip inside a zip) is downloaded;
//! - osv.dev's per-ecosystem `all.zip` exports are plain downloads.

use crate::Result;
use crate::error::Error;
use crate::import::{ImportReport, InputKind};
use crate::store::{Status, Writer};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod nvd;

pub use nvd::NvdOptions;

/// The osv.dev bucket (one `all.zip` per ecosystem).
pub const OSV_BUCKET: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The Alpine secdb site (`vX.Y/main.json`, `vX.Y/community.json`).
pub const ALPINE_SECDB: &str = "https://secdb.alpinelinux.org";

/// OSV ecosystems fetched by default.
pub const DEFAULT_OSV_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Go",
    "PyPI",
    "crates.io",
    "npm",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
];
/// Alpine releases fetched by default (main and community each).
pub const DEFAULT_ALPINE_RELEASES: &[&str] = &["v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "edge"];

/// Largest download accepted: 2 GiB.
pub const MAX_DOWNLOAD_BYTES: u64 = 2 << 30;

/// The NVD CVE API 2.0 (`kind = "nvd-api"`).
pub const NVD_CVE_API: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";
/// The latest cvelistV5 release (`kind = "cvelist-release"`).
pub const CVELIST_LATEST_RELEASE: &str =
    "https://api.github.com/repos/CVEProject/cvelistV5/releases/latest";
/// Largest GitHub release description read (the JSON listing the assets): 4 MiB.
pub const MAX_RELEASE_JSON_BYTES: u64 = 4 << 20;

/// One source to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub url: String,
    /// `osv-zip`, `osv-json`, `alpine-secdb`, `nvd-api` or `cvelist-release`;
    /// guessed from the URL when absent.
    #[serde(default)]
    pub kind: Option<String>,
}

/// How a source is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceKind {
    /// One conditional GET of a file imported as this kind.
    Download(InputKind),
    /// The NVD CVE API 2.0, page by page.
    NvdApi,
    /// A GitHub release description (cvelistV5's `releases/latest`): its
    /// `…_all_CVEs_at_midnight.zip.zip` asset is downloaded.
    CvelistRelease,
}

impl Source {
    /// A source with its kind guessed from the URL.
    pub fn url(url: impl Into<String>) -> Source {
        Source {
            url: url.into(),
            kind: None,
        }
    }

    fn kind(&self) -> Result<SourceKind> {
        let path = self.url.split(['?', '#']).next().unwrap_or("");
        match self.kind.as_deref() {
            None if path.trim_end_matches('/').ends_with("/rest/json/cves/2.0") => {
                Ok(SourceKind::NvdApi)
            }
            None if path.contains("/cvelistV5/releases")
                && !path.contains("/releases/download/") =>
            {
                Ok(SourceKind::CvelistRelease)
            }
            None => Ok(SourceKind::Download(InputKind::from_name(path))),
            Some("osv-zip") => Ok(SourceKind::Download(InputKind::OsvZip)),
            Some("osv-json") => Ok(SourceKind::Download(InputKind::OsvJson)),
            Some("alpine-secdb") => Ok(SourceKind::Download(InputKind::AlpineSecdb)),
            Some("nvd-api") => Ok(SourceKind::NvdApi),
            Some("cvelist-release") => Ok(SourceKind::CvelistRelease),
            Some(other) => Err(Error::Unrecognized {
                location: self.url.clone(),
                reason: format!(
                    "unknown source kind {other:?} (osv-zip, osv-json, alpine-secdb, nvd-api, cvelist-release)"
                ),
            }),
        }
    }
}

/// The sources file (TOML):
///
/// ```toml
/// max_age = "7d"          # warn when the database is older (optional)
/// [[source]]
/// url = "https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip"
/// [[source]]
/// url = "https://secdb.alpinelinux.org/v3.21/main.json"
/// kind = "alpine-secdb"   # optional; guessed from the URL
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
}

impl Config {
    /// Read a sources file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let cfg: Config = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        for s in &cfg.sources {
            s.kind().map_err(|e| Error::Config {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        if let Some(a) = &cfg.max_age {
            parse_age(a).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        }
        Ok(cfg)
    }

    /// The sources in force: the file's, or the upstream defaults when it lists none.
    pub fn sources_or_default(&self) -> Vec<Source> {
        if self.sources.is_empty() {
            default_sources()
        } else {
            self.sources.clone()
        }
    }
}

/// The upstream defaults: osv.dev per-ecosystem archives and Alpine secdb.
pub fn default_sources() -> Vec<Source> {
    let mut v: Vec<Source> = DEFAULT_OSV_ECOSYSTEMS
        .iter()
        .map(|e| Source::url(format!("{OSV_BUCKET}/{e}/all.zip")))
        .collect();
    for r in DEFAULT_ALPINE_RELEASES {
        for repo in ["main", "community"] {
            v.push(Source::url(format!("{ALPINE_SECDB}/{r}/{repo}.json")));
        }
    }
    v
}

/// Why an age (`7d`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgeError {
    #[error("age {0:?} has no unit (s, m, h, d, w)")]
    NoUnit(String),
    #[error("age {0:?} is not a number with a unit")]
    NotANumber(String),
    #[error("age {age:?}: unknown unit {unit:?} (s, m, h, d, w)")]
    UnknownUnit { age: String, unit: String },
    #[error("age {0:?} is too large")]
    TooLarge(String),
}

/// Parse an age: a number with a unit `s`, `m`, `h`, `d` or `w` (`7d`, `36h`).
pub fn parse_age(s: &str) -> std::result::Result<Duration, AgeError> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| AgeError::NoUnit(s.to_string()))?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| AgeError::NotANumber(s.to_string()))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(AgeError::UnknownUnit {
                age: s.to_string(),
                unit: unit.to_string(),
            });
        }
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| AgeError::TooLarge(s.to_string()))
}

/// Options of an update.
#[derive(Debug, Clone)]
pub struct Options {
    /// The NVD CVE API source's key, rate limit, page size, retries and budget.
    pub nvd: NvdOptions,
    /// Give up on a connection, on response headers, or on a read with no byte, after
    /// this long; also the window of the [`Options::min_bytes_per_sec`] check.
    pub timeout: Duration,
    /// Ignore stored validators (always download).
    pub force: bool,
    /// The whole update (every source, connections and bodies) must end within this.
    pub deadline: Duration,
    /// A body arriving slower than this over a whole [`Options::timeout`] window is
    /// abandoned (curl's `--speed-limit`): a mirror dripping one byte every few
    /// seconds cannot hold the update.
    pub min_bytes_per_sec: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(60),
            force: false,
            deadline: Duration::from_secs(30 * 60),
            min_bytes_per_sec: 1024,
            nvd: NvdOptions::default(),
        }
    }
}

/// What happened to one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceOutcome {
    pub url: String,
    /// `updated` (downloaded and imported) or `not-modified` (304).
    pub result: String,
    pub bytes: u64,
    pub import: Option<ImportReport>,
    /// What was asked of a source that is more than one GET: the NVD CVE API's
    /// requests (page URLs, retries included) or the cvelistV5 asset downloaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<String>,
}

/// The outcome of an update.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub sources: Vec<SourceOutcome>,
    pub status: Status,
}

pub(crate) struct Download {
    file: tempfile::TempPath,
    bytes: u64,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// Fetch `sources` and rebuild the database at `db`. Nothing at `db` changes
/// unless every source was fetched (or found unchanged) and imported.
pub fn update(db: &Path, sources: &[Source], opts: &Options) -> Result<Report> {
    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let mut writer = match Writer::begin(db) {
        Ok(w) => w,
        // An unreadable or old-schema database is rebuilt from scratch.
        Err(Error::NotADatabase { .. }) => Writer::fresh(db)?,
        Err(e) => return Err(e),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        .timeout_global(Some(opts.deadline))
        .user_agent(concat!("moat/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let started = Instant::now();
    let pace = Pace {
        window: opts.timeout,
        min_bytes_per_sec: opts.min_bytes_per_sec,
        deadline: started + opts.deadline,
        deadline_len: opts.deadline,
    };
    let http = Http {
        agent: &agent,
        dir: &dir,
        pace: &pace,
    };
    let mut outcomes = Vec::with_capacity(sources.len());
    for s in sources {
        let outcome = match s.kind()? {
            SourceKind::Download(kind) => fetch_source(&http, &mut writer, s, &s.url, kind, opts)?,
            SourceKind::NvdApi => nvd::fetch(&http, &mut writer, &s.url, opts)?,
            SourceKind::CvelistRelease => {
                let asset = cvelist_asset(&http, &s.url)?;
                let mut o = fetch_source(&http, &mut writer, s, &asset, InputKind::OsvZip, opts)?;
                o.requests = vec![asset];
                o
            }
        };
        outcomes.push(outcome);
    }
    let status = writer.commit()?;
    Ok(Report {
        sources: outcomes,
        status,
    })
}

/// What every request of an update shares.
pub(crate) struct Http<'a> {
    agent: &'a ureq::Agent,
    /// Where downloads go (the database's directory).
    dir: &'a Path,
    pace: &'a Pace,
}

/// Download `url` (conditional GET with the validators stored for origin `s.url`)
/// and import it as `kind` under origin `s.url`.
fn fetch_source(
    http: &Http<'_>,
    writer: &mut Writer,
    s: &Source,
    url: &str,
    kind: InputKind,
    opts: &Options,
) -> Result<SourceOutcome> {
    let old = if opts.force {
        None
    } else {
        writer.origin(&s.url)?
    };
    match fetch(
        http.agent,
        http.dir,
        url,
        old.as_ref().and_then(|o| o.etag.as_deref()),
        old.as_ref().and_then(|o| o.last_modified.as_deref()),
        http.pace,
    )? {
        None => {
            writer.touch_origin(&s.url)?;
            Ok(SourceOutcome {
                url: s.url.clone(),
                result: "not-modified".into(),
                bytes: 0,
                import: None,
                requests: Vec::new(),
            })
        }
        Some(d) => {
            let report = writer.import_download(
                &s.url,
                &d.file,
                kind,
                d.etag.as_deref(),
                d.last_modified.as_deref(),
            )?;
            Ok(SourceOutcome {
                url: s.url.clone(),
                result: "updated".into(),
                bytes: d.bytes,
                import: Some(report),
                requests: Vec::new(),
            })
        }
    }
}

/// The download URL of the daily baseline asset (`YYYY-MM-DD_all_CVEs_at_midnight.zip.zip`:
/// a zip holding `cves.zip`, which holds `cves/YYYY/Nxxx/CVE-….json`) of the GitHub
/// release described at `url` (`…/repos/CVEProject/cvelistV5/releases/latest`).
fn cvelist_asset(http: &Http<'_>, url: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct Release {
        #[serde(default)]
        assets: Vec<Asset>,
    }
    #[derive(Deserialize)]
    struct Asset {
        name: String,
        browser_download_url: String,
    }
    let bad = |reason: String| Error::Unrecognized {
        location: url.to_string(),
        reason,
    };
    let resp = get(
        http.agent,
        url,
        &[("Accept", "application/vnd.github+json".to_string())],
        http.pace,
    )?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(Error::Http {
            url: url.to_string(),
            reason: format!(
                "HTTP {status} {}",
                resp.status().canonical_reason().unwrap_or("")
            ),
        });
    }
    let d = save(resp, http.dir, url, http.pace, MAX_RELEASE_JSON_BYTES)?;
    let text = std::fs::read(&d.file).map_err(|e| Error::io(&*d.file, e))?;
    let rel: Release = serde_json::from_slice(&text).map_err(|e| Error::Json {
        location: url.to_string(),
        error: e,
    })?;
    let mut baseline: Vec<&Asset> = rel
        .assets
        .iter()
        .filter(|a| {
            a.name.ends_with("_all_CVEs_at_midnight.zip.zip")
                || a.name.ends_with("_all_CVEs_at_midnight.zip")
        })
        .collect();
    baseline.sort_by(|a, b| a.name.cmp(&b.name));
    let asset = baseline.pop().ok_or_else(|| {
        bad("the release has no `…_all_CVEs_at_midnight.zip.zip` asset".to_string())
    })?;
    let u = asset.browser_download_url.as_str();
    if !(u.starts_with("https://") || u.starts_with("http://")) {
        return Err(bad(format!("asset URL {u:?} is not http(s)")));
    }
    Ok(u.to_string())
}

/// How slow a download may be.
pub(crate) struct Pace {
    /// The window over which the rate is measured.
    window: Duration,
    min_bytes_per_sec: u64,
    /// When the whole update must be over.
    deadline: Instant,
    deadline_len: Duration,
}

/// GET `url` into a temporary file in `dir`; `None` on 304.
fn fetch(
    agent: &ureq::Agent,
    dir: &Path,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
    pace: &Pace,
) -> Result<Option<Download>> {
    let mut headers = Vec::new();
    if let Some(e) = etag {
        headers.push(("If-None-Match", e.to_string()));
    }
    if let Some(l) = last_modified {
        headers.push(("If-Modified-Since", l.to_string()));
    }
    let resp = get(agent, url, &headers, pace)?;
    let status = resp.status().as_u16();
    if status == 304 {
        return Ok(None);
    }
    if status != 200 {
        return Err(Error::Http {
            url: url.to_string(),
            reason: format!(
                "HTTP {status} {}",
                resp.status().canonical_reason().unwrap_or("")
            ),
        });
    }
    save(resp, dir, url, pace, MAX_DOWNLOAD_BYTES).map(Some)
}

/// Send a GET with `headers`, within what is left of the update's deadline; any
/// status is returned.
pub(crate) fn get(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
    pace: &Pace,
) -> Result<ureq::http::Response<ureq::Body>> {
    let http = |reason: String| Error::Http {
        url: url.to_string(),
        reason,
    };
    let left = pace.deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(http(format!(
            "not started: the update's {}-second deadline has passed",
            pace.deadline_len.as_secs()
        )));
    }
    let mut req = agent.get(url).config().timeout_global(Some(left)).build();
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    req.call().map_err(|e| http(e.to_string()))
}

/// Write a 200 response's body to a temporary file in `dir`: at most `limit` bytes,
/// no slower than the pace allows, complete (Content-Length checked).
pub(crate) fn save(
    resp: ureq::http::Response<ureq::Body>,
    dir: &Path,
    url: &str,
    pace: &Pace,
    limit: u64,
) -> Result<Download> {
    let http = |reason: String| Error::Http {
        url: url.to_string(),
        reason,
    };
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let new_etag = header("etag");
    let new_lm = header("last-modified");
    let expected: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
    let gzip = header("content-encoding").is_some_and(|v| v.contains("gzip"));
    if let Some(len) = expected.filter(|&l| !gzip && l > limit) {
        return Err(http(format!(
            "refused: {len} bytes announced, over the {limit}-byte budget"
        )));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".moat-download-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    let (mut file, path) = tmp.into_parts();
    let mut reader = resp.into_body().into_with_config().limit(limit).reader();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes: u64 = 0;
    // The rate check: at the end of each window, the window must have brought at
    // least `min_bytes_per_sec` per second.
    let (mut window_start, mut window_bytes) = (Instant::now(), 0u64);
    let need = pace
        .min_bytes_per_sec
        .saturating_mul(pace.window.as_secs().max(1));
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(http(format!("download failed after {bytes} bytes: {e}"))),
        };
        file.write_all(&buf[..n])
            .map_err(|e| Error::io(&*path, e))?;
        bytes += n as u64;
        window_bytes += n as u64;
        let now = Instant::now();
        if now >= pace.deadline {
            return Err(http(format!(
                "download stopped after {bytes} bytes: the update's {}-second deadline passed",
                pace.deadline_len.as_secs()
            )));
        }
        if now.duration_since(window_start) >= pace.window {
            if window_bytes < need {
                return Err(http(format!(
                    "download stopped after {bytes} bytes: {window_bytes} bytes in {} s, slower than the {} bytes/s minimum",
                    now.duration_since(window_start).as_secs(),
                    pace.min_bytes_per_sec
                )));
            }
            (window_start, window_bytes) = (now, 0);
        }
    }
    file.sync_all().map_err(|e| Error::io(&*path, e))?;
    // ureq checks Content-Length itself; check again (a decoded gzip body differs).
    if let Some(len) = expected.filter(|_| !gzip)
        && len != bytes
    {
        return Err(http(format!("download cut short: {bytes} of {len} bytes")));
    }
    Ok(Download {
        file: path,
        bytes,
        etag: new_etag,
        last_modified: new_lm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_defaults() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("36h"), Ok(Duration::from_secs(36 * 3600)));
        assert!(parse_age("7").is_err());
        assert!(parse_age("x7d").is_err());
        assert!(parse_age("7y").is_err());
        let d = default_sources();
        assert!(
            d.iter()
                .any(|s| s.url
                    == "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip")
        );
        assert!(d.iter().all(|s| s.kind().is_ok()));
        assert_eq!(
            Source::url("https://secdb.alpinelinux.org/v3.21/main.json")
                .kind()
                .unwrap(),
            SourceKind::Download(InputKind::AlpineSecdb)
        );
        assert_eq!(Source::url(NVD_CVE_API).kind().unwrap(), SourceKind::NvdApi);
        assert_eq!(
            Source::url(format!("{NVD_CVE_API}?noRejected"))
                .kind()
                .unwrap(),
            SourceKind::NvdApi
        );
        assert_eq!(
            Source::url(CVELIST_LATEST_RELEASE).kind().unwrap(),
            SourceKind::CvelistRelease
        );
        assert_eq!(
            Source::url("https://github.com/CVEProject/cvelistV5/releases/download/cve_2026-12-02_0000Z/2026-12-01_all_CVEs_at_midnight.zip.zip")
                .kind()
                .unwrap(),
            SourceKind::Download(InputKind::OsvZip)
        );
    }

    #[test]
    fn config_parses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sources.toml");
        std::fs::write(
            &p,
            "max_age = \"3d\"\n[[source]]\nurl = \"http://127.0.0.1:1/Go/all.zip\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.sources.len(), 1);
        assert_eq!(c.max_age.as_deref(), Some("3d"));
        std::fs::write(&p, "[[source]]\nurl = \"x\"\nkind = \"nope\"\n").unwrap();
        assert!(
            Config::load(&p)
                .unwrap_err()
                .to_string()
                .contains("unknown source kind")
        );
    }
}
