//! Times on the command line: RFC 3339 or unix seconds (with an optional fraction).

use crate::StoreError;

/// Reads `s` as RFC 3339 (`2026-12-03T18:00:00Z`, `2026-12-03T18:00:00.5+01:00`) or unix
/// seconds (`1764784800`, `1764784800.25`); returns unix nanoseconds.
pub fn parse_time_arg(s: &str) -> Result<i64, StoreError> {
    let t = s.trim();
    let bad = || StoreError::BadTime(s.to_string());
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
        if secs.is_empty() || secs.len() > 12 || frac.contains('.') {
            return Err(bad());
        }
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let mut frac_ns: i64 = 0;
        for (i, c) in frac.chars().take(9).enumerate() {
            let d = i64::from(c.to_digit(10).ok_or_else(bad)?);
            frac_ns += d * 10_i64.pow(8 - u32::try_from(i).unwrap_or(8));
        }
        return secs
            .checked_mul(1_000_000_000)
            .and_then(|n| n.checked_add(frac_ns))
            .ok_or_else(bad);
    }
    let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())?;
    i64::try_from(dt.unix_timestamp_nanos()).map_err(|_| bad())
}

/// Unix nanoseconds as RFC 3339 UTC with nanoseconds (`2026-12-03T18:00:00.123456789Z`).
pub fn format_rfc3339_ns(ns: i64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns))
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| ns.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms() {
        assert_eq!(parse_time_arg("10").ok(), Some(10_000_000_000));
        assert_eq!(parse_time_arg("10.25").ok(), Some(10_250_000_000));
        assert_eq!(
            parse_time_arg("1970-01-01T00:00:10.5Z").ok(),
            Some(10_500_000_000)
        );
        assert!(parse_time_arg("yesterday").is_err());
        assert!(parse_time_arg("1.2.3").is_err());
        assert_eq!(
            format_rfc3339_ns(10_500_000_000),
            "1970-01-01T00:00:10.500000000Z"
        );
    }
}
