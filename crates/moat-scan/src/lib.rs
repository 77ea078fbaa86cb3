//! The scan pipeline: open a source, catalog it, match advisories, apply the policy,
//! and build the one sorted [`ScanReport`] (moat-model's `Report`) that moat-report's
//! renderers read.

pub mod content;
pub mod pipeline;
pub mod remediation;

pub use moat_model::report::{
    DbInfo, IgnoredFinding, ImageSummary, LayerSummary, Report as ScanReport, Summary,
};
pub use pipeline::{
    Cataloged, ScanError, ScanOptions, ScanOutcome, ScanPlan, ScanSource, Scanners, network_use,
    scan,
};
