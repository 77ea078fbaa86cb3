//! OSV records (<https://ossf.github.io/osv-schema/>) into [`Advisory`].

use crate::eval::{scheme_of, validate_range};
use crate::model::{Advisory, Affected, Event, Range, RangeKind, Reference, SeverityScore};
use crate::normalize::normalize_name;
use crate::severity;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Record {
    id: String,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    summary: Option<String>,
    details: Option<String>,
    aliases: Option<Vec<String>>,
    upstream: Option<Vec<String>>,
    related: Option<Vec<String>>,
    severity: Option<Vec<OsvSeverity>>,
    affected: Option<Vec<OsvAffected>>,
    references: Option<Vec<OsvReference>>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct OsvReference {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: String,
}

#[derive(Deserialize)]
struct OsvAffected {
    package: Option<OsvPackage>,
    severity: Option<Vec<OsvSeverity>>,
    ranges: Option<Vec<OsvRange>>,
    versions: Option<Vec<String>>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    events: Option<Vec<serde_json::Map<String, Value>>>,
}

/// What parsing one record gave.
pub(crate) struct Parsed {
    pub advisory: Advisory,
    /// GIT ranges seen (counted, not stored).
    pub git_ranges: usize,
}

/// Is this JSON error in the syntax (a broken file) rather than the shape (a
/// well-formed document that is not a valid OSV record)?
pub(crate) fn is_syntax_error(e: &serde_json::Error) -> bool {
    matches!(
        e.classify(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
    )
}

/// A well-formed document that is not a valid advisory: skipped, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub(crate) struct Invalid {
    /// The record's id, when it has one.
    pub id: Option<String>,
    pub reason: String,
}

/// Why one OSV record was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParseError {
    /// Well-formed, not a valid advisory: skip it.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Malformed JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Why an OSV event list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EventError {
    #[error("event {0} must have exactly one key, has {1}")]
    Keys(usize, usize),
    #[error("event {0} is empty")]
    Empty(usize),
    #[error("event {0}: {1} is not a string")]
    NotAString(usize, String),
    #[error("event {0}: unknown event {1:?}")]
    Unknown(usize, String),
}

/// Parse and validate one OSV record.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let rec: Record = match serde_json::from_slice(bytes) {
        Ok(r) => r,
        Err(e) if is_syntax_error(&e) => return Err(ParseError::Json(e)),
        Err(e) => {
            // Name the id when the document has one, so the report can.
            let id = serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string));
            return Err(Invalid {
                id,
                reason: format!("not a valid OSV record: {e}"),
            }
            .into());
        }
    };
    Ok(convert(rec)?)
}

