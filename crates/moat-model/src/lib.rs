//! Shared types of moat: every crate speaks these, none of them does I/O.
//!
//! Module ownership (to keep parallel work from colliding):
//! - `package`: packages, PURLs, locations, unknowns (catalog).
//! - `distro`: operating-system release of an image (catalog).
//! - `vuln`: severities, vulnerability ids, findings (db / match).
//! - `image`: image metadata shown by `moat inspect` (image).
//! - `lint`: configuration findings and rule metadata (lint).
//! - `finding`: vulnerability findings, how they matched, why candidates dropped.
//! - `content`: secret, malware, risky-file and integrity findings (content).
//! - `remediation`: the remediation plan and the baseline comparison.
//! - `runtime`: runtime events and alerts (monitor).
//! - `graph`: the dependency graph of an inventory (catalog).
//! - `report`: the one report every renderer reads, and the common finding header.

pub mod audit;
pub mod container;
pub mod content;
pub mod distro;
pub mod finding;
pub mod graph;
pub mod image;
pub mod lint;
pub mod location;
pub mod network;
pub mod package;
pub mod remediation;
pub mod report;
pub mod response;
pub mod runtime;
pub mod text;
pub mod vuln;

pub use container::{ContainerSpec, DaemonSpec};
pub use distro::Distro;
pub use finding::{Suppression, VulnFinding};
pub use graph::Dependency;
pub use image::{HistoryEntry, ImageConfigSummary, ImageMetadata, LayerInfo};
pub use lint::{ConfigFinding, RuleMeta, RuleTarget};
pub use package::{Ecosystem, Inventory, Location, Package, Purl, PurlError, PurlParts, Unknown};
pub use report::{FindingHeader, FindingKind, Report};
pub use text::escape_control;
pub use vuln::{Severity, VulnId};
