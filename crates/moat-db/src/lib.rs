//! The advisory database: OSV and Alpine secdb ingest, SQLite store, queries, update.
//!
//! - [`Database`] opens a database read-only (no full load) and answers
//!   [`Database::advisories_for`], [`Database::affected_for`],
//!   [`Database::affected_advisories`] and [`Database::status`].
//! - [`Writer`] builds a new database file next to the target, imports OSV files,
//!   directories, `all.zip` archives and Alpine secdb files into it, and renames it
//!   over the target atomically on [`Writer::commit`].
//! - [`update`] fetches the configured sources over HTTP (conditional GET) and
//!   rebuilds through a [`Writer`], so a failed update leaves the old database whole.

mod alpine;
pub mod cve;
mod error;
pub mod eval;
mod import;
mod model;
pub mod normalize;
mod osv;
pub mod severity;
mod store;
pub mod update;

pub use cve::{CveMetric, CveRecord, Provider};
pub use error::Error;
pub use eval::{RangeError, affected_by, range_includes};
pub use import::{ImportReport, InputKind, SourceSummary, reason_class};
pub use model::{
    Advisory, Affected, AffectedEntry, Event, Range, RangeKind, Reference, SeverityScore, Skipped,
};
pub use normalize::normalize_name;
pub use store::{Database, OriginStatus, SCHEMA_VERSION, Status, Writer};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Format seconds since the epoch as RFC 3339 UTC (`2026-11-29T00:20:29Z`).
pub fn format_unix(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Format a duration in seconds as a short age (`3d 4h`, `12m`, `5s`).
pub fn format_age(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}
