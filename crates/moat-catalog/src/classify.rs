//! Binary classifiers: software installed without package metadata (copied in, built
//! from source, or an official image's `/usr/local/bin/...`) named from the version
//! string its own binary carries, as syft's binary cataloger does.
//!
//! A rule selects files by name, checks they are ELF, then scans their bytes in
//! bounded chunks for its evidence: a version pattern (and, for some, a marker that
//! says what the binary is). No evidence, no package: a file named `nginx` without
//! `nginx/1.2.3` inside is not reported. Packages are `pkg:generic/NAME@VERSION` with
//! the CPEs NVD uses, `found_by: binary-classifier`. A classified file that an OS
//! package owns is dropped like every language package the OS package accounts for.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, PurlParts};
use regex::bytes::Regex;
use std::io::Read;
use std::sync::OnceLock;

pub struct Classifiers;

/// Bytes scanned per read; a match may straddle two chunks, so each chunk starts with
/// the last [`OVERLAP`] bytes of the previous one.
const CHUNK: usize = 1 << 20;
const OVERLAP: usize = 4096;

/// One classifier.
pub struct Rule {
    /// The file names it looks at (globs on the name).
    pub names: &'static [&'static str],
    /// The package it names.
    pub package: &'static str,
    /// A literal the binary must hold besides the version (what says it is this program).
    pub marker: Option<&'static [u8]>,
    /// The evidence: a byte pattern whose group 1 is the version.
    pub pattern: &'static str,
    /// When set, the file name's `major.minor` (group 1 of this pattern on the name)
    /// must begin the version found inside (`python3.11` holds `3.11.2`).
    pub name_version: Option<&'static str>,
    /// `vendor:product` of each CPE.
    pub cpes: &'static [&'static str],
}

/// The classifiers, in the order they are tried on a file.
pub const RULES: &[Rule] = &[
    Rule {
        names: &["python[0-9]*", "libpython[0-9]*.so*"],
        package: "python",
        marker: None,
        pattern: r"\x00([0-9]+\.[0-9]+\.[0-9]+(?:(?:a|b|rc)[0-9]+)?\+?)\x00",
        name_version: Some(r"python([0-9]+\.[0-9]+)"),
        cpes: &["python_software_foundation:python", "python:python"],
    },
    Rule {
        names: &["node", "nodejs", "libnode.so*"],
        package: "node",
        marker: None,
        pattern: r"node\.js/v([0-9]+\.[0-9]+\.[0-9]+)",
        name_version: None,
        cpes: &["nodejs:node.js"],
    },
    Rule {
        names: &["redis-server", "redis-check-rdb", "redis-check-aof"],
        package: "redis",
        marker: Some(b"redis_version:"),
        // The build's version, optional git SHA and build id run together:
        // `7.0.15` `1790282056000000000` (Debian) or `7.2.4` `abcdef123456-` `...`.
        pattern: r"([0-9]+\.[0-9]+\.[0-9]{1,2})(?:[0-9a-f]{12}-)?[0-9]{19}\x00",
        name_version: None,
        cpes: &["redis:redis"],
    },
    Rule {
        names: &["nginx"],
        package: "nginx",
        marker: None,
        pattern: r"nginx/([0-9]+\.[0-9]+\.[0-9]+)",
        name_version: None,
        cpes: &["f5:nginx"],
    },
    Rule {
        names: &["httpd", "apache2"],
        package: "httpd",
        marker: None,
        pattern: r"Apache/([0-9]+\.[0-9]+\.[0-9]+)",
        name_version: None,
        cpes: &["apache:http_server"],
    },
    Rule {
        names: &["postgres"],
        package: "postgresql",
        marker: None,
        pattern: r"\x00PostgreSQL ([0-9]+(?:\.[0-9]+){0,2}(?:(?:alpha|beta|rc)[0-9]+)?)[ \x00]",
        name_version: None,
        cpes: &["postgresql:postgresql"],
    },
    Rule {
        names: &["openssl", "libcrypto.so*"],
        package: "openssl",
        marker: None,
        // `OpenSSL 3.0.11 19 Sep 2023`, `OpenSSL 1.1.1w  11 Sep 2023`.
        pattern: r"OpenSSL ([0-9]+\.[0-9]+\.[0-9]+[a-z]?) +[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}",
        name_version: None,
        cpes: &["openssl:openssl"],
    },
    Rule {
        names: &["curl"],
        package: "curl",
        marker: None,
        pattern: r"\x00curl ([0-9]+\.[0-9]+\.[0-9]+)(?:-DEV)? \(",
        name_version: None,
        cpes: &["haxx:curl"],
    },
    Rule {
        names: &["libcurl.so*", "libcurl-gnutls.so*"],
        package: "libcurl",
        marker: None,
        pattern: r"libcurl/([0-9]+\.[0-9]+\.[0-9]+)",
        name_version: None,
        cpes: &["haxx:libcurl"],
    },
    Rule {
        names: &["busybox"],
        package: "busybox",
        marker: None,
        pattern: r"BusyBox v([0-9]+\.[0-9]+\.[0-9]+)",
        name_version: None,
        cpes: &["busybox:busybox"],
    },
    Rule {
        names: &["java"],
        package: "java",
        marker: None,
        // `\0openjdk\0java\00.0\017.0.9+9-Debian-1deb12u1\0` (the launcher's own strings).
        pattern: r"\x00openjdk\x00java\x00[0-9.]+\x00([0-9][^\x00]{0,80})\x00",
        name_version: None,
        cpes: &["oracle:openjdk"],
    },
    Rule {
        names: &["memcached"],
        package: "memcached",
        marker: None,
        pattern: r"\x00memcached ([0-9]+\.[0-9]+\.[0-9]+)\x00",
        name_version: None,
        cpes: &["memcached:memcached"],
    },
];

