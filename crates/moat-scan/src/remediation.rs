//! The remediation plan and the baseline comparison, computed from a finished report.
//!
//! Remediation: per vulnerable package (name, version, path), the smallest version
//! that fixes every finding that has a fix — for each finding the smallest of its fixed
//! versions above the installed one, then the largest of those, compared in the
//! scheme of the advisory namespace that matched (dpkg, PEP 440, SemVer…) — with the
//! layer and history line that installed it and whether that layer belongs to the base
//! image or to the application.
//!
//! Baseline: a previous `moat scan --format json` report; a finding is `unchanged`
//! when the baseline has the same id (or one of its aliases) on the same package name,
//! version and path, else `new`; baseline findings no longer reported are `fixed`.

use moat_model::finding::FixState;
use moat_model::remediation::{Baseline, BaselineFixed, BaselineStatus, LayerOrigin, Remediation};
use moat_model::{Report, VulnFinding, VulnId};
use moat_version::Scheme;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Which layers (by diff_id) belong to the base image: every layer up to the last
/// history entry that is a `CMD` or `ENTRYPOINT` followed by more layers (the base
/// image's last instruction), else the first layer alone (a rootfs imported or
/// `FROM scratch` + `ADD rootfs`).
pub fn base_layers(report: &Report) -> BTreeSet<String> {
    let Some(img) = &report.image else {
        return BTreeSet::new();
    };
    let is_boundary = |created_by: &str| {
        let c = created_by
            .trim()
            .trim_start_matches("/bin/sh -c #(nop)")
            .trim();
        c.starts_with("CMD") || c.starts_with("ENTRYPOINT")
    };
    let boundary = img
        .layers
        .iter()
        .enumerate()
        .rev()
        .skip(1) // a CMD on the last layer ends the image itself, not a base
        .find(|(_, l)| is_boundary(&l.created_by))
        .map(|(i, _)| i);
    let n = boundary.map_or(1, |i| i + 1);
    img.layers
        .iter()
        .take(n)
        .map(|l| l.diff_id.clone())
        .collect()
}

fn cmp(scheme: Option<Scheme>, a: &str, b: &str) -> Ordering {
    scheme
        .and_then(|s| moat_version::compare(s, a, b).ok())
        .unwrap_or_else(|| a.cmp(b))
}

/// The smallest fixed version of `v` above its installed version.
fn fixing_version(v: &VulnFinding, scheme: Option<Scheme>) -> Option<String> {
    let installed = &v.matched_by.searched_version;
    v.fixed_versions
        .iter()
        .filter(|f| cmp(scheme, f, installed) == Ordering::Greater)
        .min_by(|a, b| cmp(scheme, a, b))
        .cloned()
}

/// The remediation plan of a report: packages with a fix first (known exploited, then
/// by highest severity fixed), then those with none.
pub fn plan(report: &Report) -> Vec<Remediation> {
    let base = base_layers(report);
    let mut groups: BTreeMap<(String, String, String), Vec<&VulnFinding>> = BTreeMap::new();
    for v in &report.vulnerabilities {
        groups
            .entry((
                v.package.name.clone(),
                v.package.version.clone(),
                v.path.clone(),
            ))
            .or_default()
            .push(v);
    }
    let mut out = Vec::new();
    for vs in groups.into_values() {
        let first = vs[0];
        let scheme = Scheme::from_osv_ecosystem(&first.matched_by.namespace);
        let mut target: Option<String> = None;
        let mut fixes = Vec::new();
        let mut by_sev = BTreeMap::new();
        let mut unfixed = Vec::new();
        for v in &vs {
            match (v.fix_state, fixing_version(v, scheme)) {
                (FixState::Fixed, Some(f)) => {
                    if target
                        .as_deref()
                        .is_none_or(|t| cmp(scheme, &f, t) == Ordering::Greater)
                    {
                        target = Some(f);
                    }
                    fixes.push(v.id.clone());
                    *by_sev.entry(v.severity).or_insert(0) += 1;
                }
                _ => unfixed.push(v.id.clone()),
            }
        }
        fixes.sort();
        fixes.dedup();
        unfixed.sort();
        unfixed.dedup();
        let origin = if first.layer.is_empty() || report.image.is_none() {
            LayerOrigin::Unknown
        } else if base.contains(&first.layer) {
            LayerOrigin::Base
        } else {
            LayerOrigin::Application
        };
        out.push(Remediation {
            package: first.package.clone(),
            path: first.path.clone(),
            layer: first.layer.clone(),
            created_by: report
                .layer_created_by(&first.layer)
                .unwrap_or("")
                .trim()
                .to_string(),
            origin,
            fixed_version: target,
            fixes,
            fixes_by_severity: by_sev,
            unfixed,
            kev: vs.iter().any(|v| v.kev.is_some()),
        });
    }
    out.sort_by(|a, b| {
        b.fixed_version
            .is_some()
            .cmp(&a.fixed_version.is_some())
            .then(b.kev.cmp(&a.kev))
            .then(
                b.fixes_by_severity
                    .keys()
                    .next_back()
                    .cmp(&a.fixes_by_severity.keys().next_back()),
            )
            .then(b.fixes.len().cmp(&a.fixes.len()))
            .then(a.package.name.cmp(&b.package.name))
            .then(a.package.version.cmp(&b.package.version))
            .then(a.path.cmp(&b.path))
    });
    out
}

