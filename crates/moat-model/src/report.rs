//! The report: one document, sorted, that every renderer in moat-report reads.
//!
//! Findings of every kind keep their own list (so the JSON keeps the field names other
//! tools read: `vulnerabilities`, `misconfigurations`, `ignored`), and all of them can be
//! read through one common header, [`FindingHeader`] (id, kind, severity, title,
//! location, fix, suppression), which the SARIF writer and the summaries use. A new kind
//! of finding adds its list here and its arm in [`Report::findings`].

use crate::finding::{Suppression, VulnFinding};
use crate::lint::ConfigFinding;
use crate::{Distro, Package, Severity, Unknown};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// RFC 3339; from `SOURCE_DATE_EPOCH` when set.
    pub created: String,
    /// The source as the user wrote it.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    #[serde(default)]
    pub unknowns: Vec<Unknown>,
    pub vulnerabilities: Vec<VulnFinding>,
    /// Findings moved aside by the ignore file, VEX or filters, with the reason.
    #[serde(default)]
    pub ignored: Vec<IgnoredFinding>,
    #[serde(default)]
    pub misconfigurations: Vec<ConfigFinding>,
    #[serde(default)]
    pub warnings: Vec<String>,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DbInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "moat".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct ImageSummary {
    pub digest: String,
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub repo_tags: Vec<String>,
    pub layers: Vec<LayerSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct LayerSummary {
    pub diff_id: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IgnoredFinding {
    #[serde(flatten)]
    pub finding: VulnFinding,
    pub suppressed_by: Suppression,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct Summary {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown: usize,
    pub total: usize,
    pub ignored: usize,
    pub packages: usize,
    pub misconfigurations: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct DbInfo {
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u64>,
}

impl Report {
    /// Sort every list and recompute the summary, so equal scans render equal bytes.
    pub fn finish(&mut self) {
        self.packages.sort();
        self.packages.dedup();
        self.unknowns.sort();
        self.vulnerabilities.sort_by_key(VulnFinding::sort_key);
        self.ignored.sort_by_key(|i| i.finding.sort_key());
        self.misconfigurations.sort();
        self.warnings.sort();
        self.warnings.dedup();
        let mut s = Summary {
            packages: self.packages.len(),
            ignored: self.ignored.len(),
            misconfigurations: self.misconfigurations.len(),
            total: self.vulnerabilities.len(),
            ..Summary::default()
        };
        for v in &self.vulnerabilities {
            match v.severity {
                Severity::Critical => s.critical += 1,
                Severity::High => s.high += 1,
                Severity::Medium => s.medium += 1,
                Severity::Low => s.low += 1,
                Severity::Unknown => s.unknown += 1,
            }
        }
        self.summary = s;
    }

    /// The most severe remaining finding (vulnerability or misconfiguration).
    pub fn max_severity(&self) -> Option<Severity> {
        self.vulnerabilities
            .iter()
            .map(|v| v.severity)
            .chain(self.misconfigurations.iter().map(|m| m.severity))
            .max()
    }

    /// `created_by` of the layer `diff_id`, when known.
    pub fn layer_created_by(&self, diff_id: &str) -> Option<&str> {
        self.image.as_ref().and_then(|i| {
            i.layers
                .iter()
                .find(|l| l.diff_id == diff_id)
                .map(|l| l.created_by.as_str())
        })
    }
}

/// What kind of finding a [`FindingHeader`] describes. More kinds join in this wave
/// (secret, malware, file, integrity, policy, network, runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FindingKind {
    Vulnerability,
    Misconfiguration,
}

/// Where a finding is: a path, the image layer that wrote it, a line in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingLocation {
    pub path: String,
    /// The layer's diff_id; empty outside images.
    pub layer: String,
    /// 1-based; 0 when the finding has no line.
    pub line: u32,
    pub column: u32,
}

/// The header every finding shares, whatever its kind: what renderers that treat all
/// findings alike (SARIF, summaries, gates) read.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingHeader<'a> {
    /// Advisory id or rule code.
    pub id: &'a str,
    pub kind: FindingKind,
    pub severity: Severity,
    pub title: &'a str,
    pub location: FindingLocation,
    /// Aliases: other ids of the same advisory, peer tools' codes of the same rule.
    pub aliases: &'a [String],
    /// What fixes it (`upgrade perl to 5.36.0-7+deb12u1`), when known.
    pub fix: Option<String>,
    /// Set for findings moved to `ignored`.
    pub suppression: Option<&'a Suppression>,
}

impl VulnFinding {
    /// This finding's common header.
    pub fn header(&self) -> FindingHeader<'_> {
        FindingHeader {
            id: &self.id,
            kind: FindingKind::Vulnerability,
            severity: self.severity,
            title: &self.title,
            location: FindingLocation {
                path: self.path.clone(),
                layer: self.layer.clone(),
                line: 0,
                column: 0,
            },
            aliases: &self.aliases,
            fix: (!self.fixed_versions.is_empty()).then(|| {
                format!(
                    "upgrade {} to {}",
                    self.package.name,
                    self.fixed_versions.join(" or ")
                )
            }),
            suppression: None,
        }
    }
}

impl ConfigFinding {
    /// This finding's common header.
    pub fn header(&self) -> FindingHeader<'_> {
        FindingHeader {
            id: &self.rule,
            kind: FindingKind::Misconfiguration,
            severity: self.severity,
            title: &self.message,
            location: FindingLocation {
                path: self.path.clone(),
                layer: String::new(),
                line: self.line,
                column: self.column,
            },
            aliases: &self.aliases,
            fix: None,
            suppression: None,
        }
    }
}

impl Report {
    /// Every remaining finding (not the ignored ones), through its common header, in
    /// report order: vulnerabilities, then misconfigurations.
    pub fn findings(&self) -> impl Iterator<Item = FindingHeader<'_>> {
        self.vulnerabilities
            .iter()
            .map(VulnFinding::header)
            .chain(self.misconfigurations.iter().map(ConfigFinding::header))
    }

    /// The ignored findings, each with the suppression that moved it aside.
    pub fn ignored_findings(&self) -> impl Iterator<Item = FindingHeader<'_>> {
        self.ignored.iter().map(|i| FindingHeader {
            suppression: Some(&i.suppressed_by),
            ..i.finding.header()
        })
    }
}
