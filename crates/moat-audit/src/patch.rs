//! Patch level: engine components' versions matched against an advisory database
//! (the Go vulnerability data covers moby, containerd and runc).
//!
//! Versions are upstream versions (`20.10.24+dfsg1` → `20.10.24`). A distribution build
//! may carry backported fixes that the upstream version does not show; such findings
//! say so in their evidence.

use crate::Component;
use crate::finding::{AuditFinding, AuditObject};
use crate::rules::DV101;
use moat_model::Severity;
use serde::Serialize;

/// One advisory affecting a component version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvisoryHit {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    /// Fixed versions named by the advisory's ranges.
    pub fixed: Vec<String>,
    pub severity: Severity,
}

/// Why advisories could not be looked up.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct LookupError(#[from] moat_match::matcher::MatchError);

/// Where advisories come from (moat's database; a fake in tests).
pub trait AdvisoryLookup {
    /// Advisories (not withdrawn) affecting `version` of `package` in `ecosystem`.
    fn affecting(
        &self,
        ecosystem: &str,
        package: &str,
        version: &str,
    ) -> Result<Vec<AdvisoryHit>, LookupError>;

    /// Whether the database holds any advisory of `ecosystem` (`Debian:12`).
    fn has_ecosystem(&self, ecosystem: &str) -> bool;
}

/// The database, through moat-match: the same verdict as a scan's (one matching path).
impl AdvisoryLookup for moat_db::Database {
    fn has_ecosystem(&self, ecosystem: &str) -> bool {
        moat_db::Database::has_ecosystem(self, ecosystem).unwrap_or(false)
    }

    fn affecting(
        &self,
        ecosystem: &str,
        package: &str,
        version: &str,
    ) -> Result<Vec<AdvisoryHit>, LookupError> {
        let hits = moat_match::engine::affecting(self, ecosystem, package, version)?;
        Ok(hits
            .into_iter()
            .map(|h| {
                let a = h.advisory;
                let mut aliases: Vec<String> = a.other_ids().map(String::from).collect();
                aliases.sort();
                aliases.dedup();
                AdvisoryHit {
                    severity: a.rating(),
                    id: a.id,
                    aliases,
                    summary: a.summary,
                    fixed: h.fixed,
                }
            })
            .collect())
    }
}

/// True when a version string carries a distribution's packaging suffix.
fn distribution_build(v: &str) -> bool {
    v.contains("dfsg")
        || v.contains("~ds")
        || v.contains("+ds")
        || v.contains("deb")
        || v.contains("ubuntu")
}

fn fixed_text(h: &AdvisoryHit) -> String {
    if h.fixed.is_empty() {
        "no fixed version".to_string()
    } else {
        format!("fixed in {}", h.fixed.join(", "))
    }
}

fn distro_findings(
    c: &Component,
    pkg: &crate::sys::OsPackage,
    eco: &str,
    lookup: &dyn AdvisoryLookup,
    notes: &mut Vec<String>,
    out: &mut Vec<AuditFinding>,
) {
    let hits = match lookup.affecting(eco, &pkg.source, &pkg.source_version) {
        Ok(h) => h,
        Err(e) => {
            notes.push(format!("{}: advisories not matched: {e}", c.name));
            return;
        }
    };
    for h in hits {
        let mut ev = vec![format!(
            "{} package {} {} (source {} {}) owns {}; matched {eco} advisories",
            pkg.manager,
            pkg.name,
            pkg.version,
            pkg.source,
            pkg.source_version,
            c.binary.as_deref().unwrap_or("?")
        )];
        if !h.aliases.is_empty() {
            ev.push(format!("aliases: {}", h.aliases.join(", ")));
        }
        let mut f = AuditFinding::new(
            &DV101,
            AuditObject::component(&c.name),
            format!(
                "{} {}: {} {}({})",
                c.name,
                pkg.source_version,
                h.id,
                h.summary
                    .as_deref()
                    .map(|s| format!("{s} "))
                    .unwrap_or_default(),
                fixed_text(&h)
            ),
            ev,
        );
        if h.severity != Severity::Unknown {
            f.finding.severity = h.severity;
        }
        out.push(f);
    }
}

