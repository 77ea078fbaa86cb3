//! Matching packages against advisories, and the policy that filters the findings.
//!
//! - [`policy`]: the ignore file (YAML) and OpenVEX statements that move findings to
//!   `ignored` with a reason.

pub mod finding;
pub mod matcher;
pub mod policy;

pub use finding::{Cvss, Dropped, FixState, MatchDetail, PackageRef, VulnFinding};
