//! RubyGems versions and requirements, as `Gem::Version` / `Gem::Requirement`
//! (rubygems 3.3): segments are digit runs and letter runs; any letter makes a
//! prerelease, which sorts before the release (`1.0.a < 1.0`); `-` means `.pre.`;
//! trailing zeros of the numeric and of the string part are ignored
//! (`1.0 == 1`, `1.0.a.0 == 1.a`); an empty version is `0`.
//! Requirements: `=`, `!=`, `>`, `<`, `>=`, `<=`, `~>` (pessimistic), comma-separated.

use crate::util::BigNum;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(BigNum),
    Str(String),
}

/// A RubyGems version.
#[derive(Debug, Clone)]
pub struct Version {
    /// `strip`ped, `-` replaced by `.pre.`.
    norm: String,
    segments: Vec<Seg>,
    canonical: Vec<Seg>,
}

/// `Gem::Version::ANCHORED_VERSION_PATTERN` (after strip; empty allowed).
fn correct(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let (main, pre) = match s.split_once('-') {
        Some((m, p)) => (m, Some(p)),
        None => (s, None),
    };
    let mut parts = main.split('.');
    let first = parts.next().unwrap_or("");
    if first.is_empty() || !first.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if !parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric())) {
        return false;
    }
    match pre {
        None => true,
        Some(p) => p
            .split('.')
            .all(|x| !x.is_empty() && x.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')),
    }
}

fn scan(s: &str) -> Vec<Seg> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let st = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Seg::Num(BigNum::from_digits(&s[st..i])));
        } else if b[i].is_ascii_alphabetic() {
            let st = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Seg::Str(s[st..i].to_string()));
        } else {
            i += 1;
        }
    }
    out
}

fn canonical(segs: &[Seg]) -> Vec<Seg> {
    let split = segs
        .iter()
        .position(|s| matches!(s, Seg::Str(_)))
        .unwrap_or(segs.len());
    let trim = |part: &[Seg]| {
        let n = part
            .iter()
            .rposition(|s| !matches!(s, Seg::Num(n) if n.is_zero()))
            .map_or(0, |k| k + 1);
        part[..n].to_vec()
    };
    let mut out = trim(&segs[..split]);
    out.extend(trim(&segs[split..]));
    out
}

impl Version {
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\0');
        if !correct(s) {
            return Err(VersionError::new(
                Scheme::Gem,
                input,
                "malformed version number string",
            ));
        }
        let s = if s.is_empty() { "0" } else { s };
        Ok(Self::from_norm(s.replace('-', ".pre.")))
    }

    fn from_norm(norm: String) -> Version {
        let segments = scan(&norm);
        let canonical = canonical(&segments);
        Version {
            norm,
            segments,
            canonical,
        }
    }

    pub fn is_prerelease(&self) -> bool {
        self.norm.bytes().any(|c| c.is_ascii_alphabetic())
    }

    fn numeric_prefix(&self) -> Vec<BigNum> {
        let mut segs = self.segments.clone();
        while segs.iter().any(|s| matches!(s, Seg::Str(_))) {
            segs.pop();
        }
        segs.into_iter()
            .filter_map(|s| match s {
                Seg::Num(n) => Some(n),
                Seg::Str(_) => None,
            })
            .collect()
    }

    fn join(nums: &[BigNum]) -> Version {
        let s: Vec<&str> = nums.iter().map(BigNum::as_str).collect();
        Self::from_norm(if s.is_empty() {
            "0".into()
        } else {
            s.join(".")
        })
    }

    /// `Gem::Version#release`: the version without its prerelease part.
    pub fn release(&self) -> Version {
        if self.is_prerelease() {
            Self::join(&self.numeric_prefix())
        } else {
            self.clone()
        }
    }

    /// `Gem::Version#bump`: `1.2.3` -> `1.3`, `1` -> `2`.
    pub fn bump(&self) -> Version {
        let mut nums = self.numeric_prefix();
        if nums.len() > 1 {
            nums.pop();
        }
        if let Some(last) = nums.last_mut() {
            *last = succ(last);
        }
        Self::join(&nums)
    }
}

