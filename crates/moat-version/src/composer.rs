//! Composer (Packagist) versions, as composer/semver 3 orders them.
//!
//! A version is first normalized the way `VersionParser::normalize` does it:
//! `v1.2` -> `1.2.0.0` (a `v` prefix dropped, four numeric parts, missing ones
//! `.0`), `1.0.0-b2` -> `1.0.0.0-beta2`, `1.0RC1` -> `1.0.0.0-RC1`,
//! `1.2.3-p1`/`-pl1` -> `1.2.3.0-patch1`, `1.0-dev` -> `1.0.0.0-dev`, date
//! versions (`2010-01-02` -> `2010.01.02`), numeric branches (`2.x-dev` ->
//! `2.9999999.9999999.9999999-dev`), `+build` metadata, `@stability` flags and
//! `x as y` aliases stripped, and `dev-*` / `master` / `trunk` / `default`
//! branches kept by name (`dev-main`). Anything else is an error, as it is for
//! composer.
//!
//! Two normalized versions are then compared as `Comparator::compare` does, i.e.
//! PHP's `version_compare` ([`php_version_compare`], ported from
//! `ext/standard/versioning.c`): `dev < alpha < beta < RC < (release) < patch`.
//! A `dev-*` branch is below every numbered version (what `version_compare` says
//! when composer compares branches); two different branches are unordered for
//! composer, and are ordered here by name so that [`Version`] is a total order.

use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// A Composer version, normalized.
#[derive(Debug, Clone)]
pub struct Version {
    /// `VersionParser::normalize` output.
    norm: String,
    /// `norm` as `version_compare` canonicalizes it; None for a `dev-*` branch.
    canon: Option<Vec<u8>>,
}

impl Version {
    /// Normalize `input` as composer does; an error where composer throws
    /// "Invalid version string".
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        let norm = normalize(input)?;
        let canon = if norm.starts_with("dev-") {
            None
        } else {
            Some(canonicalize(norm.as_bytes()))
        };
        Ok(Version { norm, canon })
    }

    /// The normalized form (`1.2.0.0-beta1`, `dev-main`).
    pub fn normalized(&self) -> &str {
        &self.norm
    }

    /// Whether this is a `dev-*` branch (not a numbered version).
    pub fn is_branch(&self) -> bool {
        self.canon.is_none()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.norm)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.canon, &other.canon) {
            (Some(a), Some(b)) => compare_canonical(a, b),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => self.norm.cmp(&other.norm),
        }
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

// ---------------------------------------------------------------------------
// VersionParser::normalize

/// PCRE `\s` (space, `\t`, `\n`, `\v`, `\f`, `\r`).
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// PHP `trim`'s default characters.
fn php_trim(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\x0b'))
}

/// PCRE `$` (no `D` modifier): the end, or before a final newline.
fn at_end(rest: &[u8]) -> bool {
    rest.is_empty() || rest == b"\n"
}

fn digits_len(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

fn starts_with_ci(s: &[u8], p: &[u8]) -> bool {
    s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p)
}

/// The parts of `$modifierRegex`
/// (`[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?`)
/// followed by `$`.
struct Modifier<'a> {
    stability: Option<&'a str>,
    numbers: &'a str,
    dev: bool,
}

/// Match the modifier against all of `s` (case-insensitively, as composer does).
fn modifier(s: &str) -> Option<Modifier<'_>> {
    const WORDS: [&str; 9] = [
        "stable", "beta", "b", "RC", "alpha", "a", "patch", "pl", "p",
    ];
    let b = s.as_bytes();
    let mut i = 0;
    // `[._-]?`: taking it never loses a match the regex could find without it
    if matches!(b.first(), Some(b'.' | b'_' | b'-')) {
        i = 1;
    }
    let mut stability = None;
    let mut numbers = "";
    // the first alternative that is a prefix wins: a longer word that matches
    // leaves letters no later part accepts, so backtracking to a shorter one
    // never helps
    if let Some(w) = WORDS.iter().find(|w| starts_with_ci(&b[i..], w.as_bytes())) {
        let st = i;
        i += w.len();
        stability = Some(&s[st..i]);
        // `((?:[.-]?\d+)*+)`
        let ns = i;
        loop {
            let sep = usize::from(matches!(b.get(i), Some(b'.' | b'-')));
            let n = digits_len(&b[i + sep..]);
            if n == 0 {
                break;
            }
            i += sep + n;
        }
        numbers = &s[ns..i];
    }
    // `([.-]?dev)?`
    let mut dev = false;
    let sep = usize::from(matches!(b.get(i), Some(b'.' | b'-')));
    if starts_with_ci(&b[i + sep..], b"dev") {
        i += sep + 3;
        dev = true;
    }
    at_end(&b[i..]).then_some(Modifier {
        stability,
        numbers,
        dev,
    })
}

