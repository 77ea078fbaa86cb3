//! Matching packages against advisories, and the policy that filters the findings.
//!
//! - [`matcher`]: the [`Matcher`] trait and the loop every family shares; one file per
//!   family: [`dpkg`], [`apk`], [`rpm`], [`gostdlib`], [`language`].
//!
//! - [`policy`]: the ignore file (YAML) and OpenVEX statements that move findings to
//!   `ignored` with a reason.

pub mod apk;
pub mod dpkg;
pub mod engine;
pub mod family;
pub mod finding;
pub mod gostdlib;
pub mod language;
pub mod matcher;
mod os;
pub mod policy;
pub mod rpm;
pub mod severity;

pub use family::{Matcher, NamespaceError, Query};
pub use finding::{
    Cvss, DropReason, Dropped, FixState, MatchDetail, MatcherKind, PackageRef, VulnFinding,
};
pub use matcher::MATCHERS;
