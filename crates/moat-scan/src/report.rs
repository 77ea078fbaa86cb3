//! The scan report: one document, sorted, that every output format renders.

use moat_match::VulnFinding;
use moat_match::policy::Suppression;
use moat_model::lint::ConfigFinding;
use moat_model::{Distro, Package, Severity, Unknown};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ScanReport {
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

impl ScanReport {
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
