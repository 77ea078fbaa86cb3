//! The NVD CVE API 2.0 as a source (`kind = "nvd-api"`,
//! `https://services.nvd.nist.gov/rest/json/cves/2.0`).
//!
//! - **Paged**: `resultsPerPage` (at most 2,000, NVD's maximum) and `startIndex`,
//!   until `startIndex` reaches the `totalResults` of the latest page.
//! - **Incremental**: the origin's `last_modified` column keeps the time the last
//!   successful fetch covers (NVD's own `timestamp` of its first response, never later
//!   than the end date asked for). The next run asks only for records modified since:
//!   `lastModStartDate` = that time, `lastModEndDate` = now, in windows of at most 120
//!   days (NVD's limit; 119 are used). Without a stored time, or with `--force`,
//!   everything is fetched. The time is stored only when the whole update commits, so
//!   a failed run is repeated whole next time.
//! - **Rate limited**: at most 5 requests in any 30 seconds without an API key, 50
//!   with one (NVD's published limits), by a rolling window that sleeps before a
//!   request would exceed it.
//! - **Retried**: HTTP 403 (NVD's answer when over the limit), 429, 500, 502, 503 and
//!   504 are retried with exponential backoff (or the server's `Retry-After`, capped).
//! - **Bounded**: a page may not exceed [`MAX_ENTRY_BYTES`] (it is parsed whole), the
//!   whole fetch [`NvdOptions::max_total_bytes`]; and every request and sleep lies
//!   within the update's deadline.
//! - The key is sent in the `apiKey` header, never in the URL, and never printed.
//!
//! Each page is stored through [`Writer::import_page`]: its records replace stored
//! records of the same CVE and format; records of earlier runs stay.

use super::{Download, Http, Options, SourceOutcome, get, save};
use crate::Result;
use crate::error::Error;
use crate::import::{ImportReport, InputKind, MAX_ENTRY_BYTES};
use crate::store::Writer;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::macros::format_description;

/// NVD's largest page.
pub const MAX_RESULTS_PER_PAGE: u32 = 2_000;
/// NVD's longest `lastModStartDate`..`lastModEndDate` range.
pub const MAX_WINDOW_DAYS: i64 = 120;
/// The window used: a day under the limit, so no rounding of NVD's can refuse it.
const WINDOW: time::Duration = time::Duration::days(MAX_WINDOW_DAYS - 1);
/// NVD's rate limits: requests in any [`RATE_WINDOW`] without and with a key.
pub const REQUESTS_WITHOUT_KEY: usize = 5;
pub const REQUESTS_WITH_KEY: usize = 50;
pub const RATE_WINDOW: Duration = Duration::from_secs(30);

/// The NVD CVE API source's settings.
#[derive(Clone)]
pub struct NvdOptions {
    /// Sent as the `apiKey` header; raises the rate limit tenfold.
    pub api_key: Option<String>,
    /// At most this many requests in any [`NvdOptions::rate_window`]; `None`: NVD's
    /// published limit ([`REQUESTS_WITHOUT_KEY`], [`REQUESTS_WITH_KEY`]).
    pub max_requests: Option<usize>,
    pub rate_window: Duration,
    /// Records asked per page (clamped to 1..=[`MAX_RESULTS_PER_PAGE`]).
    pub results_per_page: u32,
    /// Retries of one page after 403, 429, 500, 502, 503 or 504.
    pub retries: u32,
    /// The first retry's delay; it doubles with each retry.
    pub backoff: Duration,
    /// No delay (backoff or `Retry-After`) is longer than this.
    pub max_backoff: Duration,
    /// The most bytes one fetch may download, all pages together.
    pub max_total_bytes: u64,
}

impl Default for NvdOptions {
    fn default() -> Self {
        NvdOptions {
            api_key: None,
            max_requests: None,
            rate_window: RATE_WINDOW,
            results_per_page: MAX_RESULTS_PER_PAGE,
            retries: 5,
            backoff: Duration::from_secs(6),
            max_backoff: Duration::from_secs(120),
            max_total_bytes: 8 << 30,
        }
    }
}

impl std::fmt::Debug for NvdOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvdOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "(set)"))
            .field("max_requests", &self.max_requests)
            .field("rate_window", &self.rate_window)
            .field("results_per_page", &self.results_per_page)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_total_bytes", &self.max_total_bytes)
            .finish()
    }
}

