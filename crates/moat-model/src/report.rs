//! The report: one document, sorted, that every renderer in moat-report reads.
//!
//! Findings of every kind keep their own list (so the JSON keeps the field names other
//! tools read: `vulnerabilities`, `misconfigurations`, `ignored`), and all of them can be
//! read through one common header, [`FindingHeader`] (id, kind, severity, title,
//! location, fix, suppression), which the SARIF writer and the summaries use. A new kind
//! of finding adds its list here and its arm in [`Report::findings`].

use crate::content::{FileFinding, IntegrityFinding, MalwareFinding, SecretFinding};
use crate::finding::{Suppression, VulnFinding};
use crate::lint::ConfigFinding;
use crate::{Distro, Package, Severity, Unknown};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    /// RFC 3339; from `SOURCE_DATE_EPOCH` when set.
    pub created: String,
    /// The source as the user wrote it.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    #[serde(default)]
    pub unknowns: Vec<Unknown>,
    /// The inventory's dependency graph (by PURL), when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<crate::graph::Dependency>,
    pub vulnerabilities: Vec<VulnFinding>,
    /// Findings moved aside by the ignore file, VEX or filters, with the reason.
    #[serde(default)]
    pub ignored: Vec<IgnoredFinding>,
    #[serde(default)]
    pub misconfigurations: Vec<ConfigFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malware: Vec<MalwareFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrity: Vec<IntegrityFinding>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Per vulnerable package, the smallest fixing version and the layer that
    /// installed it (see docs/scan.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediations: Vec<crate::remediation::Remediation>,
    /// The comparison with `--baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::remediation::Baseline>,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DbInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "moat".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct ImageSummary {
    pub digest: String,
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub repo_tags: Vec<String>,
    pub layers: Vec<LayerSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct LayerSummary {
    pub diff_id: String,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IgnoredFinding {
    #[serde(flatten)]
    pub finding: VulnFinding,
    pub suppressed_by: Suppression,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct Summary {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown: usize,
    pub total: usize,
    pub ignored: usize,
    pub packages: usize,
    pub misconfigurations: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct DbInfo {
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u64>,
}

impl Report {
    /// Sort every list and recompute the summary, so equal scans render equal bytes.
    pub fn finish(&mut self) {
        self.packages.sort();
        self.packages.dedup();
        self.unknowns.sort();
        self.vulnerabilities.sort_by_key(VulnFinding::sort_key);
        self.ignored.sort_by_key(|i| i.finding.sort_key());
        self.misconfigurations.sort();
        self.secrets.sort();
        self.malware.sort();
        self.files.sort();
        self.integrity.sort();
        self.warnings.sort();
        self.warnings.dedup();
        let mut s = Summary {
            packages: self.packages.len(),
            ignored: self.ignored.len(),
            misconfigurations: self.misconfigurations.len(),
            total: self.vulnerabilities.len(),
            ..Summary::default()
        };
        for v in &self.vulnerabilities {
            match v.severity {
                Severity::Critical => s.critical += 1,
                Severity::High => s.high += 1,
                Severity::Medium => s.medium += 1,
                Severity::Low => s.low += 1,
                Severity::Unknown => s.unknown += 1,
            }
        }
        self.summary = s;
    }

    /// The most severe remaining finding (vulnerability or misconfiguration).
    pub fn max_severity(&self) -> Option<Severity> {
        self.vulnerabilities
            .iter()
            .map(|v| v.severity)
            .chain(self.misconfigurations.iter().map(|m| m.severity))
            .chain(self.secrets.iter().map(|f| f.severity))
            .chain(self.malware.iter().map(|f| f.severity))
            .chain(self.files.iter().map(|f| f.severity))
            .chain(self.integrity.iter().map(|f| f.severity))
            .max()
    }

    /// `created_by` of the layer `diff_id`, when known.
    pub fn layer_created_by(&self, diff_id: &str) -> Option<&str> {
        self.image.as_ref().and_then(|i| {
            i.layers
                .iter()
                .find(|l| l.diff_id == diff_id)
                .map(|l| l.created_by.as_str())
        })
    }
}

/// What kind of finding a [`FindingHeader`] describes. More kinds join in this wave
/// (secret, malware, file, integrity, policy, network, runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FindingKind {
    Vulnerability,
    Misconfiguration,
    Secret,
    Malware,
    File,
    Integrity,
}

pub use crate::location::FindingLocation;

/// The header every finding shares, whatever its kind: what renderers that treat all
/// findings alike (SARIF, summaries, gates) read.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingHeader<'a> {
    /// Advisory id or rule code.
    pub id: &'a str,
    pub kind: FindingKind,
    pub severity: Severity,
    pub title: &'a str,
    pub location: FindingLocation,
    /// Aliases: other ids of the same advisory, peer tools' codes of the same rule.
    pub aliases: Vec<&'a str>,
    /// What fixes it (`upgrade perl to 5.36.0-7+deb12u1`), when known.
    pub fix: Option<String>,
    /// Set for findings moved to `ignored`.
    pub suppression: Option<&'a Suppression>,
}

impl VulnFinding {
    /// This finding's common header.
    pub fn header(&self) -> FindingHeader<'_> {
        FindingHeader {
            id: &self.id,
            kind: FindingKind::Vulnerability,
            severity: self.severity,
            title: &self.title,
            location: FindingLocation {
                path: self.path.clone(),
                layer: self.layer.clone(),
                line: 0,
                column: 0,
            },
            aliases: self.aliases.iter().map(|a| a.as_str()).collect(),
            fix: (!self.fixed_versions.is_empty()).then(|| {
                format!(
                    "upgrade {} to {}",
                    self.package.name,
                    self.fixed_versions.join(" or ")
                )
            }),
            suppression: None,
        }
    }
}