/// Globs of every rule's names (under any directory).
const GLOBS: &[&str] = &[
    "**/python[0-9]*",
    "**/libpython[0-9]*.so*",
    "**/node",
    "**/nodejs",
    "**/libnode.so*",
    "**/redis-server",
    "**/redis-check-rdb",
    "**/redis-check-aof",
    "**/nginx",
    "**/httpd",
    "**/apache2",
    "**/postgres",
    "**/openssl",
    "**/libcrypto.so*",
    "**/curl",
    "**/libcurl.so*",
    "**/libcurl-gnutls.so*",
    "**/busybox",
    "**/java",
    "**/memcached",
];

/// A rule's compiled version pattern and, when it has one, its name-version pattern
/// (`None` when a pattern does not compile: the rule is skipped).
type Compiled = Option<(Regex, Option<Regex>)>;

fn compiled() -> &'static [Compiled] {
    static C: OnceLock<Vec<Compiled>> = OnceLock::new();
    C.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                let p = Regex::new(r.pattern).ok()?;
                let n = match r.name_version {
                    Some(n) => Some(Regex::new(n).ok()?),
                    None => None,
                };
                Some((p, n))
            })
            .collect()
    })
}

/// Each rule's name globs, compiled once (a glob that does not compile matches nothing).
fn name_sets() -> &'static [globset::GlobSet] {
    static S: OnceLock<Vec<globset::GlobSet>> = OnceLock::new();
    S.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                let mut b = globset::GlobSetBuilder::new();
                for n in r.names {
                    if let Ok(g) = globset::Glob::new(n) {
                        b.add(g);
                    }
                }
                b.build().unwrap_or_else(|_| globset::GlobSet::empty())
            })
            .collect()
    })
}

/// Whether a file name matches one of a rule's name globs.
#[cfg(test)]
fn name_matches(pattern: &str, name: &str) -> bool {
    globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(name))
}

/// The first version `re` finds in `data` (`want`: the prefix it must start with).
fn find_version(re: &Regex, data: &[u8], want: Option<&str>) -> Option<String> {
    for c in re.captures_iter(data) {
        let Some(v) = c
            .get(1)
            .and_then(|m| std::str::from_utf8(m.as_bytes()).ok())
        else {
            continue;
        };
        match want {
            Some(w) if !(v.starts_with(w) && v[w.len()..].starts_with('.')) => continue,
            _ => return Some(v.to_string()),
        }
    }
    None
}

/// Classify the bytes `read` gives (at most `limit` of them) as the rules of `names`
/// allow: `(rule index, version)` of the first rule whose evidence is complete.
pub fn classify(
    file_name: &str,
    mut read: impl Read,
    limit: u64,
) -> std::io::Result<(u64, Option<(usize, String)>)> {
    let rules: Vec<usize> = RULES
        .iter()
        .enumerate()
        .filter(|(i, _)| name_sets().get(*i).is_some_and(|g| g.is_match(file_name)))
        .map(|(i, _)| i)
        .collect();
    let comp = compiled();
    // The file name's version, for rules that need it; a rule whose name version is
    // missing cannot match.
    let want: Vec<Option<Option<String>>> = rules
        .iter()
        .map(|&i| match comp.get(i).and_then(Option::as_ref) {
            Some((_, Some(n))) => Some(
                n.captures(file_name.as_bytes())
                    .and_then(|c| c.get(1))
                    .and_then(|m| std::str::from_utf8(m.as_bytes()).ok())
                    .map(str::to_string),
            ),
            _ => None,
        })
        .collect();
    let mut marker = vec![false; rules.len()];
    let mut version: Vec<Option<String>> = vec![None; rules.len()];
    let mut buf = vec![0u8; CHUNK + OVERLAP];
    let mut kept = 0usize;
    let mut total = 0u64;
    loop {
        let room = (CHUNK as u64).min(limit.saturating_sub(total)) as usize;
        if room == 0 {
            break;
        }
        let mut n = 0;
        while n < room {
            let got = read.read(&mut buf[kept + n..kept + room])?;
            if got == 0 {
                break;
            }
            n += got;
        }
        if n == 0 {
            break;
        }
        total += n as u64;
        let window = &buf[..kept + n];
        for (k, &i) in rules.iter().enumerate() {
            let (Some(rule), Some(Some((re, _)))) = (RULES.get(i), comp.get(i)) else {
                continue;
            };
            if let Some(m) = rule.marker
                && !marker[k]
            {
                marker[k] = window.windows(m.len()).any(|w| w == m);
            }
            if version[k].is_none() {
                let w = match &want[k] {
                    Some(Some(w)) => Some(w.as_str()),
                    Some(None) => continue,
                    None => None,
                };
                version[k] = find_version(re, window, w);
            }
            if version[k].is_some() && (rule.marker.is_none() || marker[k]) {
                return Ok((total, version[k].take().map(|v| (i, v))));
            }
        }
        // Keep the tail for a match across the boundary.
        let len = kept + n;
        let keep = OVERLAP.min(len);
        buf.copy_within(len - keep..len, 0);
        kept = keep;
        if n < room {
            break;
        }
    }
    Ok((total, None))
}

