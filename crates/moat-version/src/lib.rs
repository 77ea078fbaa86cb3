//! Version schemes. STUB API: the version work replaces the bodies; keep the
//! signatures (other crates build against them) or change their callers too.

use std::cmp::Ordering;

/// A version-comparison scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scheme {
    Dpkg,
    Apk,
    Rpm,
    Semver,
    Pep440,
    Maven,
    Gem,
    Go,
}

impl Scheme {
    /// The scheme of an OSV ecosystem name (`Debian:12`, `PyPI`, `crates.io`, `Go`, ...).
    pub fn from_osv_ecosystem(eco: &str) -> Option<Scheme> {
        let base = eco.split(':').next().unwrap_or(eco);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia" => Scheme::Rpm,
            "npm" | "crates.io" | "NuGet" | "Hex" | "Pub" | "SwiftURL" | "Packagist" => {
                Scheme::Semver
            }
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::Gem,
            "Go" => Scheme::Go,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme:?} version {version:?}: {reason}")]
pub struct VersionError {
    pub scheme: Scheme,
    pub version: String,
    pub reason: String,
}

/// Check that `v` parses in `scheme`.
pub fn validate(scheme: Scheme, v: &str) -> Result<(), VersionError> {
    if v.trim().is_empty() {
        return Err(VersionError {
            scheme,
            version: v.to_string(),
            reason: "empty".into(),
        });
    }
    Ok(())
}

/// Compare two versions in `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    validate(scheme, a)?;
    validate(scheme, b)?;
    Ok(a.cmp(b)) // STUB: replaced by the real schemes
}