impl NvdOptions {
    fn requests_per_window(&self) -> usize {
        self.max_requests.unwrap_or(if self.api_key.is_some() {
            REQUESTS_WITH_KEY
        } else {
            REQUESTS_WITHOUT_KEY
        })
    }
}

/// A rolling-window rate limit: at most `max` requests in any `window`.
#[derive(Debug)]
pub(crate) struct RateLimit {
    max: usize,
    window: Duration,
    sent: VecDeque<Instant>,
}

impl RateLimit {
    pub(crate) fn new(max: usize, window: Duration) -> RateLimit {
        RateLimit {
            max: max.max(1),
            window,
            sent: VecDeque::new(),
        }
    }

    /// How long to wait at `now` before the next request may be sent.
    pub(crate) fn wait(&self, now: Instant) -> Duration {
        if self.sent.len() < self.max {
            return Duration::ZERO;
        }
        // The request `max` back must have left the window.
        self.sent.front().map_or(Duration::ZERO, |&t| {
            (t + self.window).saturating_duration_since(now)
        })
    }

    /// A request was sent at `now`.
    pub(crate) fn record(&mut self, now: Instant) {
        self.sent.push_back(now);
        while self.sent.len() > self.max {
            self.sent.pop_front();
        }
    }
}

/// NVD's time format: `2026-12-01T10:00:00.000` (UTC).
const TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]");
const TIME_PARSE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]");

/// Format a time as NVD writes it (`2026-12-01T10:00:00.000`, UTC).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(TIME_FORMAT).unwrap_or_else(|_| t.to_string())
}

/// Parse NVD's time (`2026-12-01T10:00:00.000`, optionally with `Z` or `+00:00`).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+00:00"))
        .unwrap_or(s);
    time::PrimitiveDateTime::parse(s, TIME_PARSE)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// The `lastModStartDate`..`lastModEndDate` windows covering `from`..`to`, each at most
/// 119 days long, contiguous; one (possibly empty) window when `to <= from`.
pub fn windows(from: OffsetDateTime, to: OffsetDateTime) -> Vec<(OffsetDateTime, OffsetDateTime)> {
    let mut out = Vec::new();
    let mut start = from;
    loop {
        let end = (start + WINDOW).min(to).max(start);
        out.push((start, end));
        if end >= to {
            return out;
        }
        start = end;
    }
}

/// The URL of one page.
pub fn page_url(
    base: &str,
    start_index: u64,
    per_page: u32,
    window: Option<(OffsetDateTime, OffsetDateTime)>,
) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut u = format!("{base}{sep}resultsPerPage={per_page}&startIndex={start_index}");
    if let Some((a, b)) = window {
        // The offset is explicit (`+` encoded), as in NVD's documentation.
        u.push_str(&format!(
            "&lastModStartDate={}%2B00:00&lastModEndDate={}%2B00:00",
            format_time(a),
            format_time(b)
        ));
    }
    u
}

/// The head of a response page.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageHead {
    format: Option<String>,
    start_index: Option<u64>,
    total_results: Option<u64>,
    timestamp: Option<String>,
    #[serde(default)]
    vulnerabilities: Vec<IgnoredAny>,
}

