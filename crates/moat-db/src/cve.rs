//! CVE records: the CVE Program's CVE JSON 5 (`cvelistV5`, CISA's vulnrichment) and
//! NVD's CVE API 2.0 (one record per file, or API response pages). They carry no
//! affected ranges moat can match; they rate: every CVSS vector with who gave it, the
//! CWEs, the dates, and the CISA Known Exploited Vulnerabilities date.

use crate::severity;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The two formats.
pub const CVE_JSON_5: &str = "cve-json-5";
/// NVD CVE API 2.0.
pub const NVD_API_2: &str = "nvd-cve-api-2";

/// Who gave a CVSS vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provider {
    /// The CVE Numbering Authority that published the record (CVE JSON 5 `cna`
    /// container, or an NVD `Secondary` metric from the CNA).
    Cna,
    /// An Authorized Data Publisher (CVE JSON 5 `adp` container, e.g. CISA-ADP).
    Adp,
    /// NVD's own analysis (an NVD `Primary` metric, or a vector another record says
    /// it took from NVD).
    Nvd,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Cna => "cna",
            Provider::Adp => "adp",
            Provider::Nvd => "nvd",
        }
    }
}

/// One CVSS vector of a CVE record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CveMetric {
    pub provider: Provider,
    /// The organisation (`GitHub_M`, `CISA-ADP`, `nvd@nist.gov`, `security@golang.org`).
    pub organisation: String,
    /// `2.0`, `3.0`, `3.1`, `4.0`.
    pub version: String,
    pub vector: String,
    /// The base score computed from the vector (the published score when the vector
    /// does not parse).
    pub score: Option<f64>,
}

/// What one CVE record says (or several, merged by [`CveRecord::merge`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CveRecord {
    pub id: String,
    /// The formats it came from.
    pub formats: Vec<String>,
    /// `PUBLISHED`, `REJECTED` (CVE JSON 5 `state`; NVD `vulnStatus` `Rejected`).
    pub state: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub cwes: Vec<String>,
    /// The date CISA added it to the Known Exploited Vulnerabilities catalog.
    pub kev_added: Option<String>,
    /// Where the KEV date came from (`cisa-adp`, `nvd`).
    pub kev_source: Option<String>,
    pub metrics: Vec<CveMetric>,
}

impl CveRecord {
    /// Merge another record of the same CVE (from another format) into this one.
    pub fn merge(&mut self, other: CveRecord) {
        for f in other.formats {
            if !self.formats.contains(&f) {
                self.formats.push(f);
            }
        }
        self.state = self.state.take().or(other.state);
        self.published = self.published.take().or(other.published);
        self.modified = match (self.modified.take(), other.modified) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for c in other.cwes {
            if !self.cwes.contains(&c) {
                self.cwes.push(c);
            }
        }
        if self.kev_added.is_none() {
            self.kev_added = other.kev_added;
            self.kev_source = other.kev_source;
        }
        for m in other.metrics {
            if !self
                .metrics
                .iter()
                .any(|x| x.provider == m.provider && x.vector == m.vector)
            {
                self.metrics.push(m);
            }
        }
        self.formats.sort();
        self.cwes.sort();
    }
}

/// Why a CVE document was not read.
#[derive(Debug)]
pub(crate) struct Invalid {
    pub id: Option<String>,
    pub reason: String,
}

/// Parse a CVE JSON 5 record.
pub(crate) fn parse_cve5(v: &Value) -> Result<CveRecord, Invalid> {
    let meta = v.get("cveMetadata").ok_or_else(|| Invalid {
        id: None,
        reason: "CVE JSON 5 record without cveMetadata".into(),
    })?;
    let id = meta
        .get("cveId")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| valid_cve_id(s))
        .ok_or_else(|| Invalid {
            id: None,
            reason: "CVE JSON 5 record without a valid cveMetadata.cveId".into(),
        })?
        .to_string();
    let mut rec = CveRecord {
        id: id.clone(),
        formats: vec![CVE_JSON_5.into()],
        state: str_of(meta, "state"),
        published: str_of(meta, "datePublished"),
        modified: str_of(meta, "dateUpdated"),
        ..CveRecord::default()
    };
    let containers = v.get("containers");
    if let Some(cna) = containers.and_then(|c| c.get("cna")) {
        let org = provider_name(cna);
        read_cve5_container(cna, Provider::Cna, &org, &mut rec);
    }
    if let Some(adps) = containers
        .and_then(|c| c.get("adp"))
        .and_then(Value::as_array)
    {
        for adp in adps {
            let org = provider_name(adp);
            read_cve5_container(adp, Provider::Adp, &org, &mut rec);
        }
    }
    rec.cwes.sort();
    rec.cwes.dedup();
    Ok(rec)
}

