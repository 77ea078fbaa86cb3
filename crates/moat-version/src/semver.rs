//! Semantic Versioning 2.0.0, ordered and validated as node-semver (`semver` 7)
//! does, plus node-semver's range syntax ([`Range`]): `^1.2`, `~1.2.3`, `1.x`,
//! `>=1 <2 || 3.x`, hyphen ranges `1.2 - 2.3.4`, and its prerelease rule.
//!
//! [`Version::parse`] is node-semver strict parsing (`semver.valid`): an optional
//! `v`, `MAJOR.MINOR.PATCH`, no leading zeros, `-prerelease`, `+build`, at most 256
//! characters, numbers up to 2^53-1. [`Version::parse_lenient`] also takes `=`,
//! `1` and `1.2` (missing parts are 0) and leading zeros; the [`crate::Scheme::Semver`]
//! comparison uses it, because advisories are not always strict.

use crate::util::cmp_digits;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// Largest safe JavaScript integer: node-semver rejects larger numbers.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
const MAX_LENGTH: usize = 256;

/// A prerelease identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ident {
    /// All digits (kept as text: compared as an unbounded number).
    Num(String),
    Alpha(String),
}

impl Ident {
    fn new(s: &str) -> Ident {
        if s.bytes().all(|c| c.is_ascii_digit()) {
            Ident::Num(s.to_string())
        } else {
            Ident::Alpha(s.to_string())
        }
    }
}

impl Ord for Ident {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Ident::Num(a), Ident::Num(b)) => cmp_digits(a, b),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(a), Ident::Alpha(b)) => a.cmp(b),
        }
    }
}
impl PartialOrd for Ident {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ident::Num(s) | Ident::Alpha(s) => f.write_str(s),
        }
    }
}

/// Compare prerelease lists: none is greater than any; otherwise identifier by
/// identifier, a shorter prefix is smaller.
pub fn cmp_pre(a: &[Ident], b: &[Ident]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

/// A semantic version. Build metadata is kept but ignored by the ordering.
#[derive(Debug, Clone)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<Ident>,
    pub build: Vec<String>,
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

/// Parse `-pre` and `+build` tails. `strict` rejects leading zeros in numeric
/// prerelease identifiers.
pub(crate) fn parse_tail(
    tail: &str,
    strict: bool,
) -> Result<(Vec<Ident>, Vec<String>), &'static str> {
    let (pre_s, build_s) = match tail.split_once('+') {
        Some((p, b)) => (p, Some(b)),
        None => (tail, None),
    };
    let mut pre = Vec::new();
    if !pre_s.is_empty() {
        let Some(p) = pre_s.strip_prefix('-') else {
            return Err("unexpected characters after the version numbers");
        };
        for id in p.split('.') {
            if id.is_empty() || !id.bytes().all(is_ident_char) {
                return Err("invalid prerelease identifier");
            }
            if strict
                && id.len() > 1
                && id.starts_with('0')
                && id.bytes().all(|c| c.is_ascii_digit())
            {
                return Err("numeric prerelease identifier has a leading zero");
            }
            pre.push(Ident::new(id));
        }
    }
    let mut build = Vec::new();
    if let Some(b) = build_s {
        for id in b.split('.') {
            if id.is_empty() || !id.bytes().all(is_ident_char) {
                return Err("invalid build identifier");
            }
            build.push(id.to_string());
        }
    }
    Ok((pre, build))
}

pub(crate) fn parse_num(s: &str, strict: bool) -> Result<u64, &'static str> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err("version part is not a number");
    }
    if strict && s.len() > 1 && s.starts_with('0') {
        return Err("version part has a leading zero");
    }
    match s.parse::<u64>() {
        Ok(n) if n <= MAX_SAFE_INTEGER => Ok(n),
        _ => Err("version part is too large"),
    }
}

/// Split `1.2.3-pre+b` into the numeric core and the tail starting at `-`/`+`.
fn split_core(s: &str) -> (&str, &str) {
    let end = s.find(['-', '+']).unwrap_or(s.len());
    s.split_at(end)
}

