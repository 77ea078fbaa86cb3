//! PEP 440 versions and specifiers, as Python `packaging` (24.x) implements them:
//! normalization (`1.0-ALPHA.1` = `1.0a1`, `1.0-1` = `1.0.post1`, leading `v`),
//! ordering (`1.0.dev0 < 1.0a1.dev0 < 1.0a1 < 1.0 < 1.0.post1.dev0 < 1.0.post1 < 1.0+local`),
//! and [`SpecifierSet`] (`~=`, `==1.*`, `!=`, `===`, with `packaging`'s prerelease rule).

use crate::util::{BigNum, all_digits};
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

/// Prerelease phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Alpha,
    Beta,
    Rc,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Alpha => "a",
            Phase::Beta => "b",
            Phase::Rc => "rc",
        }
    }
}

/// One segment of a local version label: numbers sort after strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LocalPart {
    Str(String),
    Num(BigNum),
}

impl Ord for LocalPart {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (LocalPart::Num(a), LocalPart::Num(b)) => a.cmp(b),
            (LocalPart::Num(_), LocalPart::Str(_)) => Ordering::Greater,
            (LocalPart::Str(_), LocalPart::Num(_)) => Ordering::Less,
            (LocalPart::Str(a), LocalPart::Str(b)) => a.cmp(b),
        }
    }
}
impl PartialOrd for LocalPart {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A PEP 440 version.
#[derive(Debug, Clone)]
pub struct Version {
    pub epoch: BigNum,
    pub release: Vec<BigNum>,
    pub pre: Option<(Phase, BigNum)>,
    pub post: Option<BigNum>,
    pub dev: Option<BigNum>,
    pub local: Option<Vec<LocalPart>>,
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_sep(&mut self) -> bool {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn digits(&mut self) -> Option<&str> {
        let st = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i > st {
            std::str::from_utf8(&self.s[st..self.i]).ok()
        } else {
            None
        }
    }
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let rest = &self.s[self.i..];
        let k = words.iter().position(|w| rest.starts_with(w.as_bytes()))?;
        self.i += words[k].len();
        Some(k)
    }
}

impl Version {
    /// Parse with `packaging.version.Version`'s grammar (case-insensitive, surrounding
    /// whitespace allowed).
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        Self::parse_inner(input)
            .ok_or_else(|| VersionError::new(Scheme::Pep440, input, "not a valid PEP 440 version"))
    }

