//! RPM versions: `[epoch:]version[-release]`, ordered as rpm 4.18's `rpm.ver`
//! objects compare (checked against `rpm --eval '%{lua: ... rpm.ver(a) < rpm.ver(b)}'`):
//! epoch (missing or empty = 0), then `rpmvercmp` of the versions, then of the
//! releases, a missing release comparing as the empty string (`1.0 < 1.0-1`).
//!
//! `rpmvercmp`: alphanumeric segments; other characters separate; `~` sorts before
//! everything (even the end), `^` after the end but before anything else; digit
//! segments beat letter segments and compare as numbers.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// A parsed RPM EVR.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: Option<String>,
    version: String,
    release: Option<String>,
}

impl Version {
    /// Parse an EVR string the way rpm's `parseEVR` splits it: a leading digit run
    /// followed by `:` is the epoch; the text after the last `-` is the release.
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        let err = |r: &str| VersionError::new(Scheme::Rpm, input, r);
        if input.is_empty() {
            return Err(err("empty"));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains whitespace or control characters"));
        }
        let digits = input.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = if input.as_bytes().get(digits) == Some(&b':') {
            let e = &input[..digits];
            (
                Some(if e.is_empty() { "0" } else { e }.to_string()),
                &input[digits + 1..],
            )
        } else {
            (None, input)
        };
        let (version, release) = match rest.rsplit_once('-') {
            Some((v, r)) => (v, Some(r.to_string())),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(err("version part is empty"));
        }
        Ok(Version {
            epoch,
            version: version.to_string(),
            release,
        })
    }

    /// The epoch as written (`None` when absent; compares as `0`).
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.epoch {
            write!(f, "{e}:")?;
        }
        f.write_str(&self.version)?;
        if let Some(r) = &self.release {
            write!(f, "-{r}")?;
        }
        Ok(())
    }
}

/// rpm's `rpmvercmp` on two raw strings.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        if i >= a.len() && j >= b.len() {
            break;
        }
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (ca, cb) else {
            break;
        };
        let isnum = first.is_ascii_digit();
        let class = |c: &u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let ea = i + a[i..].iter().take_while(|c| class(c)).count();
        let eb = j + b[j..].iter().take_while(|c| class(c)).count();
        if ea == i {
            return Ordering::Less; // cannot happen: a[i] is alphanumeric
        }
        if eb == j {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (sa, sb) = (&a[i..ea], &b[j..eb]);
        let rc = if isnum {
            let sa = trim_zeros(sa);
            let sb = trim_zeros(sb);
            sa.len().cmp(&sb.len()).then_with(|| sa.cmp(sb))
        } else {
            sa.cmp(sb)
        };
        if rc != Ordering::Equal {
            return rc;
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| **c == b'0').count();
    &s[n..]
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let e1 = self.epoch.as_deref().unwrap_or("0");
        let e2 = other.epoch.as_deref().unwrap_or("0");
        rpmvercmp(e1, e2)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| {
                rpmvercmp(
                    self.release.as_deref().unwrap_or(""),
                    other.release.as_deref().unwrap_or(""),
                )
            })
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

    #[test]
    fn basics() {
        assert_eq!(rpmvercmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0^git1", "1.0"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0^git1", "1.0.1"), Ordering::Less);
        assert_eq!(rpmvercmp("1.0a", "1.0"), Ordering::Greater);
        assert_eq!(rpmvercmp("1.0", "1.0."), Ordering::Equal);
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(v("1:1.0").cmp(&v("2.0")), Ordering::Greater);
        assert_eq!(v("1.0").cmp(&v("1.0-5")), Ordering::Less);
        assert_eq!(v("1.0-1").cmp(&v("1.0-2")), Ordering::Less);
    }
}