fn convert(rec: Record) -> Result<Parsed, Invalid> {
    let id = rec.id.trim().to_string();
    let fail = |reason: String| Invalid {
        id: Some(id.clone()),
        reason,
    };
    if id.is_empty() {
        return Err(Invalid {
            id: None,
            reason: "empty id".into(),
        });
    }
    let mut severity: Vec<SeverityScore> = rec
        .severity
        .unwrap_or_default()
        .iter()
        .map(|s| severity::parse(&s.kind, &s.score))
        .collect();
    if let Some(v) = vendor_rating(rec.database_specific.as_ref()) {
        severity.push(v);
    }
    // Ubuntu's tracker says whose its CVSS vectors are (`database_specific.cvss[]`
    // `{source: nvd, vector}`): keep the provider so the vector ranks as NVD's.
    if let Some(list) = rec
        .database_specific
        .as_ref()
        .and_then(|d| d.get("cvss"))
        .and_then(Value::as_array)
    {
        for c in list {
            let (Some(src), Some(vec)) = (
                c.get("source").and_then(Value::as_str),
                c.get("vector").and_then(Value::as_str),
            ) else {
                continue;
            };
            for s in severity.iter_mut().filter(|s| s.vector == vec) {
                s.provider = Some(src.to_ascii_lowercase());
            }
        }
    }
    let mut git_ranges = 0;
    let mut affected = Vec::new();
    for (n, a) in rec.affected.unwrap_or_default().into_iter().enumerate() {
        let Some(pkg) = a.package else {
            // Affected entries without a package (pure GIT repos) cannot be matched
            // against packages; count their ranges with the GIT ones.
            git_ranges += a.ranges.as_ref().map_or(0, Vec::len);
            continue;
        };
        if pkg.ecosystem.trim().is_empty() || pkg.name.trim().is_empty() {
            return Err(fail(format!(
                "affected[{n}]: empty package ecosystem or name"
            )));
        }
        let mut ranges = Vec::new();
        for (m, r) in a.ranges.unwrap_or_default().into_iter().enumerate() {
            let kind = match r.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::Semver,
                "GIT" => {
                    git_ranges += 1;
                    continue;
                }
                other => {
                    return Err(fail(format!(
                        "affected[{n}] ({}) range {m}: unknown range type {other:?}",
                        pkg.name
                    )));
                }
            };
            let events = events(r.events.unwrap_or_default())
                .map_err(|e| fail(format!("affected[{n}] ({}) range {m}: {e}", pkg.name)))?;
            let range = Range { kind, events };
            validate_range(scheme_of(&pkg.ecosystem, kind), &range)
                .map_err(|e| fail(format!("affected[{n}] ({}) range {m}: {e}", pkg.name)))?;
            ranges.push(range);
        }
        let mut aff_sev: Vec<SeverityScore> = a
            .severity
            .unwrap_or_default()
            .iter()
            .map(|s| severity::parse(&s.kind, &s.score))
            .collect();
        if let Some(v) = vendor_rating(a.database_specific.as_ref()) {
            aff_sev.push(v);
        }
        aff_sev.extend(published_scores(a.database_specific.as_ref(), &aff_sev));
        affected.push(Affected {
            normalized_name: normalize_name(&pkg.ecosystem, &pkg.name),
            ecosystem: pkg.ecosystem,
            name: pkg.name,
            purl: pkg.purl,
            ranges,
            versions: a.versions.unwrap_or_default(),
            severity: aff_sev,
            database_specific: a.database_specific,
        });
    }
    let references = rec
        .references
        .unwrap_or_default()
        .into_iter()
        .map(|r| Reference {
            kind: r.kind.unwrap_or_else(|| "WEB".into()),
            url: r.url,
        })
        .collect();
    Ok(Parsed {
        advisory: Advisory {
            id,
            source: "osv".into(),
            scope: String::new(),
            modified: rec.modified,
            published: rec.published,
            withdrawn: rec.withdrawn,
            summary: rec.summary,
            details: rec.details,
            aliases: rec.aliases.unwrap_or_default(),
            upstream: rec.upstream.unwrap_or_default(),
            related: rec.related.unwrap_or_default(),
            references,
            severity,
            affected,
        },
        git_ranges,
    })
}

/// A vendor rating in `database_specific.severity` (GHSA: `HIGH`, `MODERATE`, …)
/// or `database_specific.urgency` (Debian).
fn vendor_rating(ds: Option<&Value>) -> Option<SeverityScore> {
    let ds = ds?;
    if let Some(s) = ds.get("severity").and_then(Value::as_str) {
        return Some(severity::vendor(s));
    }
    let urgency = ds.get("urgency").and_then(Value::as_str)?;
    Some(severity::parse("Debian", urgency))
}

/// CVSS scores an affected entry publishes without a vector, when there is no vector
/// of that version already: rubysec's `cvss_v2`/`cvss_v3`/`cvss_v4` (kept by the
/// converter in `database_specific`).
fn published_scores(ds: Option<&Value>, have: &[SeverityScore]) -> Vec<SeverityScore> {
    let Some(ds) = ds else {
        return Vec::new();
    };
    let provider = match ds.get("source").and_then(Value::as_str) {
        Some(s) if s.contains("ruby") => "rubysec",
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (key, kind) in [
        ("cvss_v4", "CVSS_V4"),
        ("cvss_v3", "CVSS_V3"),
        ("cvss_v2", "CVSS_V2"),
    ] {
        let score = match ds.get(key) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        if let Some(score) = score.filter(|s| (0.0..=10.0).contains(s) && *s > 0.0)
            && !have.iter().any(|h| h.kind == kind)
        {
            out.push(severity::score_only(kind, score, provider));
        }
    }
    out
}

fn events(raw: Vec<serde_json::Map<String, Value>>) -> Result<Vec<Event>, EventError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, obj)| {
            if obj.len() != 1 {
                return Err(EventError::Keys(i, obj.len()));
            }
            let Some((k, v)) = obj.into_iter().next() else {
                return Err(EventError::Empty(i));
            };
            let Value::String(v) = v else {
                return Err(EventError::NotAString(i, k));
            };
            Ok(match k.as_str() {
                "introduced" => Event::Introduced(v),
                "fixed" => Event::Fixed(v),
                "last_affected" => Event::LastAffected(v),
                "limit" => Event::Limit(v),
                other => return Err(EventError::Unknown(i, other.to_string())),
            })
        })
        .collect()
}