/// DV101 findings for every component version an advisory affects.
pub fn findings(
    components: &[Component],
    lookup: &dyn AdvisoryLookup,
    notes: &mut Vec<String>,
) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for c in components {
        // A binary installed by the distribution is matched against the distribution's
        // advisories (by source package), which know its backported fixes.
        if let Some(pkg) = &c.package
            && let Some(eco) = pkg.ecosystem.as_deref()
            && lookup.has_ecosystem(eco)
        {
            distro_findings(c, pkg, eco, lookup, notes, &mut out);
            continue;
        }
        let Some(version) = c.version.as_deref() else {
            notes.push(format!(
                "{}: no version found, patch level not checked",
                c.name
            ));
            continue;
        };
        let hits = match lookup.affecting("Go", &c.module, version) {
            Ok(h) => h,
            Err(e) => {
                notes.push(format!("{}: advisories not matched: {e}", c.name));
                continue;
            }
        };
        for h in hits {
            let mut ev = vec![format!(
                "{} {version} (Go module {}; API reports {}; binary reports {})",
                c.name,
                c.module,
                c.api_version.as_deref().unwrap_or("-"),
                c.binary_version.as_deref().unwrap_or("-"),
            )];
            if !h.aliases.is_empty() {
                ev.push(format!("aliases: {}", h.aliases.join(", ")));
            }
            let raw = c
                .binary_version
                .as_deref()
                .or(c.api_version.as_deref())
                .unwrap_or("");
            if distribution_build(raw) {
                ev.push(format!(
                    "{raw} is a distribution build: fixes may be backported; check the distribution's advisory"
                ));
            }
            let fixed = if h.fixed.is_empty() {
                "no fixed version".to_string()
            } else {
                format!("fixed in {}", h.fixed.join(", "))
            };
            let mut f = AuditFinding::new(
                &DV101,
                AuditObject::component(&c.name),
                format!(
                    "{} {version}: {} {}({fixed})",
                    c.name,
                    h.id,
                    h.summary
                        .as_deref()
                        .map(|s| format!("{s} "))
                        .unwrap_or_default()
                ),
                ev,
            );
            if h.severity != Severity::Unknown {
                f.finding.severity = h.severity;
            }
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl AdvisoryLookup for Fake {
        fn has_ecosystem(&self, _: &str) -> bool {
            false
        }
        fn affecting(
            &self,
            eco: &str,
            pkg: &str,
            v: &str,
        ) -> Result<Vec<AdvisoryHit>, LookupError> {
            assert_eq!(eco, "Go");
            Ok(if pkg == "github.com/opencontainers/runc" && v == "1.1.5" {
                vec![AdvisoryHit {
                    id: "GO-TEST-0001".into(),
                    aliases: vec![],
                    summary: Some("test".into()),
                    fixed: vec!["1.1.12".into()],
                    severity: Severity::Unknown,
                }]
            } else {
                vec![]
            })
        }
    }

    #[test]
    fn matches_upstream_versions_and_flags_distribution_builds() {
        // The fake stands in for the database here; the real one is exercised by the
        // binary's integration test against the Go vulnerability data.
        let comps = vec![Component {
            name: "runc".into(),
            module: "github.com/opencontainers/runc".into(),
            api_version: Some("1.1.5+ds1".into()),
            binary: None,
            binary_version: None,
            go_version: None,
            version: Some("1.1.5".into()),
            package: None,
        }];
        let mut notes = vec![];
        let f = findings(&comps, &Fake, &mut notes);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule(), "DV101");
        assert_eq!(f[0].severity(), Severity::High);
        assert!(f[0].message().contains("fixed in 1.1.12"));
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.contains("distribution build"))
        );
    }
}