    fn parse_inner(input: &str) -> Option<Version> {
        let lower = input.trim().to_ascii_lowercase();
        let mut p = P {
            s: lower.as_bytes(),
            i: 0,
        };
        p.eat(b'v');
        let first = p.digits()?.to_string();
        let (epoch, first) = if p.eat(b'!') {
            (BigNum::from_digits(&first), p.digits()?.to_string())
        } else {
            (BigNum::from_digits("0"), first)
        };
        let mut release = vec![BigNum::from_digits(&first)];
        loop {
            let save = p.i;
            if p.eat(b'.')
                && let Some(d) = p.digits()
            {
                release.push(BigNum::from_digits(d));
                continue;
            }
            p.i = save;
            break;
        }
        // pre
        let mut pre = None;
        {
            let save = p.i;
            p.eat_sep();
            const W: [&str; 8] = ["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"];
            if let Some(k) = p.word(&W) {
                let phase = match W[k] {
                    "alpha" | "a" => Phase::Alpha,
                    "beta" | "b" => Phase::Beta,
                    _ => Phase::Rc,
                };
                // the separator after the letter is taken even without a number
                // (`1.0a-` is `1.0a0`, as packaging's regex reads it)
                p.eat_sep();
                let n = p
                    .digits()
                    .map_or_else(|| BigNum::from_digits("0"), BigNum::from_digits);
                pre = Some((phase, n));
            } else {
                p.i = save;
            }
        }
        // post
        let mut post = None;
        {
            let save = p.i;
            if p.eat(b'-')
                && let Some(d) = p.digits()
            {
                post = Some(BigNum::from_digits(d));
            } else {
                p.i = save;
                p.eat_sep();
                if p.word(&["post", "rev", "r"]).is_some() {
                    p.eat_sep();
                    post = Some(
                        p.digits()
                            .map_or_else(|| BigNum::from_digits("0"), BigNum::from_digits),
                    );
                } else {
                    p.i = save;
                }
            }
        }
        // dev
        let mut dev = None;
        {
            let save = p.i;
            p.eat_sep();
            if p.word(&["dev"]).is_some() {
                p.eat_sep();
                dev = Some(
                    p.digits()
                        .map_or_else(|| BigNum::from_digits("0"), BigNum::from_digits),
                );
            } else {
                p.i = save;
            }
        }
        // local
        let mut local = None;
        if p.eat(b'+') {
            let rest = std::str::from_utf8(&p.s[p.i..]).ok()?;
            let mut parts = Vec::new();
            for seg in rest.split(['-', '_', '.']) {
                if seg.is_empty() || !seg.bytes().all(|c| c.is_ascii_alphanumeric()) {
                    return None;
                }
                parts.push(if all_digits(seg) {
                    LocalPart::Num(BigNum::from_digits(seg))
                } else {
                    LocalPart::Str(seg.to_string())
                });
            }
            p.i = p.s.len();
            local = Some(parts);
        }
        if p.i != p.s.len() {
            return None;
        }
        Some(Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
    pub fn is_postrelease(&self) -> bool {
        self.post.is_some()
    }
    /// The version without its local label.
    pub fn public(&self) -> Version {
        Version {
            local: None,
            ..self.clone()
        }
    }
    /// Epoch and release only.
    pub fn base(&self) -> Version {
        Version {
            epoch: self.epoch.clone(),
            release: self.release.clone(),
            pre: None,
            post: None,
            dev: None,
            local: None,
        }
    }

    fn release_trimmed(&self) -> &[BigNum] {
        let n = self
            .release
            .iter()
            .rposition(|r| !r.is_zero())
            .map_or(0, |k| k + 1);
        &self.release[..n]
    }
}

impl fmt::Display for Version {
    /// The normalized form (`str(Version(...))`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.epoch.is_zero() {
            write!(f, "{}!", self.epoch)?;
        }
        for (k, r) in self.release.iter().enumerate() {
            if k > 0 {
                f.write_str(".")?;
            }
            write!(f, "{r}")?;
        }
        if let Some((ph, n)) = &self.pre {
            write!(f, "{}{n}", ph.as_str())?;
        }
        if let Some(n) = &self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = &self.dev {
            write!(f, ".dev{n}")?;
        }
        if let Some(l) = &self.local {
            f.write_str("+")?;
            for (k, part) in l.iter().enumerate() {
                if k > 0 {
                    f.write_str(".")?;
                }
                match part {
                    LocalPart::Str(s) => f.write_str(s)?,
                    LocalPart::Num(n) => write!(f, "{n}")?,
                }
            }
        }
        Ok(())
    }
}

/// `-inf` < values < `+inf`, as `packaging._structures`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<T> {
    NegInf,
    Val(T),
    PosInf,
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        fn pre_key(v: &Version) -> Key<(Phase, &BigNum)> {
            match (&v.pre, &v.post, &v.dev) {
                (None, None, Some(_)) => Key::NegInf,
                (None, _, _) => Key::PosInf,
                (Some((ph, n)), _, _) => Key::Val((*ph, n)),
            }
        }
        fn post_key(v: &Version) -> Key<&BigNum> {
            v.post.as_ref().map_or(Key::NegInf, Key::Val)
        }
        fn dev_key(v: &Version) -> Key<&BigNum> {
            v.dev.as_ref().map_or(Key::PosInf, Key::Val)
        }
        fn local_key(v: &Version) -> Key<&[LocalPart]> {
            v.local.as_deref().map_or(Key::NegInf, Key::Val)
        }
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release_trimmed().cmp(other.release_trimmed()))
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            .then_with(|| post_key(self).cmp(&post_key(other)))
            .then_with(|| dev_key(self).cmp(&dev_key(other)))
            .then_with(|| local_key(self).cmp(&local_key(other)))
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
// specifiers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Compatible,
    Equal,
    NotEqual,
    LessEqual,
    GreaterEqual,
    Less,
    Greater,
    Arbitrary,
}

