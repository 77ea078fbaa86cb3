//! Configuration findings (lint and audit) and rule metadata.
//! Owned by the lint work; extend as needed.

use crate::vuln::Severity;
use serde::{Deserialize, Serialize};

/// One configuration finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConfigFinding {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub rule: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub message: String,
}