/// `VersionParser::expandStability`.
fn expand_stability(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    match l.as_str() {
        "a" => "alpha".into(),
        "b" => "beta".into(),
        "p" | "pl" => "patch".into(),
        "rc" => "RC".into(),
        _ => l,
    }
}

/// Append the matched modifier as `normalize` does.
fn with_modifier(mut version: String, m: &Modifier<'_>) -> String {
    if let Some(st) = m.stability {
        if st == "stable" {
            return version;
        }
        version.push('-');
        version.push_str(&expand_stability(st));
        version.push_str(m.numbers.trim_start_matches(['.', '-']));
    }
    if m.dev {
        version.push_str("-dev");
    }
    version
}

/// `^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?` + modifier + `$`.
fn classical(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'v' | b'V')));
    let n = digits_len(&b[i..]);
    // more than 5 digits: nothing after `\d{1,5}` accepts a digit
    if n == 0 || n > 5 {
        return None;
    }
    let major = &s[i..i + n];
    i += n;
    let mut parts: Vec<&str> = Vec::new();
    while parts.len() < 3 && b.get(i) == Some(&b'.') {
        let n = digits_len(&b[i + 1..]);
        if n == 0 {
            break;
        }
        parts.push(&s[i..i + 1 + n]);
        i += 1 + n;
    }
    let m = modifier(&s[i..])?;
    let mut version = major.to_string();
    for k in 0..3 {
        version.push_str(parts.get(k).copied().unwrap_or(".0"));
    }
    Some(with_modifier(version, &m))
}

/// Whether `g` is all of `\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?`.
fn date_digits(g: &[u8]) -> bool {
    fn sep_options(g: &[u8], i: usize) -> impl Iterator<Item = usize> {
        let with = matches!(g.get(i), Some(b'.' | b':' | b'-'));
        [with.then_some(i + 1), Some(i)].into_iter().flatten()
    }
    fn digits_at(g: &[u8], i: usize, n: usize) -> bool {
        g.len() >= i + n && g[i..i + n].iter().all(u8::is_ascii_digit)
    }
    fn tail(g: &[u8], i: usize, pairs: usize) -> bool {
        if pairs >= 1 && i == g.len() {
            return true;
        }
        if pairs < 6 {
            for j in sep_options(g, i) {
                if digits_at(g, j, 2) && tail(g, j + 2, pairs + 1) {
                    return true;
                }
            }
        }
        if pairs >= 1 {
            for j in sep_options(g, i) {
                for n in 1..=3 {
                    if j + n == g.len() && digits_at(g, j, n) {
                        return true;
                    }
                }
            }
        }
        false
    }
    digits_at(g, 0, 4) && tail(g, 4, 0)
}

/// `^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)` + modifier + `$`.
fn date(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let st = usize::from(matches!(b.first(), Some(b'v' | b'V')));
    // the date part ends at the last digit before anything else: the modifier
    // cannot start with a digit, nor with two separators before one
    let run = b[st..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || matches!(c, b'.' | b':' | b'-'))
        .count();
    let end = st + b[st..st + run].iter().rposition(u8::is_ascii_digit)? + 1;
    if !date_digits(&b[st..end]) {
        return None;
    }
    let m = modifier(&s[end..])?;
    let version: String = s[st..end]
        .chars()
        .map(|c| if c.is_ascii_digit() { c } else { '.' })
        .collect();
    Some(with_modifier(version, &m))
}

/// `VersionParser::normalizeBranch`, when it gives a numbered version
/// (`^v?(\d++)(\.(?:\d++|[xX*]))?{3}$`): `1.2.x` -> `1.2.9999999.9999999-dev`.
fn numeric_branch(name: &str) -> Option<String> {
    let name = php_trim(name);
    let b = name.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'v' | b'V')));
    let n = digits_len(&b[i..]);
    if n == 0 {
        return None;
    }
    let mut version = name[i..i + n].to_string();
    i += n;
    let mut parts = 0;
    while parts < 3 && b.get(i) == Some(&b'.') {
        let n = digits_len(&b[i + 1..]);
        if n > 0 {
            version.push_str(&name[i..i + 1 + n]);
            i += 1 + n;
        } else if matches!(b.get(i + 1), Some(b'x' | b'X' | b'*')) {
            version.push_str(".x");
            i += 2;
        } else {
            break;
        }
        parts += 1;
    }
    if !at_end(&b[i..]) {
        return None;
    }
    for _ in parts..3 {
        version.push_str(".x");
    }
    Some(version.replace('x', "9999999") + "-dev")
}

