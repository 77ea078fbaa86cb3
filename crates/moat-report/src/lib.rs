//! Every renderer of moat: table, JSON, SARIF, CycloneDX, SPDX, HTML. Each takes a
//! report from moat-model (the scan [`moat_model::Report`], an [`Inventory`], configuration
//! findings, image metadata) and a `&mut dyn Write`; [`Format`] is the one format enum.
//! No other crate writes SARIF, HTML or tables (crates/moat/tests/architecture.rs).
//!
//! SBOM renderers (this file's `sbom` family) take an [`Inventory`] and [`SbomMeta`]
//! and write to any `Write`. Output is deterministic: packages come sorted from the
//! catalog, identifiers (CycloneDX serial number, SPDX document namespace) are derived
//! from a hash of the content, and the timestamp is the caller's (the binary honours
//! `SOURCE_DATE_EPOCH`).

#![forbid(unsafe_code)]

pub mod audit;
pub mod checkstyle;
pub mod content;
pub mod cyclonedx;
pub mod dashboard;
pub mod db;
pub mod format;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod inspect;
pub mod json;
pub mod monitor;
pub mod network;
pub mod network_html;
pub mod packages;
pub mod respond;
pub mod sarif;
pub mod spdx;
pub mod table;
pub mod verify;

pub use format::Format;

use moat_model::Inventory;
use sha2::{Digest, Sha256};

/// What every SBOM says about itself.
#[derive(Debug, Clone)]
pub struct SbomMeta {
    /// The scanned source as the user wrote it (`docker-archive:img.tar`).
    pub source: String,
    /// The tool's version (`env!("CARGO_PKG_VERSION")` of the binary).
    pub tool_version: String,
    /// Creation time, RFC 3339 UTC (`2024-01-02T03:04:05Z`).
    pub timestamp: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// RFC 3339 UTC timestamp of a Unix time (seconds), without a time crate.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A version-5-shaped UUID from the hash of the inventory and source: the same input
/// gives the same identifier, a different input a different one.
pub fn content_uuid(inv: &Inventory, meta: &SbomMeta) -> String {
    let mut h = Sha256::new();
    h.update(meta.source.as_bytes());
    h.update([0]);
    h.update(meta.timestamp.as_bytes());
    h.update([0]);
    // Serializing our own types cannot fail; an empty hash input is still deterministic.
    h.update(serde_json::to_vec(inv).unwrap_or_default());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// True when `s` is a valid SPDX license expression (or a single license id).
pub fn is_spdx_expression(s: &str) -> bool {
    ::spdx::Expression::parse_mode(s, ::spdx::ParseMode::STRICT).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