/// Fetch the NVD CVE API at `url` into `writer` (origin `url`).
pub(super) fn fetch(
    http: &Http<'_>,
    writer: &mut Writer,
    url: &str,
    opts: &Options,
) -> Result<SourceOutcome> {
    let nvd = &opts.nvd;
    let per_page = nvd.results_per_page.clamp(1, MAX_RESULTS_PER_PAGE);
    let old = if opts.force {
        None
    } else {
        writer.origin(url)?
    };
    let since = old
        .as_ref()
        .and_then(|o| o.last_modified.as_deref())
        .and_then(parse_time);
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now);
    let windows: Vec<Option<(OffsetDateTime, OffsetDateTime)>> = match since {
        None => vec![None],
        Some(s) => windows(s, now).into_iter().map(Some).collect(),
    };
    let mut limiter = RateLimit::new(nvd.requests_per_window(), nvd.rate_window);
    let mut report = ImportReport {
        location: url.to_string(),
        ..ImportReport::default()
    };
    let mut requests = Vec::new();
    let mut bytes: u64 = 0;
    let mut server_time: Option<OffsetDateTime> = None;
    let mut first = true;
    let bad = |page: &str, reason: String| Error::Unrecognized {
        location: page.to_string(),
        reason,
    };
    for w in &windows {
        let mut start: u64 = 0;
        loop {
            let page = page_url(url, start, per_page, *w);
            let d = get_page(http, &page, nvd, &mut limiter, &mut requests)?;
            bytes += d.bytes;
            if bytes > nvd.max_total_bytes {
                return Err(Error::Http {
                    url: url.to_string(),
                    reason: format!(
                        "stopped after {bytes} bytes: over the {}-byte budget of one NVD fetch",
                        nvd.max_total_bytes
                    ),
                });
            }
            let text = std::fs::read(&d.file).map_err(|e| Error::io(&*d.file, e))?;
            let head: PageHead = serde_json::from_slice(&text).map_err(|e| Error::Json {
                location: page.clone(),
                error: e,
            })?;
            drop(text);
            if head.format.as_deref() != Some("NVD_CVE") {
                return Err(bad(
                    &page,
                    format!(
                        "not an NVD CVE API 2.0 page (format {:?}, expected \"NVD_CVE\")",
                        head.format
                    ),
                ));
            }
            if head.start_index.is_some_and(|s| s != start) {
                return Err(bad(
                    &page,
                    format!(
                        "the page starts at {:?}, {start} was asked",
                        head.start_index
                    ),
                ));
            }
            if server_time.is_none() {
                server_time = head.timestamp.as_deref().and_then(parse_time);
            }
            // A full fetch replaces what the origin had; an incremental one adds to it.
            let r = writer.import_page(url, &d.file, InputKind::NvdApi, first && w.is_none())?;
            first = false;
            merge(&mut report, r);
            let n = head.vulnerabilities.len() as u64;
            let total = head.total_results.unwrap_or(0);
            start += n;
            if start >= total {
                break;
            }
            if n == 0 {
                return Err(bad(
                    &page,
                    format!("an empty page at startIndex {start} of totalResults {total}"),
                ));
            }
        }
    }
    // What the next run starts from: NVD's clock at the first response, but never
    // later than the end asked for (a server clock ahead of ours would skip records).
    let mark = match (server_time, windows.last().copied().flatten()) {
        (Some(t), Some((_, end))) => t.min(end),
        (None, Some((_, end))) => end,
        (Some(t), None) => t,
        (None, None) => now,
    };
    writer.set_origin_state(url, None, Some(&format_time(mark)), report.skipped.len())?;
    Ok(SourceOutcome {
        url: url.to_string(),
        result: "updated".into(),
        bytes,
        import: Some(report),
        requests,
    })
}

/// Add one page's report to the fetch's.
fn merge(into: &mut ImportReport, r: ImportReport) {
    for (k, v) in r.stored {
        *into.stored.entry(k).or_default() += v;
    }
    for (k, v) in r.ecosystems {
        *into.ecosystems.entry(k).or_default() += v;
    }
    for (k, v) in r.other_records {
        *into.other_records.entry(k).or_default() += v;
    }
    // Each page was a temporary file: the source is the API's URL.
    let whole = into.sources.entry(into.location.clone()).or_default();
    for sum in r.sources.into_values() {
        whole.records += sum.records;
        for (why, n) in sum.skipped {
            *whole.skipped.entry(why).or_default() += n;
        }
    }
    into.withdrawn += r.withdrawn;
    into.git_ranges += r.git_ranges;
    into.files += r.files;
    into.skipped.extend(r.skipped);
}

/// Statuses retried: NVD answers 403 when over the rate limit, 503 when busy.
fn retryable(status: u16) -> bool {
    matches!(status, 403 | 429 | 500 | 502 | 503 | 504)
}

/// Sleep `d`, unless that would pass the update's deadline.
fn sleep_within(http: &Http<'_>, url: &str, d: Duration, why: &str) -> Result<()> {
    if d.is_zero() {
        return Ok(());
    }
    if Instant::now() + d >= http.pace.deadline {
        return Err(Error::Http {
            url: url.to_string(),
            reason: format!(
                "{why}: waiting {} ms would pass the update's {}-second deadline",
                d.as_millis(),
                http.pace.deadline_len.as_secs()
            ),
        });
    }
    std::thread::sleep(d);
    Ok(())
}

