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
mod error;
pub mod eval;
mod import;
mod model;
pub mod normalize;
mod osv;
pub mod severity;
mod store;
pub mod update;

pub use error::Error;
pub use eval::{affected_by, range_includes};
pub use import::{ImportReport, InputKind, Skipped};
pub use model::{
    Advisory, Affected, AffectedEntry, Event, Range, RangeKind, Reference, SeverityScore,
};
pub use normalize::normalize_name;
pub use store::{Database, OriginStatus, SCHEMA_VERSION, Status, Writer};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