fn provider_name(container: &Value) -> String {
    container
        .get("providerMetadata")
        .and_then(|p| p.get("shortName").or_else(|| p.get("orgId")))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn read_cve5_container(c: &Value, provider: Provider, org: &str, rec: &mut CveRecord) {
    for m in c
        .get("metrics")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (key, version) in [
            ("cvssV4_0", "4.0"),
            ("cvssV3_1", "3.1"),
            ("cvssV3_0", "3.0"),
            ("cvssV2_0", "2.0"),
        ] {
            if let Some(cv) = m.get(key) {
                push_metric(rec, provider, org, version, cv);
            }
        }
        if let Some(other) = m.get("other")
            && other.get("type").and_then(Value::as_str) == Some("kev")
            && rec.kev_added.is_none()
        {
            let date = other
                .get("content")
                .and_then(|c| c.get("dateAdded"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            rec.kev_added = Some(date);
            rec.kev_source = Some(org.to_ascii_lowercase());
        }
    }
    for pt in c
        .get("problemTypes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for d in pt
            .get("descriptions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(cwe) = d.get("cweId").and_then(Value::as_str) {
                rec.cwes.push(cwe.to_string());
            }
        }
    }
}

/// One CVSS object (`vectorString`, `baseScore`) of version `version`.
fn push_metric(rec: &mut CveRecord, provider: Provider, org: &str, version: &str, cv: &Value) {
    let Some(vector) = cv.get("vectorString").and_then(Value::as_str) else {
        return;
    };
    let kind = match version {
        "2.0" => "CVSS_V2",
        "4.0" => "CVSS_V4",
        _ => "CVSS_V3",
    };
    let parsed = severity::parse(kind, vector);
    let score = parsed
        .score
        .or_else(|| cv.get("baseScore").and_then(Value::as_f64));
    if rec
        .metrics
        .iter()
        .any(|m| m.provider == provider && m.vector == vector)
    {
        return;
    }
    rec.metrics.push(CveMetric {
        provider,
        organisation: org.to_string(),
        version: version.to_string(),
        vector: vector.to_string(),
        score,
    });
}

/// Parse an NVD CVE API 2.0 record (the `cve` object of an API response item, or a
/// file holding one).
pub(crate) fn parse_nvd(v: &Value) -> Result<CveRecord, Invalid> {
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| valid_cve_id(s))
        .ok_or_else(|| Invalid {
            id: None,
            reason: "NVD record without a valid CVE id".into(),
        })?
        .to_string();
    let source_id = str_of(v, "sourceIdentifier").unwrap_or_default();
    let mut rec = CveRecord {
        id,
        formats: vec![NVD_API_2.into()],
        state: str_of(v, "vulnStatus"),
        published: str_of(v, "published"),
        modified: str_of(v, "lastModified"),
        kev_added: str_of(v, "cisaExploitAdd"),
        ..CveRecord::default()
    };
    if rec.kev_added.is_some() {
        rec.kev_source = Some("nvd".into());
    }
    if let Some(metrics) = v.get("metrics").and_then(Value::as_object) {
        for (key, version_hint) in [
            ("cvssMetricV40", "4.0"),
            ("cvssMetricV31", "3.1"),
            ("cvssMetricV30", "3.0"),
            ("cvssMetricV2", "2.0"),
        ] {
            for m in metrics
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let org = m.get("source").and_then(Value::as_str).unwrap_or("");
                let primary = m.get("type").and_then(Value::as_str) == Some("Primary");
                // NVD lists its own analysis as Primary; a Secondary metric is the CNA's
                // (its source is the record's `sourceIdentifier`) or another provider's.
                let provider = if primary || org == "nvd@nist.gov" {
                    Provider::Nvd
                } else if org == source_id {
                    Provider::Cna
                } else {
                    Provider::Adp
                };
                if let Some(cv) = m.get("cvssData") {
                    let version = cv
                        .get("version")
                        .and_then(Value::as_str)
                        .unwrap_or(version_hint)
                        .to_string();
                    push_metric(&mut rec, provider, org, &version, cv);
                }
            }
        }
    }
    for w in v
        .get("weaknesses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for d in w
            .get("description")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(cwe) = d.get("value").and_then(Value::as_str)
                && cwe.starts_with("CWE-")
            {
                rec.cwes.push(cwe.to_string());
            }
        }
    }
    rec.cwes.sort();
    rec.cwes.dedup();
    Ok(rec)
}