impl Version {
    /// node-semver strict parsing (`semver.valid(v) !== null`).
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        Self::parse_inner(input, true).map_err(|r| VersionError::new(Scheme::Semver, input, r))
    }

    /// Lenient: also `=1.2.3`, `1`, `1.2` and leading zeros.
    pub fn parse_lenient(input: &str) -> Result<Version, VersionError> {
        Self::parse_inner(input, false).map_err(|r| VersionError::new(Scheme::Semver, input, r))
    }

    fn parse_inner(input: &str, strict: bool) -> Result<Version, &'static str> {
        let s = input.trim();
        if s.len() > MAX_LENGTH {
            return Err("longer than 256 characters");
        }
        let s = if strict {
            s.strip_prefix('v').unwrap_or(s)
        } else {
            s.trim_start_matches(['v', '='])
        };
        if s.is_empty() {
            return Err("empty");
        }
        let (core, tail) = split_core(s);
        let mut nums = [0u64; 3];
        let mut count = 0;
        for p in core.split('.') {
            if count == 3 {
                return Err("expected MAJOR.MINOR.PATCH");
            }
            nums[count] = parse_num(p, strict)?;
            count += 1;
        }
        if strict && count != 3 {
            return Err("expected MAJOR.MINOR.PATCH");
        }
        if !strict && count < 3 && !tail.is_empty() && tail.starts_with('-') {
            // `1.2-beta` is too ambiguous to accept even leniently
            return Err("prerelease on a partial version");
        }
        let (pre, build) = parse_tail(tail, strict)?;
        Ok(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            build,
        })
    }

    pub fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
            build: Vec::new(),
        }
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
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
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
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

// ---------------------------------------------------------------------------
// node-semver ranges

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// One comparator; `None` version = matches anything (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    v: Option<Version>,
}

impl Comparator {
    fn any() -> Self {
        Comparator {
            op: Op::Eq,
            v: None,
        }
    }
    fn test(&self, v: &Version) -> bool {
        let Some(c) = &self.v else { return true };
        let o = v.cmp(c);
        match self.op {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Eq => o == Ordering::Equal,
        }
    }
    fn is_null_set(&self) -> bool {
        // `<0.0.0-0`
        self.op == Op::Lt
            && self.v.as_ref().is_some_and(|v| {
                v.major == 0 && v.minor == 0 && v.patch == 0 && v.pre == [Ident::Num("0".into())]
            })
    }
}

/// A node-semver range (`semver.satisfies`), without `includePrerelease`/`loose`.
#[derive(Debug, Clone)]
pub struct Range {
    set: Vec<Vec<Comparator>>,
}

/// A partial version in a range: `1`, `1.x`, `1.2.*`, `1.2.3-pre`.
#[derive(Debug, Clone)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Vec<Ident>,
}

impl Partial {
    fn parse(s: &str) -> Result<Partial, &'static str> {
        let s = s.trim_start_matches(['v', '=']);
        let (core, tail) = split_core(s);
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 {
            return Err("too many version parts");
        }
        let mut vals = [None; 3];
        let mut seen_x = false;
        for (k, p) in parts.iter().enumerate() {
            if matches!(*p, "x" | "X" | "*") {
                seen_x = true;
                continue;
            }
            let n = parse_num(p, true)?;
            // after an x, node-semver ignores the numbers (1.x.3 == 1.x)
            if !seen_x {
                vals[k] = Some(n);
            }
        }
        if !tail.is_empty() && parts.len() != 3 {
            return Err("prerelease or build on a partial version");
        }
        let (pre, _) = parse_tail(tail, true)?;
        Ok(Partial {
            major: vals[0],
            minor: vals[1],
            patch: vals[2],
            pre,
        })
    }
    fn full(&self) -> Option<Version> {
        Some(Version {
            major: self.major?,
            minor: self.minor?,
            patch: self.patch?,
            pre: self.pre.clone(),
            build: Vec::new(),
        })
    }
}

fn cmpv(op: Op, major: u64, minor: u64, patch: u64, pre0: bool) -> Comparator {
    let mut v = Version::new(major, minor, patch);
    if pre0 {
        v.pre = vec![Ident::Num("0".into())];
    }
    Comparator { op, v: Some(v) }
}

