//! The advisory as stored and returned by queries.

use moat_model::Severity;
use serde::{Deserialize, Serialize};

/// One advisory, with the `affected` entries a query selected (all of them for
/// [`crate::Database::advisory`], the queried package's for
/// [`crate::Database::advisories_for`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The advisory's id (`DEBIAN-CVE-2023-1234`, `GO-2024-0001`, `CVE-…` for Alpine secdb).
    pub id: String,
    /// Where it came from: `osv` or `alpine-secdb`.
    pub source: String,
    /// For Alpine secdb, the file it came from (`v3.21/main`); empty for OSV.
    pub scope: String,
    pub modified: Option<String>,
    pub published: Option<String>,
    /// Set when the advisory was withdrawn (RFC 3339 time); matchers skip these.
    pub withdrawn: Option<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub aliases: Vec<String>,
    pub upstream: Vec<String>,
    pub related: Vec<String>,
    pub references: Vec<Reference>,
    /// Advisory-level severities (CVSS vectors with their scores, vendor ratings).
    pub severity: Vec<SeverityScore>,
    pub affected: Vec<Affected>,
}

impl Advisory {
    /// The rating to report: a vendor rating first (distributions and GHSA rate
    /// for their context), then CVSS v3, v4, v2; `Unknown` when there is none.
    pub fn rating(&self) -> Severity {
        let all = self
            .severity
            .iter()
            .chain(self.affected.iter().flat_map(|a| a.severity.iter()));
        let mut best: Option<(u8, Severity)> = None;
        for s in all {
            let rank = match s.kind.as_str() {
                "CVSS_V3" => 2,
                "CVSS_V4" => 1,
                "CVSS_V2" => 0,
                _ => 3,
            };
            if s.rating == Severity::Unknown {
                continue;
            }
            match best {
                Some((r, sev)) if r > rank || (r == rank && sev >= s.rating) => {}
                _ => best = Some((rank, s.rating)),
            }
        }
        best.map_or(Severity::Unknown, |(_, s)| s)
    }

    /// The ids this advisory is known under besides its own: aliases and upstream.
    pub fn other_ids(&self) -> impl Iterator<Item = &str> {
        self.aliases
            .iter()
            .chain(self.upstream.iter())
            .map(String::as_str)
    }
}

/// A reference link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// OSV reference type (`ADVISORY`, `FIX`, `WEB`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// One severity statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityScore {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu` (Ubuntu priority), `Debian` (Debian
    /// urgency), or `vendor` for a `database_specific.severity` rating (GHSA).
    pub kind: String,
    /// The vector or rating as published.
    pub vector: String,
    /// The CVSS base score when `vector` is a valid CVSS vector (or the published
    /// score when the source gives a score without a vector, e.g. rubysec).
    pub score: Option<f64>,
    pub rating: Severity,
    /// Who gave it when the record says so (`nvd` for the NVD vectors Ubuntu's
    /// tracker copies, `rubysec` for rubysec's scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// One package an advisory affects, in one ecosystem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV ecosystem (`Debian:12`, `Alpine:v3.21`, `PyPI`, …).
    pub ecosystem: String,
    /// The package name as published.
    pub name: String,
    /// The name as the index keys it (see [`crate::normalize_name`]).
    pub normalized_name: String,
    pub purl: Option<String>,
    /// ECOSYSTEM and SEMVER ranges (GIT ranges are counted at import and dropped).
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    pub versions: Vec<String>,
    pub severity: Vec<SeverityScore>,
    /// `database_specific` of the affected entry as published (JSON), e.g. the
    /// Debian source (`debian-oval`, `debian-changelog`) and its evidence.
    pub database_specific: Option<serde_json::Value>,
}

/// A version range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// The kind of a range: in the ecosystem's own scheme, or SemVer 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    Ecosystem,
    Semver,
}

/// An OSV range event: the one type of the project, `moat_version::osv::Event`.
pub use moat_version::osv::Event;

/// The light form of an affected entry the matcher scans first: enough to decide
/// whether a version is affected; load the full [`Advisory`] only for hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AffectedEntry {
    pub advisory_id: String,
    pub source: String,
    pub scope: String,
    pub withdrawn: bool,
    pub ecosystem: String,
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// The row of the advisory, for [`crate::Database::advisory_by_row`].
    pub advisory_row: i64,
}

/// An advisory (or a whole secdb entry) that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    /// The file (or `archive.zip!entry`) it came from.
    pub location: String,
    pub id: Option<String>,
    pub reason: String,
}
