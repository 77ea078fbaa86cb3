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

/// A CVSS vector and its score.
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Cvss {
    /// `2.0`, `3.0`, `3.1`, `4.0`.
    pub version: String,
    pub vector: String,
    pub score: f64,
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
    /// Where the severity came from (`cvss-v3`, `vendor:debian`, `ghsa`...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<Cvss>,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    pub matched_by: MatchDetail,
    /// Data source of the advisory (`osv:Debian`, `alpine-secdb`...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data_source: String,
}

impl VulnFinding {
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