fn with_pre(op: Op, p: &Partial) -> Option<Comparator> {
    Some(Comparator {
        op,
        v: Some(p.full()?),
    })
}

/// Desugar one token (`^1.2`, `~1`, `>=1.x`, `1.2.3`, `*`) into comparators.
/// node-semver's `parseComparator`: desugar `^`, `~` and X-ranges; a token none of them matches loses its first `(<|>)?=?*` (node's
/// `replaceStars`) and must then be a plain comparator.
fn desugar(tok: &str) -> Result<Vec<Comparator>, &'static str> {
    match desugar_inner(tok) {
        Ok(c) => Ok(c),
        Err(e) => match remove_first_star(tok) {
            Some(rest) if rest.is_empty() => Ok(vec![Comparator::any()]),
            Some(rest) => plain_comparator(&rest),
            None => Err(e),
        },
    }
}

/// Remove the leftmost match of `(<|>)?=?\s*\*`.
fn remove_first_star(tok: &str) -> Option<String> {
    let b = tok.as_bytes();
    for i in 0..b.len() {
        for take_gtlt in [true, false] {
            for take_eq in [true, false] {
                let mut j = i;
                if take_gtlt {
                    if matches!(b.get(j), Some(b'<' | b'>')) {
                        j += 1;
                    } else {
                        continue;
                    }
                }
                if take_eq {
                    if b.get(j) == Some(&b'=') {
                        j += 1;
                    } else {
                        continue;
                    }
                }
                while b.get(j).is_some_and(u8::is_ascii_whitespace) {
                    j += 1;
                }
                if b.get(j) == Some(&b'*') {
                    return Some(format!("{}{}", &tok[..i], &tok[j + 1..]).trim().to_string());
                }
            }
        }
    }
    None
}

/// node-semver's COMPARATOR: `(<|>)?=?` then `v?MAJOR.MINOR.PATCH[-pre][+build]`.
fn plain_comparator(t: &str) -> Result<Vec<Comparator>, &'static str> {
    let (op, rest) = if let Some(r) = t.strip_prefix(">=") {
        (Op::Ge, r)
    } else if let Some(r) = t.strip_prefix("<=") {
        (Op::Le, r)
    } else if let Some(r) = t.strip_prefix('>') {
        (Op::Gt, r)
    } else if let Some(r) = t.strip_prefix('<') {
        (Op::Lt, r)
    } else if let Some(r) = t.strip_prefix('=') {
        (Op::Eq, r)
    } else {
        (Op::Eq, t)
    };
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    let (core, tail) = split_core(rest);
    let mut nums = [0u64; 3];
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 {
        return Err("invalid comparator");
    }
    for (k, p) in parts.iter().enumerate() {
        nums[k] = parse_num(p, true)?;
    }
    let (pre, _) = parse_tail(tail, true)?;
    let mut v = Version::new(nums[0], nums[1], nums[2]);
    v.pre = pre;
    Ok(vec![Comparator { op, v: Some(v) }])
}