/// The records of an NVD CVE API 2.0 response page (`vulnerabilities[].cve`).
pub(crate) fn nvd_page(v: &Value) -> Vec<Result<CveRecord, Invalid>> {
    v.get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| match item.get("cve") {
            Some(cve) => parse_nvd(cve),
            None => Err(Invalid {
                id: None,
                reason: "NVD response item without `cve`".into(),
            }),
        })
        .collect()
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `CVE-YYYY-NNNN…`.
pub fn valid_cve_id(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    parts.next() == Some("CVE")
        && parts
            .next()
            .is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .next()
            .is_some_and(|n| n.len() >= 4 && n.len() <= 19 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve5_cna_adp_kev_and_cwe() {
        let v: Value = serde_json::json!({
            "dataType": "CVE_RECORD",
            "cveMetadata": {"cveId": "CVE-2023-3079", "state": "PUBLISHED",
                            "datePublished": "2023-06-05T21:40:06.622Z",
                            "dateUpdated": "2025-01-08T17:31:08.186Z"},
            "containers": {
                "cna": {"providerMetadata": {"shortName": "Chrome"},
                        "metrics": [{"cvssV4_0": {"vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "baseScore": 9.3}}]},
                "adp": [{"providerMetadata": {"shortName": "CISA-ADP"},
                         "metrics": [{"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", "baseScore": 8.8}},
                                     {"other": {"type": "kev", "content": {"dateAdded": "2023-06-07"}}}],
                         "problemTypes": [{"descriptions": [{"cweId": "CWE-843"}]}]}]
            }
        });
        let r = parse_cve5(&v).unwrap();
        assert_eq!(r.id, "CVE-2023-3079");
        assert_eq!(r.kev_added.as_deref(), Some("2023-06-07"));
        assert_eq!(r.kev_source.as_deref(), Some("cisa-adp"));
        assert_eq!(r.cwes, vec!["CWE-843"]);
        assert_eq!(r.metrics.len(), 2);
        assert_eq!(r.metrics[0].provider, Provider::Cna);
        assert_eq!(r.metrics[0].version, "4.0");
        assert_eq!(r.metrics[0].score, Some(9.3));
        assert_eq!(r.metrics[1].provider, Provider::Adp);
        assert_eq!(r.metrics[1].score, Some(8.8));
    }

    #[test]
    fn nvd_primary_secondary_and_kev() {
        let v: Value = serde_json::json!({
            "id": "CVE-2024-0001", "sourceIdentifier": "security@golang.org",
            "vulnStatus": "Analyzed", "cisaExploitAdd": "2024-02-01",
            "metrics": {"cvssMetricV31": [
                {"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", "baseScore": 5.3}},
                {"source": "security@golang.org", "type": "Secondary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8}}
            ]},
            "weaknesses": [{"description": [{"value": "CWE-400"}, {"value": "NVD-CWE-noinfo"}]}]
        });
        let r = parse_nvd(&v).unwrap();
        assert_eq!(r.metrics[0].provider, Provider::Nvd);
        assert_eq!(r.metrics[1].provider, Provider::Cna);
        assert_eq!(r.kev_added.as_deref(), Some("2024-02-01"));
        assert_eq!(r.cwes, vec!["CWE-400"]);
        let page =
            serde_json::json!({"format": "NVD_CVE", "vulnerabilities": [{"cve": v}, {"nope": 1}]});
        let recs = nvd_page(&page);
        assert_eq!(recs.len(), 2);
        assert!(recs[0].is_ok() && recs[1].is_err());
    }

    #[test]
    fn bad_ids_are_refused() {
        assert!(valid_cve_id("CVE-2024-12345"));
        assert!(!valid_cve_id("CVE-24-1"));
        assert!(!valid_cve_id("GHSA-xxxx"));
        assert!(parse_nvd(&serde_json::json!({"id": "x"})).is_err());
        assert!(parse_cve5(&serde_json::json!({"cveMetadata": {}})).is_err());
    }
}