/// The identity of a finding across scans.
fn key(v: &VulnFinding) -> (String, String, String) {
    (
        v.package.name.clone(),
        v.package.version.clone(),
        v.path.clone(),
    )
}

fn ids(v: &VulnFinding) -> BTreeSet<&str> {
    std::iter::once(&v.id)
        .chain(v.aliases.iter())
        .map(VulnId::as_str)
        .collect()
}

/// Mark every finding of `report` `new` or `unchanged` against `previous`, and list
/// the findings of `previous` that are gone.
pub fn compare(report: &mut Report, previous: &Report, source: &str) {
    let mut before: BTreeMap<(String, String, String), Vec<&VulnFinding>> = BTreeMap::new();
    for v in &previous.vulnerabilities {
        before.entry(key(v)).or_default().push(v);
    }
    let mut matched: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    let mut new = 0;
    let mut unchanged = 0;
    for v in &mut report.vulnerabilities {
        let k = key(v);
        let mine = ids(v);
        let hit = before.get(&k).and_then(|olds| {
            olds.iter()
                .find(|o| ids(o).iter().any(|i| mine.contains(i)))
        });
        match hit {
            Some(o) => {
                matched.insert((k.0, k.1, k.2, o.id.to_string()));
                v.baseline = Some(BaselineStatus::Unchanged);
                unchanged += 1;
            }
            None => {
                v.baseline = Some(BaselineStatus::New);
                new += 1;
            }
        }
    }
    let mut fixed: Vec<BaselineFixed> = previous
        .vulnerabilities
        .iter()
        .filter(|o| {
            let k = key(o);
            !matched.contains(&(k.0, k.1, k.2, o.id.to_string()))
        })
        .map(|o| BaselineFixed {
            id: o.id.clone(),
            package: o.package.name.clone(),
            version: o.package.version.clone(),
            path: o.path.clone(),
            severity: o.severity,
        })
        .collect();
    fixed.sort();
    fixed.dedup();
    report.baseline = Some(Baseline {
        source: source.to_string(),
        new,
        unchanged,
        fixed,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    use moat_model::finding::{MatchDetail, MatcherKind, PackageRef};
    use moat_model::{Ecosystem, PurlParts, Severity};

    fn finding(id: &str, fixed: &[&str]) -> VulnFinding {
        VulnFinding {
            id: id.into(),
            aliases: vec![],
            package: PackageRef {
                name: "perl-base".into(),
                version: "5.36.0-7".into(),
                ecosystem: Ecosystem::Deb,
                purl: PurlParts::new("deb", Some("debian"), "perl-base", Some("5.36.0-7")).into(),
                source_name: Some("perl".into()),
                source_version: None,
            },
            path: "/var/lib/dpkg/status".into(),
            layer: String::new(),
            fixed_versions: fixed.iter().map(|s| s.to_string()).collect(),
            fix_state: if fixed.is_empty() {
                FixState::NotFixed
            } else {
                FixState::Fixed
            },
            severity: Severity::High,
            severity_source: String::new(),
            cvss: vec![],
            kev: None,
            baseline: None,
            title: String::new(),
            url: String::new(),
            matched_by: MatchDetail {
                matcher: MatcherKind::DpkgSource,
                namespace: "Debian:12".into(),
                searched_name: "perl".into(),
                searched_version: "5.36.0-7".into(),
                constraint: String::new(),
            },
            data_source: String::new(),
            dependency_path: Vec::new(),
        }
    }

    #[test]
    fn plan_takes_the_largest_of_the_smallest_fixes_and_lists_unfixed() {
        let r = Report {
            vulnerabilities: vec![
                finding("A", &["5.36.0-7+deb12u1"]),
                finding("B", &["5.36.0-7+deb12u2", "5.38.0-1"]),
                finding("C", &[]),
            ],
            ..Default::default()
        };
        let p = plan(&r);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].fixed_version.as_deref(), Some("5.36.0-7+deb12u2"));
        assert_eq!(p[0].fixes.len(), 2);
        assert_eq!(p[0].unfixed.len(), 1);
        assert_eq!(p[0].fixes_summary(), "2: 2 HIGH");
    }

    #[test]
    fn baseline_marks_new_unchanged_and_fixed() {
        let prev = Report {
            vulnerabilities: vec![finding("A", &[]), finding("GONE", &[])],
            ..Default::default()
        };
        let mut now = Report {
            vulnerabilities: vec![finding("A", &[]), finding("B", &[])],
            ..Default::default()
        };
        compare(&mut now, &prev, "prev.json");
        assert_eq!(
            now.vulnerabilities[0].baseline,
            Some(BaselineStatus::Unchanged)
        );
        assert_eq!(now.vulnerabilities[1].baseline, Some(BaselineStatus::New));
        let b = now.baseline.unwrap();
        assert_eq!((b.new, b.unchanged, b.fixed.len()), (1, 1, 1));
        assert_eq!(b.fixed[0].id.as_str(), "GONE");
    }

    #[test]
    fn smallest_fix_above_the_installed_version_in_the_scheme() {
        let mut v = finding("A", &[]);
        v.matched_by.namespace = "Debian:12".into();
        v.matched_by.searched_version = "5.36.0-7".into();
        v.fixed_versions = vec![
            "5.36.0-10".into(),
            "5.36.0-7+deb12u1".into(),
            "5.36.0-6".into(),
        ];
        assert_eq!(
            fixing_version(&v, Scheme::from_osv_ecosystem("Debian:12")).as_deref(),
            Some("5.36.0-7+deb12u1")
        );
    }
}
