//! Severity statements: CVSS v2, v3.x and v4 vectors parsed into score and rating;
//! vendor ratings kept as published.

use crate::model::SeverityScore;
use moat_model::Severity;
use std::str::FromStr;

/// Parse one OSV `severity` entry (`type`, `score`).
///
/// CVSS types are parsed into a base score and rating; a vector that does not
/// parse keeps `score: None` and `Unknown` (the vector is still stored). Other
/// types (`Ubuntu`) carry a qualitative rating.
pub fn parse(kind: &str, vector: &str) -> SeverityScore {
    let score = match kind {
        "CVSS_V2" => cvss::v2::Vector::from_str(vector.trim_start_matches("CVSS:2.0/"))
            .ok()
            .map(|v| v.score().value()),
        "CVSS_V3" => cvss::v3::Vector::from_str(vector)
            .ok()
            .map(|v| v.score().value()),
        "CVSS_V4" => cvss::v4::Vector::from_str(vector)
            .ok()
            .map(|v| v.score().value()),
        _ => None,
    };
    let rating = match (kind, score) {
        (_, Some(s)) if kind == "CVSS_V2" => v2_rating(s),
        (_, Some(s)) => Severity::from_cvss_score(s),
        ("CVSS_V2" | "CVSS_V3" | "CVSS_V4", None) => Severity::Unknown,
        (_, None) => vector.parse().unwrap_or(Severity::Unknown),
    };
    SeverityScore {
        kind: kind.to_string(),
        vector: vector.to_string(),
        score,
        rating,
    }
}

/// A vendor's qualitative rating (`database_specific.severity`, Debian urgency).
pub fn vendor(rating: &str) -> SeverityScore {
    SeverityScore {
        kind: "vendor".to_string(),
        vector: rating.to_string(),
        score: None,
        rating: rating.parse().unwrap_or(Severity::Unknown),
    }
}

/// CVSS v2 has no "critical": NVD's v2 bands are low < 4, medium < 7, high.
fn v2_rating(score: f64) -> Severity {
    if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v2_v3_v4_and_vendor() {
        let v3 = parse("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!(v3.score, Some(9.8));
        assert_eq!(v3.rating, Severity::Critical);
        let v2 = parse("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P");
        assert_eq!(v2.score, Some(7.5));
        assert_eq!(v2.rating, Severity::High);
        let v4 = parse(
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        );
        assert_eq!(v4.score, Some(9.3));
        assert_eq!(v4.rating, Severity::Critical);
        let bad = parse("CVSS_V3", "CVSS:3.1/garbage");
        assert_eq!((bad.score, bad.rating), (None, Severity::Unknown));
        assert_eq!(parse("Ubuntu", "medium").rating, Severity::Medium);
        assert_eq!(vendor("MODERATE").rating, Severity::Medium);
    }
}