#[derive(Debug, Clone)]
enum Target {
    Version(Version),
    /// `==1.2.*`: epoch and release prefix.
    Prefix(Version),
    /// `===anything`.
    Raw(String),
}

/// One PEP 440 specifier (`>=1.0`, `==2.*`, `~=1.4.5`, ...).
#[derive(Debug, Clone)]
pub struct Specifier {
    op: Operator,
    target: Target,
}

impl Specifier {
    pub fn parse(input: &str) -> Result<Specifier, VersionError> {
        let err =
            |r: &str| VersionError::new(Scheme::Pep440, input, format!("invalid specifier: {r}"));
        let s = input.trim();
        const OPS: [(&str, Operator); 8] = [
            ("===", Operator::Arbitrary),
            ("~=", Operator::Compatible),
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<=", Operator::LessEqual),
            (">=", Operator::GreaterEqual),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ];
        let Some((opstr, op)) = OPS.iter().find(|(o, _)| s.starts_with(o)).copied() else {
            return Err(err("missing operator"));
        };
        let v = s[opstr.len()..].trim_start();
        if op == Operator::Arbitrary {
            if v.contains(|c: char| c.is_whitespace() || c == ';' || c == ')') {
                return Err(err("bad arbitrary version"));
            }
            return Ok(Specifier {
                op,
                target: Target::Raw(v.to_string()),
            });
        }
        if let Some(prefix) = v.strip_suffix(".*") {
            if !matches!(op, Operator::Equal | Operator::NotEqual) {
                return Err(err("wildcard only with == and !="));
            }
            let pv = Version::parse(prefix).map_err(|_| err("bad version"))?;
            if pv.pre.is_some() || pv.post.is_some() || pv.dev.is_some() || pv.local.is_some() {
                return Err(err("wildcard after a pre, post, dev or local segment"));
            }
            let lower = prefix.to_ascii_lowercase();
            if lower.contains(['-', '_'])
                || lower
                    .trim_start_matches('v')
                    .starts_with(|c: char| !c.is_ascii_digit())
            {
                return Err(err("bad version"));
            }
            return Ok(Specifier {
                op,
                target: Target::Prefix(pv),
            });
        }
        if v.ends_with(char::is_whitespace) || v.contains(char::is_whitespace) {
            return Err(err("bad version"));
        }
        let pv = Version::parse(v).map_err(|_| err("bad version"))?;
        if pv.local.is_some() && !matches!(op, Operator::Equal | Operator::NotEqual) {
            return Err(err("local version only with == and !="));
        }
        if op == Operator::Compatible && pv.release.len() < 2 {
            return Err(err("~= needs at least two release segments"));
        }
        Ok(Specifier {
            op,
            target: Target::Version(pv),
        })
    }

    /// `Specifier.prereleases` (packaging 24.2): whether the specifier names a
    /// prerelease with any operator but `!=`.
    pub fn allows_prereleases(&self) -> bool {
        match (&self.target, self.op) {
            (_, Operator::NotEqual) => false,
            (Target::Version(v), _) => v.is_prerelease(),
            (Target::Raw(r), _) => Version::parse(r).is_ok_and(|v| v.is_prerelease()),
            (Target::Prefix(_), _) => false,
        }
    }