fn desugar_inner(tok: &str) -> Result<Vec<Comparator>, &'static str> {
    let (op, rest) = if let Some(r) = tok.strip_prefix("~>") {
        ("~", r)
    } else if let Some(r) = tok.strip_prefix('~') {
        ("~", r)
    } else if let Some(r) = tok.strip_prefix('^') {
        ("^", r)
    } else if let Some(r) = tok.strip_prefix(">=") {
        (">=", r)
    } else if let Some(r) = tok.strip_prefix("<=") {
        ("<=", r)
    } else if let Some(r) = tok.strip_prefix('>') {
        (">", r)
    } else if let Some(r) = tok.strip_prefix('<') {
        ("<", r)
    } else if let Some(r) = tok.strip_prefix('=') {
        ("=", r)
    } else {
        ("", tok)
    };
    let p = Partial::parse(rest)?;
    let succ = |n: u64| n.checked_add(1).ok_or("version part is too large");
    let (xm_major, xm_minor, xm_patch) = (p.major.is_none(), p.minor.is_none(), p.patch.is_none());
    Ok(match op {
        "~" => match (p.major, p.minor, p.patch) {
            (None, _, _) => vec![Comparator::any()],
            (Some(m), None, _) => vec![
                cmpv(Op::Ge, m, 0, 0, false),
                cmpv(Op::Lt, succ(m)?, 0, 0, true),
            ],
            (Some(m), Some(n), None) => {
                vec![
                    cmpv(Op::Ge, m, n, 0, false),
                    cmpv(Op::Lt, m, succ(n)?, 0, true),
                ]
            }
            (Some(m), Some(n), Some(_)) => vec![
                with_pre(Op::Ge, &p).ok_or("bad version")?,
                cmpv(Op::Lt, m, succ(n)?, 0, true),
            ],
        },
        "^" => match (p.major, p.minor, p.patch) {
            (None, _, _) => vec![Comparator::any()],
            (Some(m), None, _) => vec![
                cmpv(Op::Ge, m, 0, 0, false),
                cmpv(Op::Lt, succ(m)?, 0, 0, true),
            ],
            (Some(m), Some(n), None) => {
                let upper = if m == 0 {
                    cmpv(Op::Lt, 0, succ(n)?, 0, true)
                } else {
                    cmpv(Op::Lt, succ(m)?, 0, 0, true)
                };
                vec![cmpv(Op::Ge, m, n, 0, false), upper]
            }
            (Some(m), Some(n), Some(q)) => {
                let upper = if m == 0 {
                    if n == 0 {
                        cmpv(Op::Lt, 0, 0, succ(q)?, true)
                    } else {
                        cmpv(Op::Lt, 0, succ(n)?, 0, true)
                    }
                } else {
                    cmpv(Op::Lt, succ(m)?, 0, 0, true)
                };
                vec![with_pre(Op::Ge, &p).ok_or("bad version")?, upper]
            }
        },
        _ => {
            let any_x = xm_patch;
            let mut gtlt = op;
            if gtlt == "=" && any_x {
                gtlt = "";
            }
            if xm_major {
                if gtlt == ">" || gtlt == "<" {
                    vec![cmpv(Op::Lt, 0, 0, 0, true)]
                } else {
                    vec![Comparator::any()]
                }
            } else if !gtlt.is_empty() && any_x {
                let mut mj = p.major.unwrap_or(0);
                let mut mn = p.minor.unwrap_or(0);
                let mut o = match gtlt {
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    _ => Op::Eq,
                };
                if o == Op::Gt {
                    o = Op::Ge;
                    if xm_minor {
                        mj = succ(mj)?;
                        mn = 0;
                    } else {
                        mn = succ(mn)?;
                    }
                } else if o == Op::Le {
                    o = Op::Lt;
                    if xm_minor {
                        mj = succ(mj)?;
                    } else {
                        mn = succ(mn)?;
                    }
                }
                vec![cmpv(o, mj, mn, 0, o == Op::Lt)]
            } else if xm_minor {
                let m = p.major.unwrap_or(0);
                vec![
                    cmpv(Op::Ge, m, 0, 0, false),
                    cmpv(Op::Lt, succ(m)?, 0, 0, true),
                ]
            } else if xm_patch {
                let m = p.major.unwrap_or(0);
                let n = p.minor.unwrap_or(0);
                vec![
                    cmpv(Op::Ge, m, n, 0, false),
                    cmpv(Op::Lt, m, succ(n)?, 0, true),
                ]
            } else {
                let o = match gtlt {
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    _ => Op::Eq,
                };
                // a full version after an operator is node-semver's strict FULLPLAIN:
                // at most one `v`, no further `=` (`==1.2.3` is invalid)
                let bare = rest.trim_start();
                let bare = bare.strip_prefix('v').unwrap_or(bare);
                if bare.starts_with(['=', 'v']) {
                    return Err("invalid comparator");
                }
                let c = with_pre(o, &p).ok_or("bad version")?;
                // `>=0.0.0` is `*`
                if o == Op::Ge
                    && c.v
                        .as_ref()
                        .is_some_and(|v| *v == Version::new(0, 0, 0) && v.pre.is_empty())
                {
                    vec![Comparator::any()]
                } else {
                    vec![c]
                }
            }
        }
    })
}

