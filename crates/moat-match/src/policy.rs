//! User policy applied after matching: the ignore file and OpenVEX documents.
//!
//! Ignore file (YAML), either a list or under an `ignore:` key:
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2023-31484          # required: a vulnerability id or one of its aliases
//!     package: perl               # optional: package or source-package name
//!     path: /usr/bin/perl         # optional: a location path (a trailing `*` is a prefix)
//!     reason: not reachable in our build
//!     expires: 2027-01-31         # optional: stops applying after this day (UTC)
//! ```
//!
//! OpenVEX (<https://github.com/openvex/spec>): statements whose status is
//! `not_affected` or `fixed` suppress a finding of that vulnerability (by id or alias)
//! in a product or subcomponent whose PURL names the package.

use serde::Deserialize;
use std::path::Path;
use time::Date;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

fn perr(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// What the policy needs to know of one finding.
#[derive(Debug, Clone, Copy)]
pub struct FindingRef<'a> {
    pub id: &'a str,
    pub aliases: &'a [String],
    pub package_name: &'a str,
    pub source_name: Option<&'a str>,
    pub purl: &'a str,
    pub paths: &'a [&'a str],
}

impl FindingRef<'_> {
    fn has_id(&self, id: &str) -> bool {
        self.id.eq_ignore_ascii_case(id) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    }
}

pub use moat_model::finding::Suppression;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    pub id: String,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IgnoreDoc {
    Keyed { ignore: Vec<IgnoreRule> },
    List(Vec<IgnoreRule>),
}

/// A parsed ignore file. Expired entries are kept apart and reported.
#[derive(Debug, Clone, Default)]
pub struct IgnoreFile {
    pub source: String,
    pub active: Vec<IgnoreRule>,
    pub expired: Vec<IgnoreRule>,
}

fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).ok()
}

impl IgnoreFile {
    /// Parse `text` (the content of `path`), splitting rules into active and expired
    /// as of `today`.
    pub fn parse(path: &Path, text: &str, today: Date) -> Result<IgnoreFile, PolicyError> {
        let doc: IgnoreDoc = if text.trim().is_empty() {
            IgnoreDoc::List(Vec::new())
        } else {
            serde_saphyr::from_str(text)
                .map_err(|e| perr(path, format!("invalid ignore file: {e}")))?
        };
        let rules = match doc {
            IgnoreDoc::Keyed { ignore } => ignore,
            IgnoreDoc::List(l) => l,
        };
        let mut out = IgnoreFile {
            source: path.display().to_string(),
            ..Default::default()
        };
        for r in rules {
            if r.id.trim().is_empty() {
                return Err(perr(path, "an ignore entry has an empty `id`"));
            }
            match r.expires.as_deref() {
                Some(e) => {
                    let d = parse_date(e).ok_or_else(|| {
                        perr(
                            path,
                            format!("entry {}: `expires: {e}` is not a YYYY-MM-DD date", r.id),
                        )
                    })?;
                    if d < today {
                        out.expired.push(r);
                    } else {
                        out.active.push(r);
                    }
                }
                None => out.active.push(r),
            }
        }
        Ok(out)
    }

    pub fn load(path: &Path, today: Date) -> Result<IgnoreFile, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| perr(path, e.to_string()))?;
        IgnoreFile::parse(path, &text, today)
    }

    /// The first active rule that applies to `f`.
    pub fn check(&self, f: &FindingRef<'_>) -> Option<Suppression> {
        self.active
            .iter()
            .find(|r| rule_applies(r, f))
            .map(|r| Suppression {
                kind: "ignore-file".into(),
                source: self.source.clone(),
                reason: r
                    .reason
                    .clone()
                    .unwrap_or_else(|| format!("ignored: {}", r.id)),
            })
    }
}

fn rule_applies(r: &IgnoreRule, f: &FindingRef<'_>) -> bool {
    if !f.has_id(&r.id) {
        return false;
    }
    if let Some(p) = &r.package
        && p != f.package_name
        && Some(p.as_str()) != f.source_name
        && p != f.purl
    {
        return false;
    }
    if let Some(want) = &r.path {
        let want = want.trim_start_matches('/');
        let hit = f.paths.iter().any(|have| {
            let have = have.trim_start_matches('/');
            match want.strip_suffix('*') {
                Some(prefix) => have.starts_with(prefix),
                None => have == want,
            }
        });
        if !hit {
            return false;
        }
    }
    true
}

