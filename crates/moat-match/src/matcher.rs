//! Matching packages against the advisory database.
//!
//! - OS packages (deb, apk, rpm) match only their distro release's advisories
//!   (`Debian:12`, `Alpine:v3.21`), by **source** package name and version, never
//!   language advisories or name guesses: distributions backport fixes, so anything
//!   else is noise.
//! - Language packages match their ecosystem (`PyPI`, `npm`, `crates.io`, `Go`, ...).
//! - Go's `stdlib` package (the toolchain a binary was built with) matches `Go/stdlib`.
//! - Withdrawn advisories are never reported. Every candidate that is not reported
//!   is kept in [`MatchOutput::dropped`] with the reason.

use crate::family::{Matcher, Query};
use crate::finding::{
    DropReason, Dropped, FixState, MatchDetail, MatcherKind, PackageRef, VulnFinding,
};
use crate::severity::{Rater, Rating};
use moat_db::{Advisory, Database, Event, Range};
use moat_model::{Distro, Package};
use std::collections::{BTreeMap, BTreeSet};

pub use crate::family::{NamespaceError, language_namespace, os_namespace};

#[derive(Debug, thiserror::Error)]
#[error("advisory database: {0}")]
pub struct MatchError(#[from] moat_db::Error);

#[derive(Debug, Default)]
pub struct MatchOutput {
    pub findings: Vec<VulnFinding>,
    pub dropped: Vec<Dropped>,
    pub warnings: Vec<String>,
}

/// Every matcher, in the order they are asked (the first that takes a package wins).
pub static MATCHERS: &[&dyn Matcher] = &[
    &crate::dpkg::DpkgMatcher,
    &crate::apk::ApkMatcher,
    &crate::rpm::RpmMatcher,
    &crate::gostdlib::GoStdlibMatcher,
    &crate::language::EcosystemMatcher,
];

/// Match every package. `distro` selects the OS advisory namespace.
pub fn match_packages(
    db: &Database,
    packages: &[Package],
    distro: Option<&Distro>,
) -> Result<MatchOutput, MatchError> {
    let mut out = MatchOutput::default();
    let mut known: BTreeMap<String, bool> = BTreeMap::new();
    let mut warned: BTreeSet<String> = BTreeSet::new();
    let mut advisory_cache: BTreeMap<i64, Option<Advisory>> = BTreeMap::new();
    let mut rater = Rater::new();

    for p in packages {
        let Some((matcher, query)) = MATCHERS
            .iter()
            .find_map(|m| m.query(p, distro).map(|q| (m.kind(), q)))
        else {
            continue;
        };
        let Query {
            namespace,
            name,
            version,
        } = match query {
            Ok(q) => q,
            Err(why) => {
                if warned.insert(format!("os:{}", p.ecosystem)) {
                    out.warnings
                        .push(format!("{} packages were not matched: {why}", p.ecosystem));
                }
                continue;
            }
        };
        let covered = match known.get(&namespace) {
            Some(c) => *c,
            None => {
                let c = db.has_ecosystem(&namespace)?;
                known.insert(namespace.clone(), c);
                c
            }
        };
        if !covered {
            if warned.insert(namespace.clone()) {
                out.warnings.push(format!(
                    "the advisory database has no data for {namespace}: {} packages there were not matched",
                    p.ecosystem
                ));
            }
            continue;
        }
        if version.is_empty() || version == "(devel)" {
            continue;
        }

        let query = Query {
            namespace,
            name,
            version,
        };
        for e in db.affected_for(&query.namespace, &query.name)? {
            let reason = match verdict(&e, &query.version) {
                Ok(()) => {
                    let adv = advisory_cache
                        .entry(e.advisory_row)
                        .or_insert_with(|| db.advisory_by_row(e.advisory_row).ok().flatten());
                    match adv.as_ref() {
                        Some(adv) => {
                            let rating = rater.rate(db, adv, &e.ecosystem, &e.name, matcher);
                            out.findings
                                .push(finding(p, matcher, &query, &e, adv, rating));
                            continue;
                        }
                        None => DropReason::NotLoaded,
                    }
                }
                Err(reason) => reason,
            };
            out.dropped.push(Dropped {
                id: e.advisory_id.as_str().into(),
                package: p.name.clone(),
                version: p.version.clone(),
                reason,
            });
        }
    }
    out.findings.sort_by_key(VulnFinding::sort_key);
    out.findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
    out.dropped.sort();
    out.dropped.dedup();
    Ok(out)
}

/// Whether `version` is affected by the entry `e`: `Ok` to report, or why not.
pub(crate) fn verdict(e: &moat_db::AffectedEntry, version: &str) -> Result<(), DropReason> {
    if e.withdrawn {
        return Err(DropReason::Withdrawn);
    }
    match moat_db::affected_by(&e.ecosystem, &e.ranges, &e.versions, version) {
        Ok(true) => Ok(()),
        Err(err) => Err(DropReason::Incomparable {
            version: version.to_string(),
            error: err.to_string(),
        }),
        Ok(false) => {
            let fixed = fixed_versions(&e.ranges);
            Err(if fixed.is_empty() {
                DropReason::OutsideRanges {
                    version: version.to_string(),
                }
            } else {
                DropReason::NotAffected {
                    version: version.to_string(),
                    fixed,
                }
            })
        }
    }
}

/// The finding for package `p`, affected by entry `e` of advisory `adv`, with how it
/// matched.
fn finding(
    p: &Package,
    matcher: MatcherKind,
    q: &Query,
    e: &moat_db::AffectedEntry,
    adv: &Advisory,
    rating: Rating,
) -> VulnFinding {
    let fixed = fixed_versions(&e.ranges);
    let mut aliases: Vec<String> = adv
        .other_ids()
        .filter(|a| *a != adv.id)
        .map(str::to_string)
        .collect();
    aliases.sort();
    aliases.dedup();
    let constraint = if e.ranges.is_empty() {
        format!("versions [{}]", e.versions.join(", "))
    } else {
        e.ranges
            .iter()
            .map(render_range)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let loc = p.locations.first();
    let title = adv
        .summary
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(adv.details.as_deref())
        .map(|s| first_line(s, 160))
        .unwrap_or_default();
    VulnFinding {
        id: adv.id.as_str().into(),
        aliases: aliases.into_iter().map(Into::into).collect(),
        package: PackageRef {
            name: p.name.clone(),
            version: p.version.clone(),
            ecosystem: p.ecosystem,
            purl: p.purl.clone(),
            source_name: p.source_name.clone(),
            source_version: p.source_version.clone(),
        },
        path: loc.map(|l| l.path.clone()).unwrap_or_default(),
        layer: loc.and_then(|l| l.layer.clone()).unwrap_or_default(),
        fix_state: if fixed.is_empty() {
            FixState::NotFixed
        } else {
            FixState::Fixed
        },
        fixed_versions: fixed,
        severity: rating.severity,
        severity_source: rating.source,
        cvss: rating.cvss,
        kev: rating.kev,
        baseline: None,
        title,
        url: url_of(adv),
        matched_by: MatchDetail {
            matcher,
            namespace: q.namespace.clone(),
            searched_name: q.name.clone(),
            searched_version: q.version.clone(),
            constraint,
        },
        data_source: if adv.scope.is_empty() {
            adv.source.clone()
        } else {
            format!("{}:{}", adv.source, adv.scope)
        },
        dependency_path: Vec::new(),
    }
}

fn render_range(r: &Range) -> String {
    let parts: Vec<String> = r
        .events
        .iter()
        .map(|e| match e {
            Event::Introduced(v) => format!(">= {v}"),
            Event::Fixed(v) => format!("< {v}"),
            Event::LastAffected(v) => format!("<= {v}"),
            Event::Limit(v) => format!("< {v} (limit)"),
        })
        .collect();
    parts.join(", ")
}

pub(crate) fn fixed_versions(ranges: &[Range]) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for r in ranges {
        for e in &r.events {
            if let Event::Fixed(v) = e {
                out.insert(v.clone());
            }
        }
    }
    out.into_iter().collect()
}

fn first_line(s: &str, max: usize) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > max {
        let mut t: String = line.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        line.to_string()
    }
}