fn hyphen(from: &str, to: &str) -> Result<Vec<Comparator>, &'static str> {
    let f = Partial::parse(from)?;
    let t = Partial::parse(to)?;
    // node pastes a full version verbatim after `>=`/`<=`: only one `v` may precede it
    let verbatim_ok = |raw: &str, p: &Partial| {
        p.patch.is_none() || {
            let r = raw.strip_prefix('v').unwrap_or(raw);
            !r.starts_with(['v', '='])
        }
    };
    if !verbatim_ok(from, &f) || !verbatim_ok(to, &t) {
        return Err("invalid comparator");
    }
    let mut out = Vec::new();
    match (f.major, f.minor, f.patch) {
        (None, _, _) => {}
        (Some(m), None, _) => out.push(cmpv(Op::Ge, m, 0, 0, false)),
        (Some(m), Some(n), None) => out.push(cmpv(Op::Ge, m, n, 0, false)),
        _ => out.push(with_pre(Op::Ge, &f).ok_or("bad version")?),
    }
    let succ = |n: u64| n.checked_add(1).ok_or("version part is too large");
    match (t.major, t.minor, t.patch) {
        (None, _, _) => {}
        (Some(m), None, _) => out.push(cmpv(Op::Lt, succ(m)?, 0, 0, true)),
        (Some(m), Some(n), None) => out.push(cmpv(Op::Lt, m, succ(n)?, 0, true)),
        _ => out.push(with_pre(Op::Le, &t).ok_or("bad version")?),
    }
    // `>=0.0.0` is `*`
    out.retain(|c| {
        !(c.op == Op::Ge
            && c.v
                .as_ref()
                .is_some_and(|v| *v == Version::new(0, 0, 0) && v.pre.is_empty()))
    });
    if out.is_empty() {
        out.push(Comparator::any());
    }
    Ok(out)
}

fn is_op(tok: &str) -> bool {
    matches!(tok, "<" | "<=" | ">" | ">=" | "=" | "~" | "~>" | "^")
}

/// `(\s*)((?:<|>)?=?)\s*(XRANGEPLAIN)` -> `$1$2$3`: an operator absorbs the
/// whitespace before the version that follows it.
fn comparator_trim(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let st = i;
        let mut j = i;
        if matches!(b[j], b'<' | b'>') {
            j += 1;
        }
        if b.get(j) == Some(&b'=') {
            j += 1;
        }
        if j > st {
            // the operator drops the whitespace after it when a version follows; the
            // version's own `[v=\s]*` prefix is kept as it is
            let mut w = j;
            while b.get(w).is_some_and(u8::is_ascii_whitespace) {
                w += 1;
            }
            let mut k = w;
            while b
                .get(k)
                .is_some_and(|c| c.is_ascii_whitespace() || *c == b'v' || *c == b'=')
            {
                k += 1;
            }
            if b.get(k)
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'x' | b'X' | b'*'))
            {
                out.push_str(&s[st..j]);
                out.push_str(&s[w..k]);
                i = k;
                continue;
            }
        }
        if j > st {
            out.push_str(&s[st..j]);
            i = j;
        } else {
            let ch = s[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&s[i..i + ch]);
            i += ch;
        }
    }
    out
}

/// `(\s*)~>?\s+` -> `$1~`.
fn tilde_trim(s: &str) -> String {
    lone_trim(
        s,
        |rest| {
            if rest.starts_with("~>") {
                Some(2)
            } else if rest.starts_with('~') {
                Some(1)
            } else {
                None
            }
        },
        "~",
    )
}

/// `(\s*)\^\s+` -> `$1^`.
fn caret_trim(s: &str) -> String {
    lone_trim(s, |rest| rest.starts_with('^').then_some(1), "^")
}

fn lone_trim(s: &str, op_len: impl Fn(&str) -> Option<usize>, repl: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(n) = op_len(rest) {
            let ws = rest[n..].len() - rest[n..].trim_start().len();
            if ws > 0 {
                out.push_str(repl);
                i += n + ws;
                continue;
            }
        }
        let ch = rest.chars().next().map_or(1, char::len_utf8);
        out.push_str(&rest[..ch]);
        i += ch;
    }
    out
}

