//! Version schemes: parse and order versions the way each packaging tool does, and
//! evaluate the range syntaxes advisories and manifests are written in.
//!
//! One module per scheme ([`dpkg`], [`apk`], [`rpm`], [`semver`], [`pep440`],
//! [`maven`], [`gem`], [`go`], [`composer`]), each with a parsed version type that implements
//! `Ord` and a `parse` that returns [`VersionError`]. Ranges live in
//! [`constraint`] (npm, cargo, PEP 440, RubyGems, and a generic `>=, <` list for
//! every scheme) and [`osv`] (OSV `introduced`/`fixed` events).
//!
//! Every scheme is differential-tested against the real tool (see docs/versions.md).
//! Unparseable input is an error value, never a panic.

#![forbid(unsafe_code)]

use std::cmp::Ordering;

pub mod apk;
pub mod composer;
pub mod constraint;
pub mod dpkg;
pub mod gem;
pub mod go;
pub mod maven;
pub mod osv;
pub mod pep440;
pub mod rpm;
pub mod semver;
pub mod util;

pub use constraint::{Constraint, Syntax};

/// A version-comparison scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scheme {
    /// Debian / Ubuntu (`dpkg --compare-versions`).
    Dpkg,
    /// Alpine / Wolfi (`apk version -t`).
    Apk,
    /// RPM EVR (`rpm.vercmp`, epoch and release aware).
    Rpm,
    /// Semantic Versioning 2.0 (node-semver ordering; accepts `v`, and `1`/`1.2` shorthands).
    Semver,
    /// PEP 440 (Python `packaging`).
    Pep440,
    /// Maven `ComparableVersion`.
    Maven,
    /// RubyGems `Gem::Version`.
    Gem,
    /// Go modules (`golang.org/x/mod/semver`; the `v` is optional, as in OSV data).
    Go,
    /// Composer / Packagist (composer/semver `VersionParser::normalize`, then
    /// PHP `version_compare`).
    Composer,
}

impl Scheme {
    /// The scheme of an OSV ecosystem name (`Debian:12`, `PyPI`, `crates.io`, `Go`, ...).
    pub fn from_osv_ecosystem(eco: &str) -> Option<Scheme> {
        let base = eco.split(':').next().unwrap_or(eco);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia" => Scheme::Rpm,
            "npm" | "crates.io" | "NuGet" | "Hex" | "Pub" | "SwiftURL" => Scheme::Semver,
            "Packagist" => Scheme::Composer,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::Gem,
            "Go" => Scheme::Go,
            _ => return None,
        })
    }

    /// Every scheme.
    pub const ALL: [Scheme; 9] = [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Semver,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::Gem,
        Scheme::Go,
        Scheme::Composer,
    ];

    /// A short lowercase name (`dpkg`, `apk`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Rpm => "rpm",
            Scheme::Semver => "semver",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::Gem => "gem",
            Scheme::Go => "go",
            Scheme::Composer => "composer",
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scheme {
    type Err = UnknownScheme;
    /// The [`Scheme::name`] of a scheme (`dpkg`, `apk`, `rpm`, `semver`, `pep440`,
    /// `maven`, `gem`, `go`, `composer`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| UnknownScheme(s.to_string()))
    }
}

/// A scheme name that is not one of [`Scheme::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown version scheme {0:?} (expected dpkg, apk, rpm, semver, pep440, maven, gem, go or composer)"
)]
pub struct UnknownScheme(pub String);

/// A version (or constraint) that does not parse in its scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme:?} version {version:?}: {reason}")]
pub struct VersionError {
    pub scheme: Scheme,
    /// The offending input, as given.
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        VersionError {
            scheme,
            version: version.to_string(),
            reason: reason.into(),
        }
    }
}

/// Check that `v` parses in `scheme`.
pub fn validate(scheme: Scheme, v: &str) -> Result<(), VersionError> {
    match scheme {
        Scheme::Dpkg => dpkg::Version::parse(v).map(drop),
        Scheme::Apk => apk::Version::parse(v).map(drop),
        Scheme::Rpm => rpm::Version::parse(v).map(drop),
        Scheme::Semver => semver::Version::parse_lenient(v).map(drop),
        Scheme::Pep440 => pep440::Version::parse(v).map(drop),
        Scheme::Maven => maven::Version::parse(v).map(drop),
        Scheme::Gem => gem::Version::parse(v).map(drop),
        Scheme::Go => go::Version::parse(v).map(drop),
        Scheme::Composer => composer::Version::parse(v).map(drop),
    }
}

/// Compare two versions in `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    fn cmp2<T: Ord>(
        a: &str,
        b: &str,
        parse: impl Fn(&str) -> Result<T, VersionError>,
    ) -> Result<Ordering, VersionError> {
        Ok(parse(a)?.cmp(&parse(b)?))
    }
    match scheme {
        Scheme::Dpkg => cmp2(a, b, dpkg::Version::parse),
        Scheme::Apk => cmp2(a, b, apk::Version::parse),
        Scheme::Rpm => cmp2(a, b, rpm::Version::parse),
        Scheme::Semver => cmp2(a, b, semver::Version::parse_lenient),
        Scheme::Pep440 => cmp2(a, b, pep440::Version::parse),
        Scheme::Maven => cmp2(a, b, maven::Version::parse),
        Scheme::Gem => cmp2(a, b, gem::Version::parse),
        Scheme::Go => cmp2(a, b, go::Version::parse),
        Scheme::Composer => cmp2(a, b, composer::Version::parse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_ecosystems() {
        assert_eq!(Scheme::from_osv_ecosystem("Debian:12"), Some(Scheme::Dpkg));
        assert_eq!(
            Scheme::from_osv_ecosystem("Alpine:v3.20"),
            Some(Scheme::Apk)
        );
        assert_eq!(
            Scheme::from_osv_ecosystem("crates.io"),
            Some(Scheme::Semver)
        );
        assert_eq!(Scheme::from_osv_ecosystem("PyPI"), Some(Scheme::Pep440));
        assert_eq!(Scheme::from_osv_ecosystem("Go"), Some(Scheme::Go));
        assert_eq!(Scheme::from_osv_ecosystem("Maven"), Some(Scheme::Maven));
        assert_eq!(Scheme::from_osv_ecosystem("RubyGems"), Some(Scheme::Gem));
        assert_eq!(
            Scheme::from_osv_ecosystem("Packagist"),
            Some(Scheme::Composer)
        );
        assert_eq!(Scheme::from_osv_ecosystem("Red Hat:8"), Some(Scheme::Rpm));
        assert_eq!(Scheme::from_osv_ecosystem("nope"), None);
        for s in Scheme::ALL {
            assert!(validate(s, "1.2.3").is_ok(), "{s:?}");
            assert_eq!(s.to_string().parse::<Scheme>(), Ok(s));
        }
        assert!("cobol".parse::<Scheme>().is_err());
    }
}