// ---- OpenVEX ----

#[derive(Debug, Deserialize)]
struct VexDoc {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    statements: Vec<VexStatementRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum VexVuln {
    Name(String),
    Obj {
        #[serde(default)]
        name: Option<String>,
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum VexProduct {
    Id(String),
    Obj {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        identifiers: Option<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        subcomponents: Vec<VexProduct>,
    },
}

#[derive(Debug, Deserialize)]
struct VexStatementRaw {
    vulnerability: VexVuln,
    #[serde(default)]
    products: Vec<VexProduct>,
    status: String,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    status_notes: Option<String>,
}

/// One suppressing VEX statement, flattened.
#[derive(Debug, Clone)]
pub struct VexStatement {
    pub ids: Vec<String>,
    pub purls: Vec<String>,
    pub status: String,
    pub note: String,
    pub index: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Vex {
    pub source: String,
    pub statements: Vec<VexStatement>,
}

fn product_purls(p: &VexProduct, out: &mut Vec<String>) {
    match p {
        VexProduct::Id(s) => out.push(s.clone()),
        VexProduct::Obj {
            id,
            identifiers,
            subcomponents,
        } => {
            out.extend(id.iter().cloned());
            if let Some(purl) = identifiers
                .as_ref()
                .and_then(|m| m.get("purl"))
                .and_then(|v| v.as_str())
            {
                out.push(purl.to_string());
            }
            for s in subcomponents {
                product_purls(s, out);
            }
        }
    }
}

/// A PURL without qualifiers and subpath, for comparison.
fn purl_core(p: &str) -> &str {
    let p = p.split('#').next().unwrap_or(p);
    p.split('?').next().unwrap_or(p)
}

/// Does the VEX product PURL `want` name the package PURL `have`? A product without a
/// version names every version; qualifiers given in `want` must be present in `have`.
fn purl_matches(want: &str, have: &str) -> bool {
    if !want.starts_with("pkg:") {
        return false;
    }
    let (wc, hc) = (purl_core(want), purl_core(have));
    let core_ok = if wc.contains('@') {
        wc.eq_ignore_ascii_case(hc)
    } else {
        hc.split('@')
            .next()
            .is_some_and(|h| h.eq_ignore_ascii_case(wc))
    };
    if !core_ok {
        return false;
    }
    let quals = |s: &str| -> Vec<String> {
        s.split_once('?')
            .map(|(_, q)| {
                q.split('#')
                    .next()
                    .unwrap_or(q)
                    .split('&')
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let hq = quals(have);
    quals(want).iter().all(|q| hq.contains(q))
}

impl Vex {
    pub fn parse(path: &Path, text: &str) -> Result<Vex, PolicyError> {
        let doc: VexDoc = serde_json::from_str(text)
            .map_err(|e| perr(path, format!("invalid OpenVEX document: {e}")))?;
        let source = doc.id.unwrap_or_else(|| path.display().to_string());
        let mut statements = Vec::new();
        for (index, s) in doc.statements.into_iter().enumerate() {
            let status = s.status.to_ascii_lowercase();
            if !matches!(
                status.as_str(),
                "not_affected" | "fixed" | "affected" | "under_investigation"
            ) {
                return Err(perr(
                    path,
                    format!("statement {index}: unknown status {:?}", s.status),
                ));
            }
            let ids = match s.vulnerability {
                VexVuln::Name(n) => vec![n],
                VexVuln::Obj { name, id, aliases } => {
                    name.into_iter().chain(id).chain(aliases).collect()
                }
            };
            if ids.is_empty() {
                return Err(perr(
                    path,
                    format!("statement {index}: no vulnerability name"),
                ));
            }
            let mut purls = Vec::new();
            for p in &s.products {
                product_purls(p, &mut purls);
            }
            let note = [s.justification, s.impact_statement, s.status_notes]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ");
            statements.push(VexStatement {
                ids,
                purls,
                status,
                note,
                index,
            });
        }
        Ok(Vex { source, statements })
    }

    pub fn load(path: &Path) -> Result<Vex, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| perr(path, e.to_string()))?;
        Vex::parse(path, &text)
    }

    /// The first `not_affected` or `fixed` statement covering `f`.
    pub fn check(&self, f: &FindingRef<'_>) -> Option<Suppression> {
        self.statements
            .iter()
            .filter(|s| s.status == "not_affected" || s.status == "fixed")
            .find(|s| {
                s.ids.iter().any(|i| f.has_id(i)) && s.purls.iter().any(|p| purl_matches(p, f.purl))
            })
            .map(|s| Suppression {
                kind: "vex".into(),
                source: self.source.clone(),
                reason: if s.note.is_empty() {
                    format!("statement {}: {}", s.index, s.status)
                } else {
                    format!("statement {}: {} ({})", s.index, s.status, s.note)
                },
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f<'a>(
        id: &'a str,
        aliases: &'a [String],
        purl: &'a str,
        paths: &'a [&'a str],
    ) -> FindingRef<'a> {
        FindingRef {
            id,
            aliases,
            package_name: "perl",
            source_name: Some("perl"),
            purl,
            paths,
        }
    }

    const PURL: &str = "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64&distro=debian-12";

    #[test]
    fn ignore_rules_match_by_id_alias_package_and_path_and_expire() {
        let today = time::macros::date!(2026 - 11 - 29);
        let text = "ignore:\n  - id: CVE-2023-31484\n    reason: accepted\n  - id: CVE-2020-1\n    package: other\n  - id: CVE-2020-2\n    path: /usr/lib/*\n  - id: CVE-2020-3\n    expires: 2025-01-01\n";
        let ig = IgnoreFile::parse(Path::new("i.yaml"), text, today).unwrap();
        assert_eq!(ig.active.len(), 3);
        assert_eq!(ig.expired.len(), 1);
        let aliases = vec!["CVE-2023-31484".to_string()];
        let hit = ig.check(&f(
            "DEBIAN-CVE-2023-31484",
            &aliases,
            PURL,
            &["/var/lib/dpkg/status"],
        ));
        assert_eq!(hit.unwrap().reason, "accepted");
        assert!(
            ig.check(&f("CVE-2020-1", &[], PURL, &[])).is_none(),
            "package must match"
        );
        assert!(
            ig.check(&f("CVE-2020-2", &[], PURL, &["/usr/lib/x/y"]))
                .is_some()
        );
        assert!(ig.check(&f("CVE-2020-2", &[], PURL, &["/opt/y"])).is_none());
        assert!(
            ig.check(&f("CVE-2020-3", &[], PURL, &[])).is_none(),
            "expired rules stop applying"
        );
    }

    #[test]
    fn bad_ignore_files_are_errors_naming_the_file() {
        let today = time::macros::date!(2026 - 11 - 29);
        let e = IgnoreFile::parse(
            Path::new("x.yaml"),
            "ignore:\n  - id: A\n    expires: soon\n",
            today,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("x.yaml: "), "{e}");
        assert!(IgnoreFile::parse(Path::new("x.yaml"), "ignore: [ {idd: 1} ]", today).is_err());
        assert!(IgnoreFile::parse(Path::new("x.yaml"), ": : :\n\t-", today).is_err());
    }

    #[test]
    fn vex_not_affected_suppresses_matching_purl_only() {
        let doc = r#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.invalid/vex-1",
          "author":"t","timestamp":"2026-01-01T00:00:00Z","version":1,
          "statements":[
            {"vulnerability":{"name":"CVE-2023-31484"},"products":[{"@id":"pkg:deb/debian/perl-base"}],
             "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"},
            {"vulnerability":{"name":"CVE-2023-9"},"products":[{"@id":"pkg:deb/debian/perl-base@1.0"}],"status":"not_affected","justification":"x"},
            {"vulnerability":{"name":"CVE-2023-8"},"products":[{"@id":"pkg:deb/debian/perl-base"}],"status":"affected"}
          ]}"#;
        let vex = Vex::parse(Path::new("v.json"), doc).unwrap();
        let s = vex.check(&f("CVE-2023-31484", &[], PURL, &[])).unwrap();
        assert_eq!(s.source, "https://example.invalid/vex-1");
        assert!(s.reason.contains("vulnerable_code_not_in_execute_path"));
        assert!(
            vex.check(&f("CVE-2023-9", &[], PURL, &[])).is_none(),
            "other version"
        );
        assert!(
            vex.check(&f("CVE-2023-8", &[], PURL, &[])).is_none(),
            "affected does not suppress"
        );
        assert!(Vex::parse(Path::new("v.json"), "{").is_err());
    }
}
