//! Maven versions, ordered as `org.apache.maven.artifact.versioning.ComparableVersion`
//! (maven-artifact 3.8.7, the Debian 12 `maven` package, is the oracle): items split
//! at `.`, `-` and digit/letter transitions; a `-` (or a transition) opens a
//! sub-list, and so does a qualifier after a `.` (`1.0.0.X1 < 1.0.0-X2`); trailing
//! "null" items (`0`, `""`, `ga`, `final`, `release`, empty lists) are dropped;
//! qualifiers order `alpha < beta < milestone < rc = cr < snapshot < "" = ga =
//! final = release < sp < others (lexically)`; `a1`/`b1`/`m1` mean alpha/beta/
//! milestone 1.
//!
//! Maven itself accepts any string. Here an empty string, whitespace, control or
//! non-ASCII characters are errors.

use crate::util::BigNum;
use crate::{Scheme, VersionError};
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(BigNum),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(s: &str, followed_by_digit: bool) -> Item {
    let mut v = s;
    if followed_by_digit && s.len() == 1 {
        v = match s {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            _ => s,
        };
    }
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.to_string())
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::Int(BigNum::from_digits(buf))
    } else {
        string_item(buf, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_zero(),
            Item::Str(s) => comparable_qualifier(s) == RELEASE_INDEX,
            Item::List(l) => l.is_empty(),
        }
    }

    fn cmp_opt(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(n), None) => {
                if n.is_zero() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.cmp(b),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => comparable_qualifier(s).as_str().cmp(RELEASE_INDEX),
            (Item::Str(_), Some(Item::Int(_) | Item::List(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => {
                comparable_qualifier(a).cmp(&comparable_qualifier(b))
            }
            (Item::List(l), None) => l
                .iter()
                .map(|i| i.cmp_opt(None))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal),
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => cmp_lists(a, b),
        }
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for k in 0..n {
        let r = match (a.get(k), b.get(k)) {
            (None, None) => Ordering::Equal,
            (None, Some(r)) => r.cmp_opt(None).reverse(),
            (Some(l), r) => l.cmp_opt(r),
        };
        if r != Ordering::Equal {
            return r;
        }
    }
    Ordering::Equal
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Builder for the nested lists: a stack of open lists, innermost last.
struct Stack(Vec<Vec<Item>>);

impl Stack {
    fn push_item(&mut self, it: Item) {
        if let Some(top) = self.0.last_mut() {
            top.push(it);
        }
    }
    fn top_nonempty(&self) -> bool {
        self.0.last().is_some_and(|l| !l.is_empty())
    }
    fn open(&mut self) {
        self.0.push(Vec::new());
    }
    /// Close every list (normalizing each, innermost first) and return the root.
    fn finish(mut self) -> Vec<Item> {
        while self.0.len() > 1 {
            let mut l = self.0.pop().unwrap_or_default();
            normalize(&mut l);
            self.push_item(Item::List(l));
        }
        let mut root = self.0.pop().unwrap_or_default();
        normalize(&mut root);
        root
    }
}

/// A Maven version.
#[derive(Debug, Clone)]
pub struct Version {
    raw: String,
    items: Vec<Item>,
}

impl Version {
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        if input.is_empty() {
            return Err(VersionError::new(Scheme::Maven, input, "empty"));
        }
        if !input.bytes().all(|c| c.is_ascii_graphic()) {
            return Err(VersionError::new(
                Scheme::Maven,
                input,
                "whitespace, control or non-ASCII characters",
            ));
        }
        let v = input.to_ascii_lowercase();
        let b = v.as_bytes();
        // Java appends a new sub-list to the current list and continues inside it, so
        // a sub-list is always its parent's last item: attaching it when it is closed
        // (in `finish`, innermost first, normalizing as Java does) builds the same tree.
        let mut stack = Stack(vec![Vec::new()]);
        let mut is_digit = false;
        let mut start = 0usize;
        for (i, &c) in b.iter().enumerate() {
            if c == b'.' {
                if i == start {
                    stack.push_item(Item::Int(BigNum::from_digits("0")));
                } else {
                    stack.push_item(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
            } else if c == b'-' {
                if i == start {
                    stack.push_item(Item::Int(BigNum::from_digits("0")));
                } else {
                    stack.push_item(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
                stack.open();
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X
                    if stack.top_nonempty() {
                        stack.open();
                    }
                    stack.push_item(string_item(&v[start..i], true));
                    start = i;
                    stack.open();
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    stack.push_item(parse_item(true, &v[start..i]));
                    start = i;
                    stack.open();
                }
                is_digit = false;
            }
        }
        if b.len() > start {
            if !is_digit && stack.top_nonempty() {
                stack.open();
            }
            stack.push_item(parse_item(is_digit, &v[start..]));
        }
        Ok(Version {
            raw: input.to_string(),
            items: stack.finish(),
        })
    }

    /// The canonical form (`ComparableVersion.getCanonical()`).
    pub fn canonical(&self) -> String {
        fn list(items: &[Item], out: &mut String) {
            for (k, it) in items.iter().enumerate() {
                if k > 0 {
                    out.push(if matches!(it, Item::List(_)) {
                        '-'
                    } else {
                        '.'
                    });
                }
                match it {
                    Item::Int(n) => out.push_str(n.as_str()),
                    Item::Str(s) => out.push_str(s),
                    Item::List(l) => list(l, out),
                }
            }
        }
        let mut s = String::new();
        list(&self.items, &mut s);
        s
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
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
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.0-alpha1") < v("1.0-beta1"));
        assert!(v("1.0-SNAPSHOT") < v("1.0"));
        assert_eq!(v("1.0"), v("1.0.0-ga"));
        assert!(v("1.0-sp1") > v("1.0"));
        assert!(v("1.0.1") > v("1.0-1"));
        assert_eq!(v("1-1.foo-bar1baz-.1").canonical(), "1-1.foo-bar-1-baz-0.1");
    }
}
