//! Shared reading of `LABEL` instructions and the label-schema checks.
use super::{DfCtx, LabelType};
use crate::dockerfile::{Instruction, split_words};

/// The `key=value` pairs of a `LABEL` (the old `LABEL key value` form too).
pub fn pairs(ins: &Instruction) -> Vec<(String, String)> {
    let words = split_words(&ins.args);
    if words.len() >= 2 && !words[0].contains('=') {
        return vec![(words[0].clone(), words[1..].join(" "))];
    }
    let mut out = Vec::new();
    let mut it = words.into_iter().peekable();
    while let Some(w) = it.next() {
        match w.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            // `LABEL key ="v"` as hadolint's tests write it: the key, then `=value`.
            None => {
                let v = it
                    .next_if(|n| n.starts_with('='))
                    .map(|n| n[1..].to_string())
                    .unwrap_or_default();
                out.push((w, v));
            }
        }
    }
    out
}

/// Every `LABEL` pair of the file with its instruction (`ONBUILD LABEL` included).
pub fn all<'a>(cx: &'a DfCtx<'_>) -> Vec<(&'a Instruction, String, String)> {
    cx.effective()
        .filter(|(i, _, _)| i.is("LABEL"))
        .flat_map(|(i, _, _)| pairs(i).into_iter().map(move |(k, v)| (i, k, v)))
        .collect()
}

/// The pairs whose key the schema gives type `t`.
pub fn of_type<'a>(cx: &'a DfCtx<'_>, t: LabelType) -> Vec<(&'a Instruction, String, String)> {
    all(cx)
        .into_iter()
        .filter(|(_, k, _)| cx.config.label_schema.get(k) == Some(&t))
        .collect()
}

pub fn is_url(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !rest.starts_with('/')
}

pub fn is_rfc3339(v: &str) -> bool {
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || !matches!(b[10], b'T' | b't' | b' ')
        || !(digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19))
    {
        return false;
    }
    let mut rest = &v[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.chars().take_while(char::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &r[n..];
    }
    if rest.eq_ignore_ascii_case("z") {
        return true;
    }
    let t = rest.as_bytes();
    t.len() == 6
        && matches!(t[0], b'+' | b'-')
        && t[1..3].iter().all(u8::is_ascii_digit)
        && t[3] == b':'
        && t[4..6].iter().all(u8::is_ascii_digit)
}

/// SPDX licence identifiers (the common ones; `LicenseRef-…` and `A OR B` / `A AND B`
/// expressions of them too).
pub fn is_spdx(v: &str) -> bool {
    const IDS: &[&str] = &[
        "0BSD",
        "AGPL-3.0",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Apache-1.1",
        "Apache-2.0",
        "Artistic-2.0",
        "BSD-1-Clause",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "BSD-4-Clause",
        "BSL-1.0",
        "CC0-1.0",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "CDDL-1.0",
        "CDDL-1.1",
        "EPL-1.0",
        "EPL-2.0",
        "EUPL-1.1",
        "EUPL-1.2",
        "GPL-2.0",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "ISC",
        "LGPL-2.0",
        "LGPL-2.1",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "MIT",
        "MIT-0",
        "MPL-1.1",
        "MPL-2.0",
        "MS-PL",
        "NCSA",
        "OpenSSL",
        "PHP-3.01",
        "PostgreSQL",
        "Python-2.0",
        "Ruby",
        "Unlicense",
        "UPL-1.0",
        "Vim",
        "W3C",
        "WTFPL",
        "X11",
        "Zlib",
        "ZPL-2.1",
    ];
    let v = v.trim().trim_start_matches('(').trim_end_matches(')');
    !v.is_empty()
        && v.split(" OR ").flat_map(|p| p.split(" AND ")).all(|id| {
            let id = id.trim().trim_end_matches('+');
            id.starts_with("LicenseRef-") || IDS.iter().any(|k| k.eq_ignore_ascii_case(id))
        })
}

pub fn is_git_hash(v: &str) -> bool {
    (v.len() == 40 || (7..=12).contains(&v.len())) && v.chars().all(|c| c.is_ascii_hexdigit())
}

pub fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or(v);
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

pub fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
}
