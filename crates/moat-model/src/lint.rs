//! Configuration findings (lint and audit) and rule metadata.
//! Owned by the lint work; extend as needed.
//!
//! Rule codes: `DF` Dockerfile, `DC` compose, `DD` daemon.json / engine, `IC` image
//! config, `CC` container runtime config, `DH` host (audit).

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

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleTarget {
    Dockerfile,
    Compose,
    Daemon,
    ImageConfig,
    Container,
    Host,
}

impl RuleTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleTarget::Dockerfile => "dockerfile",
            RuleTarget::Compose => "compose",
            RuleTarget::Daemon => "daemon",
            RuleTarget::ImageConfig => "image-config",
            RuleTarget::Container => "container",
            RuleTarget::Host => "host",
        }
    }
}

/// Static description of one rule, as `moat rules` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleMeta {
    /// Stable code (`DF001`).
    pub code: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub target: RuleTarget,
    /// References: `CIS-4.1`, `CWE-250`, URLs.
    pub references: &'static [&'static str],
    /// Codes of peer tools for the same check (`DL3002`, `DS002`, `CIS-DI-0001`).
    pub aliases: &'static [&'static str],
}

impl RuleMeta {
    /// A finding of this rule.
    pub fn finding(
        &self,
        path: &str,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) -> ConfigFinding {
        ConfigFinding {
            path: path.to_string(),
            line,
            column,
            rule: self.code.to_string(),
            aliases: self.aliases.iter().map(|s| s.to_string()).collect(),
            severity: self.severity,
            message: message.into(),
        }
    }
}