fn url_of(a: &Advisory) -> String {
    for kind in ["ADVISORY", "WEB", "REPORT", "ARTICLE"] {
        if let Some(r) = a.references.iter().find(|r| r.kind == kind) {
            return r.url.clone();
        }
    }
    if let Some(cve) = a.id.strip_prefix("DEBIAN-") {
        return format!("https://security-tracker.debian.org/tracker/{cve}");
    }
    if a.id.starts_with("CVE-") {
        return format!("https://nvd.nist.gov/vuln/detail/{}", a.id);
    }
    a.references
        .first()
        .map(|r| r.url.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::NamespaceError;
    use moat_model::Ecosystem;

    fn distro(id: &str, v: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: v.into(),
            ..Default::default()
        }
    }

    fn pkg(eco: Ecosystem, name: &str, version: &str, source: Option<&str>) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem: eco,
            purl: moat_model::Purl::default(),
            source_name: source.map(str::to_string),
            source_version: None,
            locations: Vec::new(),
            licenses: Vec::new(),
            found_by: String::new(),
            cpes: Vec::new(),
        }
    }

    fn route(
        p: &Package,
        d: Option<&Distro>,
    ) -> Option<(MatcherKind, Result<Query, NamespaceError>)> {
        MATCHERS
            .iter()
            .find_map(|m| m.query(p, d).map(|q| (m.kind(), q)))
    }

    #[test]
    fn each_family_takes_its_own_packages() {
        let deb12 = distro("debian", "12");
        let (k, q) = route(
            &pkg(Ecosystem::Deb, "perl-base", "5.36.0-7", Some("perl")),
            Some(&deb12),
        )
        .unwrap();
        assert_eq!(k, MatcherKind::DpkgSource);
        let q = q.unwrap();
        assert_eq!(
            (q.namespace.as_str(), q.name.as_str()),
            ("Debian:12", "perl")
        );
        let (k, q) = route(&pkg(Ecosystem::Apk, "musl", "1.2.5-r0", None), None).unwrap();
        assert_eq!(k, MatcherKind::ApkOrigin);
        assert!(q.is_err(), "no distro: a warning, not a guess");
        let (k, q) = route(&pkg(Ecosystem::Golang, "stdlib", "go1.21.3", None), None).unwrap();
        assert_eq!(k, MatcherKind::GoStdlib);
        assert_eq!(q.unwrap().version, "1.21.3");
        let (k, q) = route(
            &pkg(Ecosystem::Golang, "golang.org/x/net", "v0.7.0", None),
            None,
        )
        .unwrap();
        assert_eq!(k, MatcherKind::Ecosystem);
        assert_eq!(q.unwrap().namespace, "Go");
        let (k, _) = route(&pkg(Ecosystem::Npm, "lodash", "4.17.15", None), None).unwrap();
        assert_eq!(k, MatcherKind::Ecosystem);
    }
}
