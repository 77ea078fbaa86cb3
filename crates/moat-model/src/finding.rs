//! What a matcher produces: findings, with how they were matched, and dropped
//! candidates, with why they were dropped.

use crate::{Ecosystem, Purl, Severity, VulnId};
use serde::{Deserialize, Serialize};

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    pub ecosystem: Ecosystem,
    pub purl: Purl,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

/// Whether a fix exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixState {
    Fixed,
    NotFixed,
    Unknown,
}

/// A CVSS vector and its score, with who gave it.
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Cvss {
    /// Who gave it: `advisory:<id>` (the matched advisory's own), `cna:<org>`,
    /// `adp:<org>` (CVE record containers), `nvd:<org or record>` (NVD's analysis,
    /// directly or as another record copied it), `osv:<id>` (another advisory of the
    /// same CVE).
    #[serde(default)]
    pub source: String,
    /// `2.0`, `3.0`, `3.1`, `4.0`.
    pub version: String,
    /// The vector; empty when the source publishes only a score (rubysec).
    pub vector: String,
    pub score: f64,
}

/// A finding compared with the baseline scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineStatus {
    /// Not in the baseline.
    New,
    /// In the baseline too (same id, package, version and path).
    Unchanged,
}

/// A CVE in CISA's Known Exploited Vulnerabilities catalog.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Kev {
    /// The CVE that is in the catalog (the finding's id or one of its aliases).
    pub cve: String,
    /// The date CISA added it (`YYYY-MM-DD`).
    pub date_added: String,
    /// The record that says so (`cisa-adp` container of the CVE record, `nvd`).
    pub source: String,
}

/// Which matcher family reported a finding. One implementation each in moat-match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MatcherKind {
    /// Debian/Ubuntu packages, by source package in the release's namespace.
    DpkgSource,
    /// Alpine packages, by origin in the release's namespace.
    ApkOrigin,
    /// RPM packages, by source RPM in the release's namespace.
    RpmSource,
    /// Language packages in their ecosystem (PyPI, npm, crates.io, Go modules...).
    Ecosystem,
    /// The Go toolchain a binary was built with, as `stdlib`.
    GoStdlib,
    /// Container engine and runtime components (dockerd, containerd, runc).
    EngineComponent,
}

impl MatcherKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatcherKind::DpkgSource => "dpkg-source",
            MatcherKind::ApkOrigin => "apk-origin",
            MatcherKind::RpmSource => "rpm-source",
            MatcherKind::Ecosystem => "ecosystem",
            MatcherKind::GoStdlib => "go-stdlib",
            MatcherKind::EngineComponent => "engine-component",
        }
    }
}

impl std::fmt::Display for MatcherKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a finding was matched ("why is this reported?").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MatchDetail {
    /// The matcher family (`dpkg-source`, `apk-origin`, `ecosystem`, `go-stdlib`).
    pub matcher: MatcherKind,
    /// The advisory namespace searched (`Debian:12`, `PyPI`, `Go`).
    pub namespace: String,
    /// The package name looked up (the source package for OS packages).
    pub searched_name: String,
    /// The version compared.
    pub searched_version: String,
    /// The advisory's affected range or version list that contains it.
    pub constraint: String,
}

/// One vulnerability in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnFinding {
    pub id: VulnId,
    pub aliases: Vec<VulnId>,
    pub package: PackageRef,
    /// The path of the package's metadata file (or binary).
    pub path: String,
    /// The layer (diff_id) that last wrote `path`; empty outside images.
    #[serde(default)]
    pub layer: String,
    pub fixed_versions: Vec<String>,
    pub fix_state: FixState,
    pub severity: Severity,
    /// Where the severity came from, by the precedence of docs/scan.md: `ubuntu`,
    /// `debian` (the distribution's rating), `advisory` (its own rating), or the
    /// `source` of the CVSS vector that rated it (`advisory:<id>`, `cna:<org>`,
    /// `adp:<org>`, `nvd:<who>`, `osv:<id>`); empty when nothing rates it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity_source: String,
    /// Every CVSS vector known for it, in precedence order (the first rated it when
    /// `severity_source` names a CVSS source).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<Cvss>,
    /// Set when the vulnerability is known to be exploited (CISA KEV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<Kev>,
    /// `new` or `unchanged` against the baseline scan (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineStatus>,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    pub matched_by: MatchDetail,
    /// Data source of the advisory (`osv:Debian`, `alpine-secdb`...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data_source: String,
    /// PURLs from a top-level package to this one, both included, when the package is
    /// a transitive dependency (the direct dependency to upgrade is the second entry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependency_path: Vec<String>,
}

impl VulnFinding {
    /// The CVSS score that rates it (the first vector's), for ordering.
    pub fn score(&self) -> Option<f64> {
        self.cvss.first().map(|c| c.score)
    }

    /// The priority order of the table and HTML: known exploited (KEV) first, then
    /// severity, CVSS score, a fix available, and the id.
    pub fn priority_cmp(&self, other: &VulnFinding) -> std::cmp::Ordering {
        other
            .kev
            .is_some()
            .cmp(&self.kev.is_some())
            .then(other.severity.cmp(&self.severity))
            .then(
                other
                    .score()
                    .unwrap_or(-1.0)
                    .total_cmp(&self.score().unwrap_or(-1.0)),
            )
            .then((self.fix_state != FixState::Fixed).cmp(&(other.fix_state != FixState::Fixed)))
            .then(self.id.cmp(&other.id))
    }

    /// The sort key that makes reports diff cleanly.
    pub fn sort_key(&self) -> (String, String, String, String) {
        (
            self.package.name.clone(),
            self.package.version.clone(),
            self.path.clone(),
            self.id.to_string(),
        )
    }
}

/// Why a candidate advisory was not reported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DropReason {
    /// The advisory is withdrawn.
    Withdrawn,
    /// The installed version cannot be compared in the advisory's scheme.
    Incomparable { version: String, error: String },
    /// The version is outside every affected range (no fixed version named).
    OutsideRanges { version: String },
    /// The version is at or past a fix.
    NotAffected { version: String, fixed: Vec<String> },
    /// The advisory row could not be read back from the database.
    NotLoaded,
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropReason::Withdrawn => f.write_str("the advisory is withdrawn"),
            DropReason::Incomparable { version, error } => {
                write!(f, "version {version} cannot be compared: {error}")
            }
            DropReason::OutsideRanges { version } => {
                write!(f, "{version} is outside the affected ranges")
            }
            DropReason::NotAffected { version, fixed } => {
                write!(
                    f,
                    "{version} is not affected (fixed in {})",
                    fixed.join(", ")
                )
            }
            DropReason::NotLoaded => f.write_str("the advisory could not be loaded"),
        }
    }
}

/// A candidate advisory that was looked at and not reported ("why not?").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dropped {
    pub id: VulnId,
    pub package: String,
    pub version: String,
    pub reason: DropReason,
}

/// Why a finding was moved to `ignored`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Suppression {
    /// `ignore-file` or `vex`.
    pub kind: String,
    /// The file the rule came from.
    pub source: String,
    /// The reason, VEX status and justification, or statement text.
    pub reason: String,
}
