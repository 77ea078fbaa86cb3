//! Debian versions: `[epoch:]upstream[-revision]`, ordered as `dpkg --compare-versions`
//! (libdpkg `verrevcmp`): `~` sorts before everything, even the end of the string;
//! letters sort before other characters; digit runs compare as numbers.
//!
//! Parsing follows libdpkg `parseversion`. What dpkg only *warns* about (an upstream
//! that does not start with a digit, a character outside the allowed sets) is an error
//! here: such strings never come out of a real package database.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// A parsed Debian version.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl Version {
    /// Parse a Debian version string (surrounding whitespace is ignored, as dpkg does).
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        let err = |r: &str| VersionError::new(Scheme::Dpkg, input, r);
        let s = input.trim();
        if s.is_empty() {
            return Err(err("version string is empty"));
        }
        if s.bytes().any(|c| c.is_ascii_whitespace()) {
            return Err(err("version string has embedded spaces"));
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, rest)) => {
                if e.is_empty() {
                    return Err(err("epoch in version is empty"));
                }
                if !e.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(err("epoch in version is not number"));
                }
                let n: u32 = e
                    .parse()
                    .ok()
                    .filter(|n| *n <= i32::MAX as u32)
                    .ok_or_else(|| err("epoch in version is too big"))?;
                if rest.is_empty() {
                    return Err(err("nothing after colon in version number"));
                }
                (n, rest)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => {
                if r.is_empty() {
                    return Err(err("revision number is empty"));
                }
                (u, r)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(err("version number is empty"));
        }
        if !upstream.as_bytes()[0].is_ascii_digit() {
            return Err(err("version number does not start with digit"));
        }
        if !upstream
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".-+~:".contains(&c))
        {
            return Err(err("invalid character in version number"));
        }
        if !revision
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".+~".contains(&c))
        {
            return Err(err("invalid character in revision number"));
        }
        Ok(Version {
            epoch,
            upstream: upstream.to_string(),
            revision: revision.to_string(),
        })
    }

    pub fn epoch(&self) -> u32 {
        self.epoch
    }
    pub fn upstream(&self) -> &str {
        &self.upstream
    }
    /// The Debian revision; empty when the version has none (which compares like `0`).
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

fn order(c: Option<&u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(*c),
        Some(b'~') => -1,
        Some(c) => i32::from(*c) + 256,
    }
}

/// libdpkg `verrevcmp`.
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let ac = order(a.get(i));
            let bc = order(b.get(j));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(&self.upstream, &other.upstream))
            .then_with(|| verrevcmp(&self.revision, &other.revision))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn c(a: &str, b: &str) -> Ordering {
        Version::parse(a).unwrap().cmp(&Version::parse(b).unwrap())
    }

    #[test]
    fn basics() {
        assert_eq!(c("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(c("1.0", "1.0-0"), Ordering::Equal);
        assert_eq!(c("1:0.1", "2.0"), Ordering::Greater);
        assert_eq!(c("1.0a", "1.0+"), Ordering::Less);
        assert_eq!(c("1.0", "1.00"), Ordering::Equal);
        assert_eq!(c("1.2-1~deb12u1", "1.2-1"), Ordering::Less);
        assert!(Version::parse("a1").is_err());
        assert!(Version::parse("1.0-").is_err());
        assert!(Version::parse("x:1").is_err());
    }
}
