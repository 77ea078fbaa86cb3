//! The scan pipeline's report and its renderers.
//!
//! `report`: the one sorted [`ScanReport`] every renderer reads.
//! `render`: table, JSON, SARIF 2.1.0 and a self-contained HTML page.

pub mod pipeline;
pub mod render;
pub mod report;

pub use pipeline::{ScanError, ScanOptions, ScanOutcome, Scanners, scan};
pub use report::{DbInfo, IgnoredFinding, ImageSummary, LayerSummary, ScanReport, Summary};