fn parse_set(s: &str) -> Result<Vec<Comparator>, &'static str> {
    let toks: Vec<&str> = s.split_whitespace().collect();
    if toks.len() == 3 && toks[1] == "-" && !is_op(toks[0]) && !is_op(toks[2]) {
        let ok = |t: &str| !t.starts_with(['<', '>', '~', '^']);
        if ok(toks[0]) && ok(toks[2]) {
            return hyphen(toks[0], toks[2]);
        }
    }
    // node's COMPARATORTRIM, TILDETRIM and CARETTRIM, then split on whitespace
    let trimmed = caret_trim(&tilde_trim(&comparator_trim(s)));
    let merged: Vec<&str> = trimmed.split_whitespace().collect();
    let mut comps = Vec::new();
    for t in merged {
        comps.extend(desugar(t)?);
    }
    if comps.is_empty() {
        comps.push(Comparator::any());
    }
    if let Some(null) = comps.iter().find(|c| c.is_null_set()) {
        return Ok(vec![null.clone()]);
    }
    let mut dedup: Vec<Comparator> = Vec::new();
    for c in comps {
        if !dedup.contains(&c) {
            dedup.push(c);
        }
    }
    if dedup.len() > 1 {
        dedup.retain(|c| c.v.is_some());
    }
    Ok(dedup)
}

impl Range {
    /// Parse a node-semver range.
    pub fn parse(input: &str) -> Result<Range, VersionError> {
        let err =
            |r: &str| VersionError::new(Scheme::Semver, input, format!("invalid npm range: {r}"));
        if input.len() > MAX_LENGTH {
            return Err(err("longer than 256 characters"));
        }
        let mut set = Vec::new();
        for part in input.trim().split("||") {
            set.push(parse_set(part.trim()).map_err(err)?);
        }
        if set.len() > 1 {
            let first = set[0].clone();
            set.retain(|c| !c[0].is_null_set());
            if set.is_empty() {
                set = vec![first];
            } else if let Some(any) = set.iter().find(|c| c.len() == 1 && c[0].v.is_none()) {
                set = vec![any.clone()];
            }
        }
        Ok(Range { set })
    }

    /// `semver.satisfies(v, range)` for a parsed version.
    pub fn satisfies(&self, v: &Version) -> bool {
        self.set.iter().any(|set| test_set(set, v))
    }
}

fn test_set(set: &[Comparator], v: &Version) -> bool {
    if !set.iter().all(|c| c.test(v)) {
        return false;
    }
    if v.is_prerelease() {
        return set.iter().any(|c| {
            c.v.as_ref().is_some_and(|a| {
                a.is_prerelease() && a.major == v.major && a.minor == v.minor && a.patch == v.patch
            })
        });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sat(v: &str, r: &str) -> bool {
        Range::parse(r)
            .unwrap()
            .satisfies(&Version::parse(v).unwrap())
    }

    #[test]
    fn ranges() {
        assert!(sat("1.2.3", "^1.2"));
        assert!(!sat("2.0.0", "^1.2"));
        assert!(sat("0.2.5", "^0.2.3"));
        assert!(!sat("0.3.0", "^0.2.3"));
        assert!(sat("1.2.9", "~1.2.3"));
        assert!(sat("3.4.5", ">=1 <2 || 3.x"));
        assert!(sat("2.3.4", "1.2 - 2.3.4"));
        assert!(!sat("2.3.5", "1.2 - 2.3.4"));
        assert!(!sat("1.3.0-beta", "^1.2"));
        assert!(sat("1.2.4-beta.2", ">=1.2.4-beta.1"));
        assert!(sat("1.0.0", ">= 1.0.0"));
        assert!(Range::parse("foo").is_err());
    }

    #[test]
    fn order() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.beta") < v("1.0.0-beta"));
        assert!(v("1.0.0-beta.11") > v("1.0.0-beta.2"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert!(Version::parse("01.2.3").is_err());
        assert!(Version::parse("1.2").is_err());
        assert!(Version::parse_lenient("1.2").is_ok());
    }
}