/// GET one page within the rate limit, retrying what NVD asks to retry.
fn get_page(
    http: &Http<'_>,
    url: &str,
    nvd: &NvdOptions,
    limiter: &mut RateLimit,
    requests: &mut Vec<String>,
) -> Result<Download> {
    let mut headers = Vec::new();
    if let Some(k) = &nvd.api_key {
        headers.push(("apiKey", k.clone()));
    }
    let mut attempt: u32 = 0;
    loop {
        sleep_within(http, url, limiter.wait(Instant::now()), "rate limit")?;
        limiter.record(Instant::now());
        requests.push(url.to_string());
        let resp = get(http.agent, url, &headers, http.pace)?;
        let status = resp.status().as_u16();
        if status == 200 {
            return save(resp, http.dir, url, http.pace, MAX_ENTRY_BYTES);
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        // NVD explains refusals in a `message` header.
        let message = header("message")
            .map(|m| format!(" ({})", moat_model::escape_control(&m)))
            .unwrap_or_default();
        if retryable(status) && attempt < nvd.retries {
            let backoff = nvd
                .backoff
                .checked_mul(1u32 << attempt.min(16))
                .unwrap_or(nvd.max_backoff);
            let delay = header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(backoff, Duration::from_secs)
                .min(nvd.max_backoff);
            attempt += 1;
            drop(resp);
            sleep_within(http, url, delay, &format!("HTTP {status}{message}"))?;
            continue;
        }
        let retried = if attempt > 0 {
            format!(" after {attempt} retries")
        } else {
            String::new()
        };
        return Err(Error::Http {
            url: url.to_string(),
            reason: format!(
                "HTTP {status} {}{message}{retried}",
                resp.status().canonical_reason().unwrap_or("")
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_is_a_rolling_window() {
        let t0 = Instant::now();
        let w = Duration::from_secs(30);
        let mut r = RateLimit::new(5, w);
        for i in 0..5 {
            assert_eq!(r.wait(t0 + Duration::from_secs(i)), Duration::ZERO);
            r.record(t0 + Duration::from_secs(i));
        }
        // The sixth waits until the first has left the window.
        assert_eq!(r.wait(t0 + Duration::from_secs(5)), Duration::from_secs(25));
        assert_eq!(r.wait(t0 + Duration::from_secs(30)), Duration::ZERO);
        r.record(t0 + Duration::from_secs(30));
        // Now the second (sent at 1 s) is the oldest of the last five.
        assert_eq!(r.wait(t0 + Duration::from_secs(30)), Duration::from_secs(1));
        // With a key: 50 a window.
        let key = NvdOptions {
            api_key: Some("k".into()),
            ..NvdOptions::default()
        };
        assert_eq!(key.requests_per_window(), 50);
        assert_eq!(NvdOptions::default().requests_per_window(), 5);
        assert!(!format!("{key:?}").contains("\"k\""));
    }

    #[test]
    fn times_and_windows() {
        let t = parse_time("2026-12-01T10:00:00.000").unwrap();
        assert_eq!(format_time(t), "2026-12-01T10:00:00.000");
        assert_eq!(parse_time("2026-12-01T10:00:00Z"), Some(t));
        assert_eq!(parse_time("2026-12-01T10:00:00.000+00:00"), Some(t));
        assert_eq!(
            format_time(parse_time("2023-03-28T04:15:00.12").unwrap()),
            "2023-03-28T04:15:00.120"
        );
        assert!(parse_time("yesterday").is_none());
        let from = parse_time("2026-01-01T00:00:00.000").unwrap();
        let to = parse_time("2026-12-03T12:00:00.000").unwrap();
        let w = windows(from, to);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].0, from);
        assert_eq!(w[2].1, to);
        for (i, (a, b)) in w.iter().enumerate() {
            assert!(*b - *a <= time::Duration::days(MAX_WINDOW_DAYS));
            if i > 0 {
                assert_eq!(w[i - 1].1, *a);
            }
        }
        // A stored time in the future (a clock ahead) gives one empty window.
        assert_eq!(windows(to, from), vec![(to, to)]);
        assert_eq!(
            page_url(
                "https://h/rest/json/cves/2.0",
                2000,
                2000,
                Some((from, from))
            ),
            "https://h/rest/json/cves/2.0?resultsPerPage=2000&startIndex=2000&lastModStartDate=2026-01-01T00:00:00.000%2B00:00&lastModEndDate=2026-01-01T00:00:00.000%2B00:00"
        );
        assert_eq!(
            page_url("https://h/x?noRejected", 0, 10, None),
            "https://h/x?noRejected&resultsPerPage=10&startIndex=0"
        );
    }
}