macro_rules! content_header {
    ($t:ty, $kind:expr) => {
        impl $t {
            /// This finding's common header.
            pub fn header(&self) -> FindingHeader<'_> {
                FindingHeader {
                    id: &self.rule,
                    kind: $kind,
                    severity: self.severity,
                    title: &self.title,
                    location: self.location.clone(),
                    aliases: Vec::new(),
                    fix: None,
                    suppression: None,
                }
            }
        }
    };
}

content_header!(SecretFinding, FindingKind::Secret);
content_header!(MalwareFinding, FindingKind::Malware);
content_header!(FileFinding, FindingKind::File);
content_header!(IntegrityFinding, FindingKind::Integrity);

impl ConfigFinding {
    /// This finding's common header.
    pub fn header(&self) -> FindingHeader<'_> {
        FindingHeader {
            id: &self.rule,
            kind: FindingKind::Misconfiguration,
            severity: self.severity,
            title: &self.message,
            location: FindingLocation {
                path: self.path.clone(),
                layer: String::new(),
                line: self.line,
                column: self.column,
            },
            aliases: self.aliases.iter().map(String::as_str).collect(),
            fix: None,
            suppression: None,
        }
    }
}

impl Report {
    /// Every remaining finding (not the ignored ones), through its common header, in
    /// report order: vulnerabilities, then misconfigurations.
    pub fn findings(&self) -> impl Iterator<Item = FindingHeader<'_>> {
        self.vulnerabilities
            .iter()
            .map(VulnFinding::header)
            .chain(self.misconfigurations.iter().map(ConfigFinding::header))
            .chain(self.secrets.iter().map(SecretFinding::header))
            .chain(self.malware.iter().map(MalwareFinding::header))
            .chain(self.files.iter().map(FileFinding::header))
            .chain(self.integrity.iter().map(IntegrityFinding::header))
    }

    /// The ignored findings, each with the suppression that moved it aside.
    pub fn ignored_findings(&self) -> impl Iterator<Item = FindingHeader<'_>> {
        self.ignored.iter().map(|i| FindingHeader {
            suppression: Some(&i.suppressed_by),
            ..i.finding.header()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FixState, MatchDetail, MatcherKind, PackageRef};
    use crate::{Ecosystem, RuleMeta, RuleTarget};

    #[test]
    fn every_finding_reads_through_one_header() {
        let v = VulnFinding {
            id: "DEBIAN-CVE-2023-31484".into(),
            aliases: vec!["CVE-2023-31484".into()],
            package: PackageRef {
                name: "perl-base".into(),
                version: "5.36.0-7".into(),
                ecosystem: Ecosystem::Deb,
                purl: crate::PurlParts::new("deb", Some("debian"), "perl-base", Some("5.36.0-7"))
                    .into(),
                source_name: Some("perl".into()),
                source_version: None,
            },
            path: "/var/lib/dpkg/status".into(),
            layer: "sha256:aa".into(),
            fixed_versions: vec!["5.36.0-7+deb12u1".into()],
            fix_state: FixState::Fixed,
            severity: Severity::High,
            severity_source: String::new(),
            cvss: Vec::new(),
            kev: None,
            baseline: None,
            title: "perl: CPAN.pm does not verify TLS certificates".into(),
            url: String::new(),
            matched_by: MatchDetail {
                matcher: MatcherKind::DpkgSource,
                namespace: "Debian:12".into(),
                searched_name: "perl".into(),
                searched_version: "5.36.0-7".into(),
                constraint: "< 5.36.0-7+deb12u1".into(),
            },
            data_source: "osv:Debian".into(),
            dependency_path: Vec::new(),
        };
        let rule = RuleMeta {
            code: "IC001",
            title: "runs as root",
            severity: Severity::Medium,
            target: RuleTarget::ImageConfig,
            references: &[],
            aliases: &["CIS-DI-0001"],
        };
        let mut r = Report {
            vulnerabilities: vec![v.clone()],
            misconfigurations: vec![rule.finding("config", 0, 0, "USER is root")],
            ignored: vec![IgnoredFinding {
                finding: v,
                suppressed_by: Suppression {
                    kind: "vex".into(),
                    source: "app.openvex.json".into(),
                    reason: "not_affected".into(),
                },
            }],
            ..Default::default()
        };
        r.finish();
        let h: Vec<FindingHeader<'_>> = r.findings().collect();
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].id, h[0].kind, h[0].severity),
            (
                "DEBIAN-CVE-2023-31484",
                FindingKind::Vulnerability,
                Severity::High
            )
        );
        assert_eq!(h[0].location.layer, "sha256:aa");
        assert_eq!(h[0].aliases, vec!["CVE-2023-31484"]);
        assert_eq!(
            h[0].fix.as_deref(),
            Some("upgrade perl-base to 5.36.0-7+deb12u1")
        );
        assert_eq!(
            (h[1].id, h[1].kind),
            ("IC001", FindingKind::Misconfiguration)
        );
        assert_eq!(h[1].aliases, vec!["CIS-DI-0001"]);
        let ig: Vec<FindingHeader<'_>> = r.ignored_findings().collect();
        assert_eq!(ig[0].suppression.map(|s| s.kind.as_str()), Some("vex"));
        assert_eq!(r.summary.high, 1);
        assert_eq!(r.max_severity(), Some(Severity::High));
    }
}
