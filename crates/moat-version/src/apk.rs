//! Alpine versions: `1.2.3a_rc1_p2~abc123-r4` — digits separated by `.`, one
//! optional letter, suffixes (`_alpha _beta _pre _rc` before the release,
//! `_cvs _svn _git _hg _p` after) with optional numbers, a `~hexhash`, and `-rN`.
//! A port of apk-tools 3 `src/version.c` (`token_next` / `apk_version_compare`):
//! a number with a leading zero after the first compares as a string
//! (`1.01 < 1.1`, `1.0 < 1.00`), like Gentoo.
//!
//! Oracles: apk-tools' own `test/version.data` (the table test) and the real
//! `apk version -t` of apk-tools 3 in the Alpine test image (differential test).

use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks: the pre-release ones sort below `NONE` (5), the others above.
const SUFFIX_NONE: u8 = 5;

fn suffix_value(s: &[u8]) -> Option<u8> {
    Some(match s {
        b"alpha" => 1,
        b"beta" => 2,
        b"pre" => 3,
        b"rc" => 4,
        b"cvs" => 6,
        b"svn" => 7,
        b"git" => 8,
        b"hg" => 9,
        b"p" => 10,
        _ => return None,
    })
}

struct State<'a> {
    s: &'a [u8],
    pos: usize,
    token: Tok,
    suffix: u8,
    number: u64,
    value: &'a [u8],
}

impl<'a> State<'a> {
    fn new(s: &'a str) -> State<'a> {
        let mut t = State {
            s: s.as_bytes(),
            pos: 0,
            token: Tok::InitialDigit,
            suffix: 0,
            number: 0,
            value: &[],
        };
        t.parse_digits();
        t
    }

    fn parse_digits(&mut self) {
        let st = self.pos;
        let mut n: u64 = 0;
        while let Some(c) = self.s.get(self.pos).filter(|c| c.is_ascii_digit()) {
            n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            self.pos += 1;
        }
        self.number = n;
        self.value = &self.s[st..self.pos];
        if self.value.is_empty() {
            self.token = Tok::Invalid;
        }
    }

    fn span(&mut self, ok: impl Fn(u8) -> bool) -> &'a [u8] {
        let st = self.pos;
        while self.s.get(self.pos).is_some_and(|c| ok(*c)) {
            self.pos += 1;
        }
        &self.s[st..self.pos]
    }

    /// apk-tools 3 `token_next`.
    fn next(&mut self) {
        let Some(&c) = self.s.get(self.pos) else {
            self.token = Tok::End;
            return;
        };
        match c {
            b'a'..=b'z' => {
                if self.token > Tok::Digit {
                    self.token = Tok::Invalid;
                    return;
                }
                self.value = &self.s[self.pos..self.pos + 1];
                self.token = Tok::Letter;
                self.pos += 1;
            }
            b'.' | b'0'..=b'9' => {
                if c == b'.' {
                    if self.token > Tok::Digit {
                        self.token = Tok::Invalid;
                        return;
                    }
                    self.pos += 1;
                }
                self.token = match self.token {
                    Tok::InitialDigit | Tok::Digit => Tok::Digit,
                    Tok::Suffix => Tok::SuffixNo,
                    _ => {
                        self.token = Tok::Invalid;
                        return;
                    }
                };
                self.parse_digits();
            }
            b'_' => {
                if self.token > Tok::SuffixNo {
                    self.token = Tok::Invalid;
                    return;
                }
                self.pos += 1;
                self.value = self.span(|c| c.is_ascii_lowercase());
                match suffix_value(self.value) {
                    Some(v) => {
                        self.suffix = v;
                        self.token = Tok::Suffix;
                    }
                    None => self.token = Tok::Invalid,
                }
            }
            b'~' => {
                if self.token >= Tok::CommitHash {
                    self.token = Tok::Invalid;
                    return;
                }
                self.pos += 1;
                self.value = self.span(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
                self.token = if self.value.is_empty() {
                    Tok::Invalid
                } else {
                    Tok::CommitHash
                };
            }
            b'-' => {
                if self.token >= Tok::RevisionNo || self.s.get(self.pos + 1) != Some(&b'r') {
                    self.token = Tok::Invalid;
                    return;
                }
                self.pos += 2;
                self.token = Tok::RevisionNo;
                self.parse_digits();
            }
            _ => self.token = Tok::Invalid,
        }
    }
}

/// `apk_blob_sort`: bytewise, then shorter first.
fn blob_sort(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then(a.len().cmp(&b.len()))
}

fn token_cmp(a: &State<'_>, b: &State<'_>) -> Ordering {
    match a.token {
        Tok::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => {
            blob_sort(a.value, b.value)
        }
        Tok::Digit | Tok::InitialDigit | Tok::SuffixNo | Tok::RevisionNo => a.number.cmp(&b.number),
        Tok::Letter => a.value.first().cmp(&b.value.first()),
        Tok::Suffix => a.suffix.cmp(&b.suffix),
        _ => blob_sort(a.value, b.value),
    }
}

/// apk-tools 3 `apk_version_validate`.
fn valid(s: &str) -> bool {
    let mut t = State::new(s);
    while t.token < Tok::End {
        t.next();
    }
    t.token == Tok::End
}

/// apk-tools 3 `apk_version_compare` on two strings (valid or not, as apk does).
pub fn compare_raw(a: &str, b: &str) -> Ordering {
    let mut ta = State::new(a);
    let mut tb = State::new(b);
    while ta.token == tb.token && ta.token < Tok::End {
        let r = token_cmp(&ta, &tb);
        if r != Ordering::Equal {
            return r;
        }
        ta.next();
        tb.next();
    }
    if ta.token == tb.token {
        return Ordering::Equal;
    }
    if ta.token == Tok::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.token == Tok::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    // the non-terminating version is greater
    tb.token.cmp(&ta.token)
}

/// A validated apk version.
#[derive(Debug, Clone)]
pub struct Version(String);

impl Version {
    /// Parse (validate) an apk version; surrounding whitespace is not allowed.
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        if input.is_empty() {
            return Err(VersionError::new(Scheme::Apk, input, "empty"));
        }
        if !valid(input) {
            return Err(VersionError::new(
                Scheme::Apk,
                input,
                "not a valid apk version (digits, one letter, _suffixN, -rN)",
            ));
        }
        Ok(Version(input.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_raw(&self.0, &other.0)
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
        let c = |a, b| Version::parse(a).unwrap().cmp(&Version::parse(b).unwrap());
        assert_eq!(c("1.0_rc1", "1.0"), Ordering::Less);
        assert_eq!(c("1.0_p1", "1.0"), Ordering::Greater);
        assert_eq!(c("1.0-r1", "1.0"), Ordering::Greater);
        assert_eq!(c("1.0a", "1.0"), Ordering::Greater);
        assert_eq!(c("1.2.3-r0", "1.2.3-r10"), Ordering::Less);
        assert!(Version::parse("1.0bc").is_err());
        assert!(Version::parse("1.0-1").is_err());
        assert!(Version::parse("abc").is_err());
    }
}
