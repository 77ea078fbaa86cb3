//! OSV range evaluation (<https://ossf.github.io/osv-schema/#evaluation>) and the
//! validation that runs when an advisory is loaded.
//!
//! The evaluation itself is `moat_version::osv::affected` (one implementation for
//! the whole project); this module maps the stored ranges onto it.

use crate::model::{Affected, Event, Range, RangeKind};
use moat_version::{Scheme, VersionError, osv};

/// The version scheme a range's versions are written in.
pub fn scheme_of(ecosystem: &str, kind: RangeKind) -> Option<Scheme> {
    match kind {
        RangeKind::Semver => Some(Scheme::Semver),
        RangeKind::Ecosystem => Scheme::from_osv_ecosystem(ecosystem),
    }
}

/// Why a range was refused when loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    #[error("range has no events")]
    NoEvents,
    #[error("range has no \"introduced\" event")]
    NoIntroduced,
    #[error("empty version in range")]
    EmptyVersion,
    /// A version is not valid in the range's scheme.
    #[error(transparent)]
    Version(#[from] VersionError),
}

/// Check a range as loaded: events present, at least one `introduced`, every
/// version valid in the scheme (`introduced: "0"` is the OSV "from the start").
/// `scheme` None (an ecosystem moat has no scheme for) only checks the structure.
pub fn validate_range(scheme: Option<Scheme>, range: &Range) -> Result<(), RangeError> {
    if range.events.is_empty() {
        return Err(RangeError::NoEvents);
    }
    if !range
        .events
        .iter()
        .any(|e| matches!(e, Event::Introduced(_)))
    {
        return Err(RangeError::NoIntroduced);
    }
    match scheme {
        Some(s) => Ok(osv::validate_events(s, &range.events)?),
        None => {
            if range.events.iter().any(|e| e.version().trim().is_empty()) {
                Err(RangeError::EmptyVersion)
            } else {
                Ok(())
            }
        }
    }
}

/// Whether `version` lies inside `range` (the OSV evaluation algorithm).
pub fn range_includes(scheme: Scheme, range: &Range, version: &str) -> Result<bool, VersionError> {
    osv::affected(scheme, &range.events, version)
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
    fn packagist_ranges_use_composer_versions() {
        use Event::*;
        assert_eq!(
            scheme_of("Packagist", RangeKind::Ecosystem),
            Some(Scheme::Composer)
        );
        let eco = |events| Range {
            kind: RangeKind::Ecosystem,
            events,
        };
        // four-part and patch-level versions, as Packagist advisories write them
        let a = eco(vec![Introduced("0".into()), Fixed("1.9.3.9".into())]);
        let b = eco(vec![Introduced("2.4.0".into()), Fixed("2.4.4-p9".into())]);
        let ranges = [a, b];
        for r in &ranges {
            assert!(validate_range(scheme_of("Packagist", r.kind), r).is_ok());
        }
        let hit = |v| affected_by("Packagist", &ranges, &[], v).unwrap();
        assert!(hit("v1.9.3.8"));
        assert!(!hit("1.9.3.9"));
        assert!(!hit("1.10"));
        assert!(hit("2.4.4"));
        assert!(hit("2.4.4-p8"));
        assert!(!hit("2.4.4-p9"));
        assert!(hit("2.4.0")); // composer: 2.4.0 == 2.4.0.0
        assert!(!hit("2.4.0-RC1"));
        assert!(affected_by("Packagist", &ranges, &[], "not a version").is_err());
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
