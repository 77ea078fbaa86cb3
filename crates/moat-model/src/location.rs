//! Where a finding is (shared by the report and the content findings).

use serde::{Deserialize, Serialize};

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
