//! The one output-format enum of every command. Each command accepts the subset that
//! makes sense for it (`moat lint` has no CycloneDX); the binary's flag parser names
//! that subset.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Table,
    Json,
    Sarif,
    CyclonedxJson,
    SpdxJson,
    Html,
    /// Checkstyle XML (lint).
    Checkstyle,
    /// GitLab Code Quality JSON (lint).
    Gitlab,
    /// GitHub Actions annotations (lint).
    Github,
    /// Graphviz DOT (network).
    Dot,
    /// Mermaid flowchart (network).
    Mermaid,
}

impl Format {
    pub const ALL: [Format; 11] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::CyclonedxJson,
        Format::SpdxJson,
        Format::Html,
        Format::Checkstyle,
        Format::Gitlab,
        Format::Github,
        Format::Dot,
        Format::Mermaid,
    ];

    /// The name on the command line (`cyclonedx-json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::CyclonedxJson => "cyclonedx-json",
            Format::SpdxJson => "spdx-json",
            Format::Html => "html",
            Format::Checkstyle => "checkstyle",
            Format::Gitlab => "gitlab",
            Format::Github => "github",
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format {0:?} (known: table, json, sarif, cyclonedx-json, spdx-json, html, checkstyle, gitlab, github, dot, mermaid)"
)]
pub struct ParseFormatError(pub String);

impl FromStr for Format {
    type Err = ParseFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseFormatError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert!("xml".parse::<Format>().is_err());
    }
}
