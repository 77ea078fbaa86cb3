//! Helpers shared by the schemes.

use std::cmp::Ordering;

/// Compare two ASCII digit strings as unbounded non-negative integers.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether `s` is non-empty and all ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// A non-negative integer of any length, kept as normalized decimal text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BigNum(String);

impl BigNum {
    /// From ASCII digits (leading zeros dropped).
    pub(crate) fn from_digits(s: &str) -> BigNum {
        let t = s.trim_start_matches('0');
        BigNum(if t.is_empty() { "0".into() } else { t.into() })
    }
    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ord for BigNum {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}
impl PartialOrd for BigNum {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl std::fmt::Display for BigNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