    /// `Specifier.contains(v, prereleases=True)`: the operator alone.
    pub fn matches(&self, v: &Version) -> bool {
        match (&self.target, self.op) {
            (Target::Raw(r), _) => v.to_string().to_lowercase() == r.to_lowercase(),
            (Target::Prefix(p), Operator::Equal) => prefix_match(v, p),
            (Target::Prefix(p), _) => !prefix_match(v, p),
            (Target::Version(s), op) => match op {
                Operator::Compatible => {
                    let mut prefix = s.base();
                    prefix.release.pop();
                    v.public() >= *s && prefix_match(v, &prefix)
                }
                Operator::Equal => eq_spec(v, s),
                Operator::NotEqual => !eq_spec(v, s),
                Operator::LessEqual => v.public() <= *s,
                Operator::GreaterEqual => v.public() >= *s,
                Operator::Less => {
                    if v >= s {
                        return false;
                    }
                    !(!s.is_prerelease() && v.is_prerelease() && v.base() == s.base())
                }
                Operator::Greater => {
                    if v <= s {
                        return false;
                    }
                    if !s.is_postrelease() && v.is_postrelease() && v.base() == s.base() {
                        return false;
                    }
                    !(v.local.is_some() && v.base() == s.base())
                }
                Operator::Arbitrary => false,
            },
        }
    }
}

fn eq_spec(v: &Version, s: &Version) -> bool {
    if s.local.is_none() {
        v.public() == *s
    } else {
        v == s
    }
}

/// `==X.Y.*`: epoch equal and the release, zero-padded, starts with X.Y.
fn prefix_match(v: &Version, p: &Version) -> bool {
    if v.epoch != p.epoch {
        return false;
    }
    let zero = BigNum::from_digits("0");
    p.release
        .iter()
        .enumerate()
        .all(|(k, r)| v.release.get(k).unwrap_or(&zero) == r)
}

/// A comma-separated set of specifiers (`packaging.specifiers.SpecifierSet`).
#[derive(Debug, Clone)]
pub struct SpecifierSet {
    specs: Vec<Specifier>,
}

impl SpecifierSet {
    pub fn parse(input: &str) -> Result<SpecifierSet, VersionError> {
        let specs = input
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Specifier::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SpecifierSet { specs })
    }

    /// `SpecifierSet.contains(v)` with default prerelease handling: a prerelease only
    /// matches when some specifier names a prerelease.
    pub fn contains(&self, v: &Version) -> bool {
        let pre_ok = self.specs.iter().any(Specifier::allows_prereleases);
        self.contains_with(v, pre_ok)
    }

    /// `SpecifierSet.contains(v, prereleases=...)`.
    pub fn contains_with(&self, v: &Version, prereleases: bool) -> bool {
        if !prereleases && v.is_prerelease() {
            return false;
        }
        self.specs.iter().all(|s| s.matches(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_specs() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(v("1.0.dev0") < v("1.0a1"));
        assert!(v("1.0a1") < v("1.0"));
        assert!(v("1.0") < v("1.0.post1"));
        assert!(v("1.0") < v("1.0+local"));
        assert_eq!(v("1.0"), v("1.0.0"));
        assert_eq!(v("1.0-ALPHA.1").to_string(), "1.0a1");
        assert_eq!(v("1.0-1").to_string(), "1.0.post1");
        let s = |spec: &str, ver: &str| SpecifierSet::parse(spec).unwrap().contains(&v(ver));
        assert!(s("~=1.4.5", "1.4.9"));
        assert!(!s("~=1.4.5", "1.5.0"));
        assert!(s("==1.*", "1.9"));
        assert!(!s(">=1.0", "2.0a1"));
        assert!(s(">=1.0a1", "2.0a1"));
        assert!(!s("<2", "2.0a1"));
        assert!(Version::parse("1.0foo").is_err());
        assert!(SpecifierSet::parse(">=1.0+local").is_err());
    }
}
