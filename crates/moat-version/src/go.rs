//! Go module versions, ordered as `golang.org/x/mod/semver`: `vMAJOR[.MINOR[.PATCH]]`
//! with the `v1` / `v1.2` shorthands (no prerelease or build on a shorthand),
//! prerelease ordering of SemVer 2.0, build metadata (`+incompatible`) ignored.
//! Pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`,
//! `v1.2.4-0.20191109021931-daa7c04131f5`) are ordinary prereleases and order correctly.
//!
//! The `v` is optional here because OSV's Go data writes versions without it.
//! There is no Go toolchain on the test machine: the table tests encode x/mod's rules.

use crate::semver::{Ident, cmp_pre, parse_tail};
use crate::util::cmp_digits;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// A Go module version.
#[derive(Debug, Clone)]
pub struct Version {
    major: String,
    minor: String,
    patch: String,
    pre: Vec<Ident>,
    build: Vec<String>,
}

fn num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

impl Version {
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        let err = |r: &str| VersionError::new(Scheme::Go, input, r);
        let s = input.strip_prefix('v').unwrap_or(input);
        let end = s.find(['-', '+']).unwrap_or(s.len());
        let (core, tail) = s.split_at(end);
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 || !parts.iter().all(|p| num(p)) {
            return Err(err("expected vMAJOR[.MINOR[.PATCH]] without leading zeros"));
        }
        if parts.len() < 3 && !tail.is_empty() {
            return Err(err("prerelease or build on a shorthand version"));
        }
        let (pre, build) = parse_tail(tail, true).map_err(err)?;
        let get = |k: usize| parts.get(k).copied().unwrap_or("0").to_string();
        Ok(Version {
            major: get(0),
            minor: get(1),
            patch: get(2),
            pre,
            build,
        })
    }

    /// `+incompatible` (a v2+ module without a go.mod).
    pub fn is_incompatible(&self) -> bool {
        self.build.iter().any(|b| b == "incompatible")
    }

    /// A pseudo-version (`vX.0.0-yyyymmddhhmmss-abcdef123456`,
    /// `vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456`, `vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456`),
    /// as x/mod's `module.IsPseudoVersion`.
    pub fn is_pseudo(&self) -> bool {
        let Some(Ident::Alpha(last)) = self.pre.last() else {
            return false;
        };
        let Some((ts, rev)) = last.split_once('-') else {
            return false;
        };
        let ts_ok = ts.len() == 14 && ts.bytes().all(|c| c.is_ascii_digit());
        let rev_ok = !rev.is_empty() && rev.bytes().all(|c| c.is_ascii_alphanumeric());
        let n = self.pre.len();
        let base_ok = if n == 1 {
            self.minor == "0" && self.patch == "0"
        } else {
            self.pre[n - 2] == Ident::Num("0".into())
        };
        ts_ok && rev_ok && base_ok
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        for (k, p) in self.pre.iter().enumerate() {
            f.write_str(if k == 0 { "-" } else { "." })?;
            write!(f, "{p}")?;
        }
        for (k, b) in self.build.iter().enumerate() {
            f.write_str(if k == 0 { "+" } else { "." })?;
            f.write_str(b)?;
        }
        Ok(())
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(&self.major, &other.major)
            .then_with(|| cmp_digits(&self.minor, &other.minor))
            .then_with(|| cmp_digits(&self.patch, &other.patch))
            .then_with(|| cmp_pre(&self.pre, &other.pre))
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Version {}
