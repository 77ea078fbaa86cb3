//! The severity of a finding, by the precedence of docs/scan.md:
//!
//! 1. for OS packages, the distribution's own rating of the matched record (Ubuntu
//!    priority, Debian urgency);
//! 2. the advisory's own rating: `database_specific.severity` (GHSA), then its own CVSS
//!    (`severity[]`, rubysec scores), v4 > v3.1 > v3.0 > v2;
//! 3. CVSS from the CVE records of its CVE ids (id, aliases, upstream) and from the
//!    other records of the same CVE in the database: CNA before ADP before NVD before
//!    other advisories; within one provider v4 > v3.1 > v3.0 > v2;
//! 4. `UNKNOWN` when nothing rates it. A rating is never invented.
//!
//! Every CVSS vector found is listed on the finding (`cvss[]`, in precedence order)
//! with who gave it, and a CISA KEV date of any of its CVE ids is kept (`kev`).

use crate::finding::{Cvss, Kev, MatcherKind};
use moat_db::{Advisory, CveRecord, Database, Provider, SeverityScore};
use moat_model::Severity;
use std::collections::BTreeMap;

/// The rating of one finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub severity: Severity,
    pub source: String,
    pub cvss: Vec<Cvss>,
    pub kev: Option<Kev>,
}

/// What the database knows about one CVE id: its CVE record and the other advisories
/// naming it.
type CveFacts = (Option<CveRecord>, Vec<(String, Vec<SeverityScore>)>);

/// Rates findings, caching CVE lookups for one scan.
#[derive(Debug, Default)]
pub struct Rater {
    cache: BTreeMap<String, CveFacts>,
}

/// The rank of a CVSS source class: lower is preferred.
fn class_rank(source: &str) -> u8 {
    match source.split(':').next().unwrap_or("") {
        "advisory" => 0,
        "cna" => 1,
        "adp" => 2,
        "nvd" => 3,
        _ => 4,
    }
}

/// v4 > v3.1 > v3.0 > v2 (higher is preferred).
fn version_rank(v: &str) -> u8 {
    match v {
        "4.0" => 4,
        "3.1" => 3,
        "3.0" => 2,
        "2.0" => 1,
        _ => 0,
    }
}

/// The CVSS version of an OSV severity entry.
fn version_of(s: &SeverityScore) -> &str {
    if let Some(rest) = s.vector.strip_prefix("CVSS:") {
        return rest.split('/').next().unwrap_or("");
    }
    match s.kind.as_str() {
        "CVSS_V2" => "2.0",
        "CVSS_V4" => "4.0",
        // A v3 score without a vector (rubysec) does not say 3.0 or 3.1.
        _ => "3.x",
    }
}

fn is_cvss(s: &SeverityScore) -> bool {
    s.kind.starts_with("CVSS_") && s.score.is_some()
}