/// `VersionParser::normalize` (composer/semver 3.3).
pub fn normalize(input: &str) -> Result<String, VersionError> {
    let err = || VersionError::new(Scheme::Composer, input, "invalid version string");
    let mut v = php_trim(input);
    // strip off aliasing: `^([^,\s]++) ++as ++([^,\s]++)$`
    {
        let b = v.as_bytes();
        let a = b.iter().take_while(|&&c| c != b',' && !is_space(c)).count();
        let sp1 = b[a..].iter().take_while(|&&c| c == b' ').count();
        let rest = &b[a + sp1..];
        if a > 0 && sp1 > 0 && rest.starts_with(b"as") {
            let sp2 = rest[2..].iter().take_while(|&&c| c == b' ').count();
            let tail = &rest[2 + sp2..];
            let n = tail
                .iter()
                .take_while(|&&c| c != b',' && !is_space(c))
                .count();
            if sp2 > 0 && n > 0 && at_end(&tail[n..]) {
                v = &v[..a];
            }
        }
    }
    // strip off stability flag: `@(?:stable|RC|beta|alpha|dev)$`i
    if let Some(at) = v.rfind('@')
        && ["stable", "rc", "beta", "alpha", "dev"]
            .iter()
            .any(|f| v[at + 1..].eq_ignore_ascii_case(f))
    {
        v = &v[..at];
    }
    if matches!(v, "master" | "trunk" | "default") {
        return Ok(format!("dev-{v}"));
    }
    if starts_with_ci(v.as_bytes(), b"dev-") {
        return Ok(format!("dev-{}", &v[4..]));
    }
    // strip off build metadata: `^([^,\s+]++)\+[^\s]++$`
    {
        let b = v.as_bytes();
        let a = b
            .iter()
            .take_while(|&&c| c != b',' && c != b'+' && !is_space(c))
            .count();
        if a > 0 && b.get(a) == Some(&b'+') {
            let n = b[a + 1..].iter().take_while(|&&c| !is_space(c)).count();
            if n > 0 && at_end(&b[a + 1 + n..]) {
                v = &v[..a];
            }
        }
    }
    if let Some(n) = classical(v).or_else(|| date(v)) {
        return Ok(n);
    }
    // match dev branches: `(.*?)[.-]?dev$`i, then a numeric branch name
    let b = v.as_bytes();
    let body = b.strip_suffix(b"\n").unwrap_or(b);
    if body.len() >= 3 && body[body.len() - 3..].eq_ignore_ascii_case(b"dev") {
        let mut cut = body.len() - 3;
        if cut > 0 && matches!(body[cut - 1], b'.' | b'-') {
            cut -= 1;
        }
        if let Some(n) = numeric_branch(&v[..cut]) {
            return Ok(n);
        }
    }
    Err(err())
}

// ---------------------------------------------------------------------------
// PHP version_compare

/// `php_canonicalize_version`: `-`, `_`, `+` and other non-alphanumerics become
/// `.` (runs collapsed), and a `.` goes between digits and non-digits; the first
/// character is kept as it is.
fn canonicalize(v: &[u8]) -> Vec<u8> {
    let isdig = |c: u8| c.is_ascii_digit();
    let isndig = |c: u8| !c.is_ascii_digit() && c != b'.';
    let Some((&first, rest)) = v.split_first() else {
        return Vec::new();
    };
    let mut q = Vec::with_capacity(v.len() * 2);
    q.push(first);
    let mut lp = first;
    for &c in rest {
        let lq = q.last().copied().unwrap_or(0);
        if matches!(c, b'-' | b'_' | b'+') {
            if lq != b'.' {
                q.push(b'.');
            }
        } else if (isndig(lp) && isdig(c)) || (isdig(lp) && isndig(c)) {
            if lq != b'.' {
                q.push(b'.');
            }
            q.push(c);
        } else if !c.is_ascii_alphanumeric() {
            if lq != b'.' {
                q.push(b'.');
            }
        } else {
            q.push(c);
        }
        lp = c;
    }
    q
}

/// `compare_special_version_forms`: the first form each starts with, in
/// `dev`, `alpha`, `a`, `beta`, `b`, `RC`, `rc`, `#`, `pl`, `p` (anything else -1).
fn special_form(s: &[u8]) -> i32 {
    const FORMS: [(&[u8], i32); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(f, _)| s.starts_with(f))
        .map_or(-1, |(_, o)| *o)
}

/// C `strtol` on a digit run (saturating at `LONG_MAX`).
fn strtol(s: &[u8]) -> i64 {
    let d = &s[..digits_len(s)];
    std::str::from_utf8(d)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(i64::MAX)
}

