//! Alpine secdb (`https://secdb.alpinelinux.org/vX.Y/{main,community}.json`).
//!
//! Each file lists, per source (origin) package, `secfixes`: a map from the
//! version that fixed something to the ids it fixed. It becomes one advisory per
//! id and file (source `alpine-secdb`, scope `vX.Y/repo`), with one affected entry
//! per package in ecosystem `Alpine:vX.Y` and a range `introduced 0, fixed V` per
//! fixing version. A fixing version `0` means "this release was never affected"
//! and gives no range (Trivy and grype read it the same way), so it is skipped.
//! An entry like `CVE-2016-10013 XSA-204` keeps the first id and aliases the rest.

use crate::eval::validate_range;
use crate::model::{Advisory, Affected, Event, Range, RangeKind, Skipped};
use moat_version::Scheme;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct SecDb {
    distroversion: String,
    reponame: Option<String>,
    packages: Vec<Pkg>,
}

#[derive(Deserialize)]
struct Pkg {
    pkg: PkgInner,
}

#[derive(Deserialize)]
struct PkgInner {
    name: String,
    secfixes: Option<BTreeMap<String, Option<Vec<Option<String>>>>>,
}

/// True when the start of a JSON document looks like a secdb file.
pub(crate) fn sniff(head: &[u8]) -> bool {
    let n = head.len().min(4096);
    let s = String::from_utf8_lossy(&head[..n]);
    s.contains("\"distroversion\"") && (s.contains("\"packages\"") || s.contains("\"apkurl\""))
}

/// One id token: letters, then `-`, then id characters (`CVE-2021-1`, `XSA-204`).
fn is_id(tok: &str) -> bool {
    let Some((prefix, rest)) = tok.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_alphanumeric())
        && prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Parse a secdb file. Returns the advisories and the entries skipped.
pub(crate) fn parse(
    location: &str,
    bytes: &[u8],
) -> Result<(Vec<Advisory>, Vec<Skipped>), serde_json::Error> {
    let db: SecDb = serde_json::from_slice(bytes)?;
    let release = db.distroversion.trim().to_string();
    let ecosystem = format!("Alpine:{release}");
    let scope = format!("{release}/{}", db.reponame.as_deref().unwrap_or("main"));
    let mut skipped = Vec::new();
    // id -> (aliases, package -> fixed versions)
    type Entry = (Vec<String>, BTreeMap<String, Vec<String>>);
    let mut by_id: BTreeMap<String, Entry> = BTreeMap::new();
    for p in db.packages {
        let name = p.pkg.name.trim().to_string();
        for (fixed, ids) in p.pkg.secfixes.unwrap_or_default() {
            let fixed = fixed.trim().to_string();
            if fixed == "0" {
                continue;
            }
            for raw in ids.unwrap_or_default().into_iter().flatten() {
                let mut toks = raw.split_whitespace().filter(|t| is_id(t));
                let Some(id) = toks.next() else {
                    skipped.push(Skipped {
                        location: location.to_string(),
                        id: None,
                        reason: format!("{name} {fixed}: no advisory id in {raw:?}"),
                    });
                    continue;
                };
                let e = by_id.entry(id.to_string()).or_default();
                for a in toks {
                    if !e.0.iter().any(|x| x == a) {
                        e.0.push(a.to_string());
                    }
                }
                let fixes = e.1.entry(name.clone()).or_default();
                if !fixes.contains(&fixed) {
                    fixes.push(fixed.clone());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(by_id.len());
    'ids: for (id, (mut aliases, pkgs)) in by_id {
        aliases.sort();
        let mut affected = Vec::with_capacity(pkgs.len());
        for (name, fixes) in pkgs {
            let mut ranges = Vec::with_capacity(fixes.len());
            for f in fixes {
                let range = Range {
                    kind: RangeKind::Ecosystem,
                    events: vec![Event::Introduced("0".into()), Event::Fixed(f)],
                };
                if let Err(reason) = validate_range(Some(Scheme::Apk), &range) {
                    skipped.push(Skipped {
                        location: location.to_string(),
                        id: Some(id.clone()),
                        reason: format!("{name}: {reason}"),
                    });
                    continue 'ids;
                }
                ranges.push(range);
            }
            affected.push(Affected {
                ecosystem: ecosystem.clone(),
                normalized_name: name.clone(),
                purl: Some(format!(
                    "pkg:apk/alpine/{name}?distro=alpine-{}",
                    release.trim_start_matches('v')
                )),
                name,
                ranges,
                versions: Vec::new(),
                severity: Vec::new(),
                database_specific: None,
            });
        }
        out.push(Advisory {
            id,
            source: "alpine-secdb".into(),
            scope: scope.clone(),
            modified: None,
            published: None,
            withdrawn: None,
            summary: None,
            details: None,
            aliases,
            upstream: Vec::new(),
            related: Vec::new(),
            references: Vec::new(),
            severity: Vec::new(),
            affected,
        });
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_zero_versions() {
        let doc = br#"{"distroversion":"v3.21","reponame":"main","packages":[
            {"pkg":{"name":"xen","secfixes":{"0":["CVE-2020-1"],"4.10.0-r1":["CVE-2016-10013 XSA-204","CVE N/A ZBX-11023"]}}}]}"#;
        assert!(sniff(doc));
        let (advs, skipped) = parse("t", doc).unwrap();
        assert!(skipped.is_empty());
        let ids: Vec<_> = advs.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2016-10013", "ZBX-11023"]);
        assert_eq!(advs[0].aliases, ["XSA-204"]);
        assert_eq!(advs[0].affected[0].ecosystem, "Alpine:v3.21");
        assert_eq!(advs[0].scope, "v3.21/main");
    }
}