fn succ(n: &BigNum) -> BigNum {
    let mut digits: Vec<u8> = n.as_str().bytes().collect();
    let mut k = digits.len();
    loop {
        if k == 0 {
            digits.insert(0, b'1');
            break;
        }
        k -= 1;
        if digits[k] == b'9' {
            digits[k] = b'0';
        } else {
            digits[k] += 1;
            break;
        }
    }
    BigNum::from_digits(&String::from_utf8_lossy(&digits))
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.norm)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.norm == other.norm || self.canonical == other.canonical {
            return Ordering::Equal;
        }
        let zero = Seg::Num(BigNum::from_digits("0"));
        let n = self.canonical.len().max(other.canonical.len());
        for k in 0..n {
            let l = self.canonical.get(k).unwrap_or(&zero);
            let r = other.canonical.get(k).unwrap_or(&zero);
            if l == r {
                continue;
            }
            return match (l, r) {
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
                (Seg::Num(a), Seg::Num(b)) => a.cmp(b),
                (Seg::Str(a), Seg::Str(b)) => a.cmp(b),
            };
        }
        Ordering::Equal
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

/// A requirement operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Pessimistic,
}

/// `Gem::Requirement`: every clause must hold.
#[derive(Debug, Clone)]
pub struct Requirement {
    clauses: Vec<(Op, Version)>,
}

impl Requirement {
    /// Parse `"~> 1.2, >= 1.2.3"` as `Gem::Requirement.new(*s.split(","))`: Ruby's
    /// `split` drops trailing empty parts, and no parts at all means `>= 0`.
    pub fn parse(input: &str) -> Result<Requirement, VersionError> {
        let mut parts: Vec<&str> = input.split(',').collect();
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        if parts.is_empty() {
            return Ok(Requirement {
                clauses: vec![(Op::Ge, Version::from_norm("0".into()))],
            });
        }
        let clauses = parts
            .into_iter()
            .map(|p| Self::parse_one(input, p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Requirement { clauses })
    }

    fn parse_one(whole: &str, part: &str) -> Result<(Op, Version), VersionError> {
        let err = || VersionError::new(Scheme::Gem, whole, "illformed requirement");
        let s = part.trim_matches(|c: char| c.is_ascii_whitespace());
        const OPS: [(&str, Op); 7] = [
            ("~>", Op::Pessimistic),
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let (op, rest) = match OPS.iter().find(|(o, _)| s.starts_with(o)) {
            Some((o, op)) => (
                *op,
                s[o.len()..].trim_start_matches(|c: char| c.is_ascii_whitespace()),
            ),
            None => (Op::Eq, s),
        };
        // `Gem::Requirement::PATTERN` needs a version (an empty one is not `0` here)
        if rest.is_empty() {
            return Err(err());
        }
        let v = Version::parse(rest).map_err(|_| err())?;
        Ok((op, v))
    }

    /// `Gem::Requirement#satisfied_by?`.
    pub fn satisfied_by(&self, v: &Version) -> bool {
        self.clauses.iter().all(|(op, r)| match op {
            Op::Eq => v == r,
            Op::Ne => v != r,
            Op::Gt => v > r,
            Op::Lt => v < r,
            Op::Ge => v >= r,
            Op::Le => v <= r,
            Op::Pessimistic => v >= r && v.release() < r.bump(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.0.a") < v("1.0"));
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v(""), v("0"));
        assert!(v("1.0-1") < v("1.0"));
        assert_eq!(v("1.2.3").bump().to_string(), "1.3");
        assert_eq!(v("1.9").bump().to_string(), "2");
        let r = |s| Requirement::parse(s).unwrap();
        assert!(r("~> 1.2").satisfied_by(&v("1.9")));
        assert!(!r("~> 1.2").satisfied_by(&v("2.0")));
        assert!(r("~> 1.2.3").satisfied_by(&v("1.2.9")));
        assert!(!r("~> 1.2.3").satisfied_by(&v("1.3")));
        assert!(Version::parse("junk").is_err());
    }
}