/// The comparison loop of `php_version_compare`, on canonical forms.
fn compare_canonical(v1: &[u8], v2: &[u8]) -> Ordering {
    let digit_at = |v: &[u8], i: usize| v.get(i).is_some_and(u8::is_ascii_digit);
    let (mut p1, mut p2) = (0, 0);
    let (mut n1, mut n2) = (Some(0), Some(0));
    let mut compare = Ordering::Equal;
    while p1 < v1.len() && p2 < v2.len() && n1.is_some() && n2.is_some() {
        n1 = v1[p1..].iter().position(|&c| c == b'.').map(|k| p1 + k);
        n2 = v2[p2..].iter().position(|&c| c == b'.').map(|k| p2 + k);
        let s1 = &v1[p1..n1.unwrap_or(v1.len())];
        let s2 = &v2[p2..n2.unwrap_or(v2.len())];
        compare = match (digit_at(s1, 0), digit_at(s2, 0)) {
            (true, true) => strtol(s1).cmp(&strtol(s2)),
            (false, false) => special_form(s1).cmp(&special_form(s2)),
            (true, false) => special_form(b"#N#").cmp(&special_form(s2)),
            (false, true) => special_form(s1).cmp(&special_form(b"#N#")),
        };
        if compare != Ordering::Equal {
            break;
        }
        if let Some(n) = n1 {
            p1 = n + 1;
        }
        if let Some(n) = n2 {
            p2 = n + 1;
        }
    }
    if compare == Ordering::Equal {
        if n1.is_some() {
            compare = if digit_at(v1, p1) {
                Ordering::Greater
            } else {
                version_compare_bytes(&v1[p1.min(v1.len())..], b"#N#")
            };
        } else if n2.is_some() {
            compare = if digit_at(v2, p2) {
                Ordering::Less
            } else {
                version_compare_bytes(b"#N#", &v2[p2.min(v2.len())..])
            };
        }
    }
    compare
}

fn version_compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    // a C string ends at its first NUL
    let cut = |s: &[u8]| -> usize { s.iter().position(|&c| c == 0).unwrap_or(s.len()) };
    let (a, b) = (&a[..cut(a)], &b[..cut(b)]);
    if a.is_empty() || b.is_empty() {
        return (!a.is_empty()).cmp(&!b.is_empty());
    }
    let canon = |s: &[u8]| {
        if s[0] == b'#' {
            s.to_vec()
        } else {
            canonicalize(s)
        }
    };
    compare_canonical(&canon(a), &canon(b))
}

/// PHP's `version_compare($a, $b)` (PHP 8, `ext/standard/versioning.c`), on any
/// strings: what composer's `Comparator` applies to normalized versions.
pub fn php_version_compare(a: &str, b: &str) -> Ordering {
    version_compare_bytes(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(s).unwrap()
    }

    #[test]
    fn normalizes_like_composer() {
        // from composer/semver's VersionParserTest::successfulNormalizedVersions
        for (i, o) in [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("v20100102", "20100102"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010-01-02", "2010.01.02"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("dev-master", "dev-master"),
            ("master", "dev-master"),
            ("dev-trunk", "dev-trunk"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("dev-feature-foo", "dev-feature-foo"),
            ("DEV-FOOBAR", "dev-FOOBAR"),
            ("dev-feature/foo", "dev-feature/foo"),
            ("dev-master as 1.0.0", "dev-master"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-alpha.3.1+foo/-bar", "1.0.0.0-alpha3.1"),
            ("1.0.0-rc1@dev", "1.0.0.0-RC1"),
            ("1.2.3-p1", "1.2.3.0-patch1"),
            ("1.9.3.9", "1.9.3.9"),
            ("123456.1", "123456.1"),
        ] {
            assert_eq!(n(i), o, "{i}");
        }
        for bad in [
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0 .2",
            "dev",
            "1.0-1",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn orders_like_version_compare() {
        let v = |s| Version::parse(s).unwrap();
        let chain = [
            "dev-main",
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-beta1",
            "1.0.0-beta2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-p1",
            "1.0.1",
            "1.0.1.1",
            "1.x-dev",
            "v2.0",
        ];
        for w in chain.windows(2) {
            assert!(v(w[0]) < v(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(v("v1.2"), v("1.2.0.0"));
        assert_eq!(v("1.02"), v("1.2"));
        assert!(v("dev-a") != v("dev-b"));
        assert_eq!(php_version_compare("1.0rc1", "1.0"), Ordering::Less);
        assert_eq!(php_version_compare("1.0pl1", "1.0"), Ordering::Greater);
        assert_eq!(php_version_compare("", "1"), Ordering::Less);
        assert_eq!(php_version_compare("1.0", "1.0.0"), Ordering::Less);
    }
}
