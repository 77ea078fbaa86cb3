//! What to do about the findings: the remediation plan (per vulnerable package, the
//! smallest version that fixes its findings, and where it came from) and the
//! comparison with a previous scan (baseline).

pub use crate::finding::BaselineStatus;
use crate::finding::PackageRef;
use crate::{Severity, VulnId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the layer that installed a package belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerOrigin {
    /// The base image (up to the base's last `CMD`/`ENTRYPOINT` in the history, or the
    /// first layer when the history marks no boundary).
    Base,
    /// A layer the image's own build added.
    Application,
    /// Not an image, or the layer is unknown.
    Unknown,
}

/// The plan for one vulnerable package (at one path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    pub package: PackageRef,
    pub path: String,
    /// The layer (diff_id) that installed it; empty outside images.
    #[serde(default)]
    pub layer: String,
    /// The history line (Dockerfile instruction) that made that layer.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    pub origin: LayerOrigin,
    /// The smallest version that fixes every fixable finding; `None` when none has a fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// The findings that version fixes.
    pub fixes: Vec<VulnId>,
    /// Of those, how many per severity (`HIGH: 1, MEDIUM: 2`).
    pub fixes_by_severity: BTreeMap<Severity, usize>,
    /// Findings of this package that no version fixes yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfixed: Vec<VulnId>,
    /// Whether one of its findings is known exploited (CISA KEV).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kev: bool,
}

impl Remediation {
    /// `3: 1 HIGH, 2 MEDIUM` (highest severity first).
    pub fn fixes_summary(&self) -> String {
        let parts: Vec<String> = self
            .fixes_by_severity
            .iter()
            .rev()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        format!("{}: {}", self.fixes.len(), parts.join(", "))
    }
}

/// The comparison with a previous scan (`--baseline previous.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The baseline file as given.
    pub source: String,
    pub new: usize,
    pub unchanged: usize,
    /// Findings of the baseline that are gone now.
    pub fixed: Vec<BaselineFixed>,
}

/// A finding of the baseline that this scan no longer reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineFixed {
    pub id: VulnId,
    pub package: String,
    pub version: String,
    pub path: String,
    pub severity: Severity,
}
