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
        ("Ubuntu" | "Debian", None) => distro_priority(vector),
        (_, None) => vector.parse().unwrap_or(Severity::Unknown),
    };
    SeverityScore {
        kind: kind.to_string(),
        vector: vector.to_string(),
        score,
        rating,
        provider: None,
    }
}

/// A CVSS score published without its vector (rubysec's `cvss_v3: 7.5`), rated by the
/// score's band in that CVSS version.
pub fn score_only(kind: &str, score: f64, provider: &str) -> SeverityScore {
    let rating = if kind == "CVSS_V2" {
        v2_rating(score)
    } else {
        Severity::from_cvss_score(score)
    };
    SeverityScore {
        kind: kind.to_string(),
        vector: String::new(),
        score: Some(score),
        rating,
        provider: Some(provider.to_string()),
    }
}

/// A distribution's own priority: Ubuntu's (`negligible`, `low`, `medium`, `high`,
/// `critical`, `untriaged`) or Debian's urgency (`unimportant`, `low`, `medium`,
/// `high`, `not yet assigned`, with `*`/`**` marks). `negligible` and `unimportant`
/// are the lowest rating there is, LOW (as Trivy maps them); `untriaged` and
/// `not yet assigned` are no rating.
pub fn distro_priority(p: &str) -> Severity {
    match p
        .trim()
        .trim_end_matches('*')
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "negligible" | "unimportant" | "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        _ => Severity::Unknown,
    }
}

/// A vendor's qualitative rating (`database_specific.severity`, Debian urgency).
pub fn vendor(rating: &str) -> SeverityScore {
    SeverityScore {
        kind: "vendor".to_string(),
        vector: rating.to_string(),
        score: None,
        rating: rating.parse().unwrap_or(Severity::Unknown),
        provider: None,
    }
}

/// CVSS v2 has no "critical": NVD's v2 bands.
fn v2_rating(score: f64) -> Severity {
    Severity::from_cvss_v2_score(score)
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