impl Cataloger for Classifiers {
    fn name(&self) -> &'static str {
        "binary-classifier"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(GLOBS)
    }
    fn name_matters(&self) -> bool {
        true // python's version is checked against its file name
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let name = file.path.rsplit('/').next().unwrap_or("");
        let mut r = ctx.resolver.open(&file.path).map_err(|e| e.to_string())?;
        let mut head = [0u8; 4];
        if r.read_exact(&mut head).is_err() || head != *b"\x7fELF" {
            return Ok(());
        }
        let limit = ctx
            .limits
            .max_binary_bytes
            .min(ctx.limits.max_total_bytes.saturating_sub(ctx.bytes_read()));
        let (read, hit) = classify(name, r, limit).map_err(|e| CatalogError::Io {
            path: file.path.clone(),
            source: e,
        })?;
        ctx.count_read(read + 4);
        let Some((i, version)) = hit else {
            return Ok(());
        };
        let Some(rule) = RULES.get(i) else {
            return Ok(());
        };
        let purl = PurlParts::new("generic", None, rule.package, Some(&version)).build();
        let mut p = package(rule.package, &version, Ecosystem::Generic, purl, file);
        p.cpes = rule
            .cpes
            .iter()
            .map(|vp| format!("cpe:2.3:a:{vp}:{}:*:*:*:*:*:*:*", cpe_escape(&version)))
            .collect();
        found.packages.push(p);
        Ok(())
    }
}

/// A CPE 2.3 formatted-string value: `+`, `:` and other specials escaped.
fn cpe_escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_every_name_has_a_glob() {
        assert!(compiled().iter().all(Option::is_some));
        for r in RULES {
            for n in r.names {
                assert!(GLOBS.contains(&format!("**/{n}").as_str()), "{n}");
            }
        }
    }

    #[test]
    fn names_match_with_a_star() {
        assert!(name_matches("python[0-9]*", "python3.11"));
        assert!(!name_matches("python[0-9]*", "python-config"));
        assert!(name_matches("libcrypto.so*", "libcrypto.so.3"));
        assert!(name_matches("node", "node"));
        assert!(!name_matches("node", "nodes"));
    }

    #[test]
    fn evidence_is_required_and_may_straddle_chunks() {
        // A version split across the chunk boundary is still found.
        let mut data = vec![b'x'; CHUNK - 3];
        data.extend_from_slice(b"nginx/1.25.3\0");
        let (_, hit) = classify("nginx", &data[..], u64::MAX).unwrap();
        assert_eq!(hit, Some((3, "1.25.3".to_string())));
        // No evidence, no package.
        let (_, hit) = classify("nginx", &b"nginx without a version"[..], u64::MAX).unwrap();
        assert_eq!(hit, None);
        // The marker is required besides the version.
        let (_, hit) = classify(
            "redis-server",
            &b"\x007.0.151790282056000000000\x00"[..],
            u64::MAX,
        )
        .unwrap();
        assert_eq!(hit, None);
        // The byte budget bounds the scan.
        let (read, hit) = classify("nginx", &data[..], 1000).unwrap();
        assert_eq!((read, hit), (1000, None));
    }

    #[test]
    fn python_needs_its_file_names_version() {
        let d = b"\x003.9.1\x00pymalloc\x003.11.2\x00";
        assert_eq!(
            classify("python3.11", &d[..], u64::MAX).unwrap().1,
            Some((0, "3.11.2".to_string()))
        );
        assert_eq!(classify("python3", &d[..], u64::MAX).unwrap().1, None);
    }
}
