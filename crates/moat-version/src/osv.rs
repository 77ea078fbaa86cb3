//! OSV range evaluation (<https://ossf.github.io/osv-schema/#evaluation>) for
//! `ECOSYSTEM` and `SEMVER` ranges: events are sorted by version (`introduced: "0"`
//! first, `limit: "*"` last; equal versions keep their given order), then walked:
//! `introduced` at or below the version turns "affected" on, `fixed` at or below
//! and `last_affected` below turn it off. `limit` events bound the whole range
//! (the version must be below at least one).

use crate::{Scheme, VersionError, compare, validate};
use std::cmp::Ordering;

/// One OSV range event; serialized as OSV writes it (`{"fixed": "1.2.3"}`). The one
/// event type of the project: `moat_db` stores and returns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

fn is_zero_intro(e: &Event) -> bool {
    matches!(e, Event::Introduced(v) if v == "0")
}
fn is_star_limit(e: &Event) -> bool {
    matches!(e, Event::Limit(v) if v == "*")
}

/// Load-time check: at least one `introduced`, and every version parses in `scheme`
/// (`introduced: "0"` and `limit: "*"` are the spec's special values).
pub fn validate_events(scheme: Scheme, events: &[Event]) -> Result<(), VersionError> {
    if !events.iter().any(|e| matches!(e, Event::Introduced(_))) {
        return Err(VersionError::new(
            scheme,
            "",
            "range has no \"introduced\" event",
        ));
    }
    for e in events {
        if is_zero_intro(e) || is_star_limit(e) {
            continue;
        }
        validate(scheme, e.version())?;
    }
    Ok(())
}

/// Whether `version` is inside the range described by `events`.
pub fn affected(scheme: Scheme, events: &[Event], version: &str) -> Result<bool, VersionError> {
    Range::new(scheme, events)?.affected(version)
}

/// A validated range with its events sorted once, for evaluating many versions.
#[derive(Debug, Clone)]
pub struct Range {
    scheme: Scheme,
    sorted: Vec<Event>,
}

impl Range {
    /// Validate (see [`validate_events`]) and sort the events.
    pub fn new(scheme: Scheme, events: &[Event]) -> Result<Range, VersionError> {
        validate_events(scheme, events)?;
        let mut sorted = events.to_vec();
        // every version was validated above, so comparisons cannot fail here
        sorted.sort_by(|e, f| {
            match (
                is_zero_intro(e),
                is_zero_intro(f),
                is_star_limit(e),
                is_star_limit(f),
            ) {
                (true, true, _, _) | (_, _, true, true) => Ordering::Equal,
                (true, _, _, _) | (_, _, _, true) => Ordering::Less,
                (_, true, _, _) | (_, _, true, _) => Ordering::Greater,
                _ => compare(scheme, e.version(), f.version()).unwrap_or(Ordering::Equal),
            }
        });
        Ok(Range { scheme, sorted })
    }

    /// The events in evaluation order.
    pub fn events(&self) -> &[Event] {
        &self.sorted
    }

    /// Whether `version` is affected.
    pub fn affected(&self, version: &str) -> Result<bool, VersionError> {
        let scheme = self.scheme;
        validate(scheme, version)?;
        let mut limits = self
            .sorted
            .iter()
            .filter(|e| matches!(e, Event::Limit(_)))
            .peekable();
        if limits.peek().is_some() {
            let mut below = false;
            for l in limits {
                if is_star_limit(l) || compare(scheme, version, l.version())? == Ordering::Less {
                    below = true;
                    break;
                }
            }
            if !below {
                return Ok(false);
            }
        }
        let mut vulnerable = false;
        for e in &self.sorted {
            match e {
                Event::Introduced(v) => {
                    if v == "0" || compare(scheme, version, v)? != Ordering::Less {
                        vulnerable = true;
                    }
                }
                Event::Fixed(v) => {
                    if compare(scheme, version, v)? != Ordering::Less {
                        vulnerable = false;
                    }
                }
                Event::LastAffected(v) => {
                    if compare(scheme, version, v)? == Ordering::Greater {
                        vulnerable = false;
                    }
                }
                Event::Limit(_) => {}
            }
        }
        Ok(vulnerable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(list: &[(&str, &str)]) -> Vec<Event> {
        list.iter()
            .map(|(k, v)| match *k {
                "i" => Event::Introduced(v.to_string()),
                "f" => Event::Fixed(v.to_string()),
                "l" => Event::LastAffected(v.to_string()),
                _ => Event::Limit(v.to_string()),
            })
            .collect()
    }

    #[test]
    fn spec_examples() {
        let s = Scheme::Semver;
        let e = ev(&[("i", "0"), ("f", "1.0.2")]);
        assert!(affected(s, &e, "1.0.1").unwrap());
        assert!(!affected(s, &e, "1.0.2").unwrap());
        // unsorted input, two ranges in one list
        let e = ev(&[("f", "1.2.0"), ("i", "1.1.0"), ("i", "0"), ("f", "1.0.0")]);
        assert!(affected(s, &e, "0.9.0").unwrap());
        assert!(!affected(s, &e, "1.0.5").unwrap());
        assert!(affected(s, &e, "1.1.5").unwrap());
        assert!(!affected(s, &e, "1.2.0").unwrap());
        let e = ev(&[("i", "1.0.0"), ("l", "1.5.0")]);
        assert!(affected(s, &e, "1.5.0").unwrap());
        assert!(!affected(s, &e, "1.5.1").unwrap());
        let e = ev(&[("i", "0"), ("l", "9.0.0"), ("lim", "2.0.0")]);
        assert!(!affected(s, &e, "2.0.0").unwrap());
        assert!(affected(s, &e, "1.9.0").unwrap());
        assert!(validate_events(s, &ev(&[("f", "1.0.0")])).is_err());
        assert!(validate_events(s, &ev(&[("i", "0"), ("f", "not a version")])).is_err());
        let r = Range::new(s, &ev(&[("f", "2.0.0"), ("i", "1.0.0")])).unwrap();
        assert_eq!(r.events()[0], Event::Introduced("1.0.0".into()));
        assert!(r.affected("1.5.0").unwrap());
        assert!(r.affected("junk").is_err());
        assert!(
            affected(
                Scheme::Dpkg,
                &ev(&[("i", "0"), ("f", "1.2-1")]),
                "1.2-1~deb12u1"
            )
            .unwrap()
        );
    }
}