/// The CVE ids a record names: `CVE-…` ids among its id, aliases and upstream, and the
/// CVE inside `DEBIAN-CVE-…`/`UBUNTU-CVE-…` ids.
pub fn cve_ids(adv: &Advisory) -> Vec<String> {
    let mut out: Vec<String> = std::iter::once(adv.id.as_str())
        .chain(adv.other_ids())
        .filter_map(|id| {
            let cve = &id[id.find("CVE-")?..];
            moat_db::cve::valid_cve_id(cve).then(|| cve.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Rater {
    pub fn new() -> Rater {
        Rater::default()
    }

    fn facts(&mut self, db: &Database, cve: &str) -> &CveFacts {
        self.cache.entry(cve.to_string()).or_insert_with(|| {
            (
                db.cve(cve).ok().flatten(),
                db.advisories_naming_cve(cve).unwrap_or_default(),
            )
        })
    }

    /// Rate a finding of advisory `adv`, whose affected entries for the matched package
    /// are those in `ecosystem`/`name`, found by `matcher`.
    pub fn rate(
        &mut self,
        db: &Database,
        adv: &Advisory,
        ecosystem: &str,
        name: &str,
        matcher: MatcherKind,
    ) -> Rating {
        let own: Vec<&SeverityScore> = adv
            .severity
            .iter()
            .chain(
                adv.affected
                    .iter()
                    .filter(|a| a.ecosystem == ecosystem && a.name == name)
                    .flat_map(|a| a.severity.iter()),
            )
            .collect();
        let mut cvss: Vec<Cvss> = Vec::new();
        let mut push = |source: String, version: &str, vector: &str, score: Option<f64>| {
            let Some(score) = score else { return };
            cvss.push(Cvss {
                source,
                version: version.to_string(),
                vector: vector.to_string(),
                score,
            });
        };
        // The advisory's own vectors; those it says are NVD's rank as NVD's.
        for s in own.iter().filter(|s| is_cvss(s)) {
            let source = match s.provider.as_deref() {
                Some("nvd") => format!("nvd:{}", adv.id),
                _ => format!("advisory:{}", adv.id),
            };
            push(source, version_of(s), &s.vector, s.score);
        }
        // CVE records, then other records of the same CVE.
        let mut kev: Option<Kev> = None;
        for cve in cve_ids(adv) {
            let (record, others) = self.facts(db, &cve).clone();
            if let Some(r) = record {
                for m in &r.metrics {
                    let class = match m.provider {
                        Provider::Cna => "cna",
                        Provider::Adp => "adp",
                        Provider::Nvd => "nvd",
                    };
                    push(
                        format!("{class}:{}", m.organisation),
                        &m.version,
                        &m.vector,
                        m.score,
                    );
                }
                if let (None, Some(date)) = (&kev, r.kev_added) {
                    kev = Some(Kev {
                        cve: cve.clone(),
                        date_added: date,
                        source: r.kev_source.unwrap_or_default(),
                    });
                }
            }
            for (id, sevs) in others.iter().filter(|(id, _)| *id != adv.id) {
                for s in sevs.iter().filter(|s| is_cvss(s)) {
                    let source = match s.provider.as_deref() {
                        Some("nvd") => format!("nvd:{id}"),
                        _ => format!("osv:{id}"),
                    };
                    push(source, version_of(s), &s.vector, s.score);
                }
            }
        }
        cvss.sort_by(|a, b| {
            class_rank(&a.source)
                .cmp(&class_rank(&b.source))
                .then(version_rank(&b.version).cmp(&version_rank(&a.version)))
                .then(b.score.total_cmp(&a.score))
                .then(a.source.cmp(&b.source))
                .then(a.vector.cmp(&b.vector))
        });
        // The same vector from several sources is listed once, under the first.
        let mut seen = std::collections::BTreeSet::new();
        cvss.retain(|c| c.vector.is_empty() || seen.insert(c.vector.clone()));

        let (severity, source) = self::choose(&own, &cvss, matcher);
        Rating {
            severity,
            source,
            cvss,
            kev,
        }
    }
}

/// Steps 1, 2 (vendor rating) and 2–3 (the first CVSS vector in precedence order).
fn choose(own: &[&SeverityScore], cvss: &[Cvss], matcher: MatcherKind) -> (Severity, String) {
    let os = matches!(
        matcher,
        MatcherKind::DpkgSource | MatcherKind::ApkOrigin | MatcherKind::RpmSource
    );
    if os {
        for (kind, source) in [("Ubuntu", "ubuntu"), ("Debian", "debian")] {
            if let Some(s) = own
                .iter()
                .filter(|s| s.kind == kind && s.rating != Severity::Unknown)
                .max_by_key(|s| s.rating)
            {
                return (s.rating, source.to_string());
            }
        }
    }
    if let Some(s) = own
        .iter()
        .filter(|s| s.kind == "vendor" && s.rating != Severity::Unknown)
        .max_by_key(|s| s.rating)
    {
        return (s.rating, "advisory".to_string());
    }
    if let Some(c) = cvss.first() {
        let sev = if c.version == "2.0" {
            Severity::from_cvss_v2_score(c.score)
        } else {
            Severity::from_cvss_score(c.score)
        };
        if sev != Severity::Unknown {
            return (sev, c.source.clone());
        }
    }
    (Severity::Unknown, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev(kind: &str, vector: &str) -> SeverityScore {
        moat_db::severity::parse(kind, vector)
    }

    fn cv(source: &str, version: &str, score: f64) -> Cvss {
        Cvss {
            source: source.into(),
            version: version.into(),
            vector: String::new(),
            score,
        }
    }

    #[test]
    fn distro_rating_first_for_os_packages_only() {
        let u = sev("Ubuntu", "negligible");
        let v3 = sev("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        let own = [&u, &v3];
        let cvss = [cv("nvd:x", "3.1", 9.8)];
        assert_eq!(
            choose(&own, &cvss, MatcherKind::DpkgSource),
            (Severity::Low, "ubuntu".into())
        );
        assert_eq!(
            choose(&own, &cvss, MatcherKind::Ecosystem),
            (Severity::Critical, "nvd:x".into())
        );
        let untriaged = sev("Ubuntu", "untriaged");
        assert_eq!(
            choose(&[&untriaged], &cvss, MatcherKind::DpkgSource),
            (Severity::Critical, "nvd:x".into())
        );
    }

    #[test]
    fn advisory_vendor_rating_before_cvss() {
        let g = moat_db::severity::vendor("MODERATE");
        let cvss = [cv("cna:GitHub_M", "3.1", 9.8)];
        assert_eq!(
            choose(&[&g], &cvss, MatcherKind::Ecosystem),
            (Severity::Medium, "advisory".into())
        );
    }

    #[test]
    fn v2_scores_use_v2_bands_and_nothing_is_invented() {
        assert_eq!(
            choose(&[], &[cv("nvd:x", "2.0", 9.3)], MatcherKind::Ecosystem),
            (Severity::High, "nvd:x".into())
        );
        assert_eq!(
            choose(&[], &[], MatcherKind::Ecosystem),
            (Severity::Unknown, String::new())
        );
    }

    #[test]
    fn precedence_orders_providers_then_versions() {
        let mut v = [
            cv("nvd:n", "3.1", 5.0),
            cv("adp:CISA-ADP", "3.1", 6.0),
            cv("cna:c", "3.0", 7.0),
            cv("cna:c", "4.0", 8.0),
            cv("osv:PYSEC-1", "3.1", 9.0),
            cv("advisory:GHSA-1", "2.0", 3.0),
        ];
        v.sort_by(|a, b| {
            class_rank(&a.source)
                .cmp(&class_rank(&b.source))
                .then(version_rank(&b.version).cmp(&version_rank(&a.version)))
        });
        let order: Vec<(&str, &str)> = v
            .iter()
            .map(|c| (c.source.as_str(), c.version.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![
                ("advisory:GHSA-1", "2.0"),
                ("cna:c", "4.0"),
                ("cna:c", "3.0"),
                ("adp:CISA-ADP", "3.1"),
                ("nvd:n", "3.1"),
                ("osv:PYSEC-1", "3.1"),
            ]
        );
    }
}
