//! OSV range evaluation (<https://ossf.github.io/osv-schema/#evaluation>) and the
//! validation that runs when an advisory is loaded.
//!
//! Written over `moat_version::compare`; when `moat_version::osv` lands this is the
//! one place to switch.

use crate::model::{Affected, Event, Range, RangeKind};
use moat_version::{Scheme, VersionError, compare, validate};
use std::cmp::Ordering;

/// The version scheme a range's versions are written in.
pub fn scheme_of(ecosystem: &str, kind: RangeKind) -> Option<Scheme> {
    match kind {
        RangeKind::Semver => Some(Scheme::Semver),
        RangeKind::Ecosystem => Scheme::from_osv_ecosystem(ecosystem),
    }
}

/// Check a range as loaded: events present, at least one `introduced`, every
/// version valid in the scheme (`introduced: "0"` is the OSV "from the start").
/// `scheme` None (an ecosystem moat has no scheme for) only checks the structure.
pub fn validate_range(scheme: Option<Scheme>, range: &Range) -> Result<(), String> {
    if range.events.is_empty() {
        return Err("range has no events".into());
    }
    if !range
        .events
        .iter()
        .any(|e| matches!(e, Event::Introduced(_)))
    {
        return Err("range has no \"introduced\" event".into());
    }
    for e in &range.events {
        let v = e.version();
        if matches!(e, Event::Introduced(x) if x == "0") {
            continue;
        }
        if let Some(s) = scheme {
            validate(s, v).map_err(|err| err.to_string())?;
        } else if v.trim().is_empty() {
            return Err("empty version in range".into());
        }
    }
    Ok(())
}

/// Sort events by version, `introduced: "0"` first. Events whose versions don't
/// compare stay in their published order relative to each other.
fn sorted_events(scheme: Scheme, events: &[Event]) -> Result<Vec<&Event>, VersionError> {
    let mut v: Vec<&Event> = events.iter().collect();
    // Validate once so the comparator below cannot fail silently.
    for e in &v {
        if !matches!(e, Event::Introduced(x) if x == "0") {
            validate(scheme, e.version())?;
        }
    }
    v.sort_by(|a, b| {
        let za = matches!(a, Event::Introduced(x) if x == "0");
        let zb = matches!(b, Event::Introduced(x) if x == "0");
        match (za, zb) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => compare(scheme, a.version(), b.version()).unwrap_or(Ordering::Equal),
        }
    });
    Ok(v)
}

/// Whether `version` lies inside `range` (the OSV evaluation algorithm).
pub fn range_includes(scheme: Scheme, range: &Range, version: &str) -> Result<bool, VersionError> {
    validate(scheme, version)?;
    let mut vulnerable = false;
    for e in sorted_events(scheme, &range.events)? {
        match e {
            Event::Introduced(i) => {
                if i == "0" || compare(scheme, version, i)? != Ordering::Less {
                    vulnerable = true;
                }
            }
            Event::Fixed(f) | Event::Limit(f) => {
                if compare(scheme, version, f)? != Ordering::Less {
                    vulnerable = false;
                }
            }
            Event::LastAffected(l) => {
                if compare(scheme, version, l)? == Ordering::Greater {
                    vulnerable = false;
                }
            }
        }
    }
    Ok(vulnerable)
}

/// Whether `version` of the package is affected by this entry: listed in
/// `versions`, or inside one of its ranges.
///
/// A range in an ecosystem without a scheme cannot be evaluated and counts as
/// not matching; an invalid `version` is an error.
pub fn affected_by(
    ecosystem: &str,
    ranges: &[Range],
    versions: &[String],
    version: &str,
) -> Result<bool, VersionError> {
    if versions.iter().any(|v| v == version) {
        return Ok(true);
    }
    for r in ranges {
        let Some(scheme) = scheme_of(ecosystem, r.kind) else {
            continue;
        };
        if range_includes(scheme, r, version)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// [`affected_by`] for a full [`Affected`] entry.
pub fn affected_entry(a: &Affected, version: &str) -> Result<bool, VersionError> {
    affected_by(&a.ecosystem, &a.ranges, &a.versions, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(events: Vec<Event>) -> Range {
        Range {
            kind: RangeKind::Semver,
            events,
        }
    }

    #[test]
    fn osv_evaluation() {
        use Event::*;
        let s = Scheme::Semver;
        let one = r(vec![Introduced("0".into()), Fixed("2.0.0".into())]);
        assert!(range_includes(s, &one, "1.0.0").unwrap());
        assert!(!range_includes(s, &one, "2.0.0").unwrap());
        let two = r(vec![
            Introduced("1.0.0".into()),
            Fixed("2.0.0".into()),
            Introduced("3.0.0".into()),
            LastAffected("4.0.0".into()),
        ]);
        assert!(!range_includes(s, &two, "0.0.0").unwrap());
        assert!(range_includes(s, &two, "1.0.0").unwrap());
        assert!(!range_includes(s, &two, "2.0.0").unwrap());
        assert!(range_includes(s, &two, "4.0.0").unwrap());
        assert!(!range_includes(s, &two, "5.0.0").unwrap());
        let open = r(vec![Introduced("3.0.0".into())]);
        assert!(range_includes(s, &open, "9.0.0").unwrap());
    }

    #[test]
    fn validation() {
        use Event::*;
        assert!(validate_range(Some(Scheme::Semver), &r(vec![])).is_err());
        assert!(validate_range(Some(Scheme::Semver), &r(vec![Fixed("1.0.0".into())])).is_err());
        assert!(
            validate_range(
                Some(Scheme::Semver),
                &r(vec![Introduced("0".into()), Fixed(" ".into())])
            )
            .is_err()
        );
        assert!(
            validate_range(
                Some(Scheme::Semver),
                &r(vec![Introduced("0".into()), Fixed("1.0.0".into())])
            )
            .is_ok()
        );
    }
}
