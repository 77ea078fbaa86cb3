//! OSV evaluation on real data: osv.dev enumerates, in each PyPI record's
//! `affected[].versions`, the releases its own evaluation of the ranges found
//! affected. Every one of them must be affected by `osv::affected` too, except where
//! osv.dev's enumeration departs from the OSV spec's evaluation in one of two known
//! ways, each checked here: it lists the prereleases of an `introduced` version
//! (`3.2a1` for `introduced: 3.2`; PEP 440 orders them below), and it pairs the
//! events of overlapping ranges in their given order where the spec sorts them.
//! Entries with a `GIT` range are skipped (osv.dev adds versions from the commits).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use moat_version::osv::{Event, Range};
use moat_version::{Scheme, compare, pep440};
use std::cmp::Ordering;
use std::io::Read;

fn events(r: &serde_json::Value) -> Vec<Event> {
    let mut out = Vec::new();
    for e in r["events"].as_array().into_iter().flatten() {
        for (k, v) in e.as_object().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default().to_string();
            out.push(match k.as_str() {
                "introduced" => Event::Introduced(v),
                "fixed" => Event::Fixed(v),
                "last_affected" => Event::LastAffected(v),
                _ => Event::Limit(v),
            });
        }
    }
    out
}

/// The converse: a release of the package (named in any PyPI record) that a record
/// does not list must not be affected by that record's ranges, unless it is newer
/// than every version the record lists and the range is open (the list was made
/// before that release existed).
#[test]
fn pypi_unlisted_releases_are_not_affected() {
    let p = common::shared("vulndata/osv/PyPI/all.zip");
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut records = Vec::new();
    let mut releases: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for i in 0..z.len() {
        let mut s = String::new();
        z.by_index(i).unwrap().read_to_string(&mut s).unwrap();
        let j: serde_json::Value = serde_json::from_str(&s).unwrap();
        for a in j["affected"].as_array().into_iter().flatten() {
            let name = a["package"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            let listed: std::collections::BTreeSet<String> = a["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            releases
                .entry(name.clone())
                .or_default()
                .extend(listed.iter().cloned());
            if a["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["type"] == "GIT")
            {
                continue;
            }
            let ranges: Vec<Range> = a["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] == "ECOSYSTEM")
                .filter_map(|r| Range::new(Scheme::Pep440, &events(r)).ok())
                .collect();
            if !ranges.is_empty() && !listed.is_empty() {
                records.push((j["id"].to_string(), name, listed, ranges));
            }
        }
    }
    let (mut checked, mut newer) = (0usize, 0usize);
    let mut bad = Vec::new();
    for (id, name, listed, ranges) in &records {
        let newest = listed
            .iter()
            .filter_map(|v| pep440::Version::parse(v).ok())
            .max();
        for v in &releases[name] {
            if listed.contains(v) {
                continue;
            }
            let Ok(pv) = pep440::Version::parse(v) else {
                continue;
            };
            let hit = ranges.iter().any(|r| r.affected(v).unwrap_or(false));
            checked += 1;
            if hit {
                if newest.as_ref().is_some_and(|n| pv > *n) {
                    newer += 1;
                } else {
                    bad.push(format!("{id} {name}: {v}"));
                }
            }
        }
    }
    println!(
        "pypi: {checked} unlisted releases checked, {newer} newer than the record's list, {} affected by moat but not listed",
        bad.len()
    );
    for b in &bad {
        println!("  stale list: {b}");
    }
    // Inside the ranges (`introduced: 0` with no or a higher `fixed`) but missing
    // from osv.dev's list: ansible 6.7.0, notebook 5.7.14/15 and nvflare 2.0.19 are
    // backport releases published after the record was last modified; paddlepaddle
    // 2.0.0rc0/rc1 are simply absent from its list (not explained by the data).
    // The spec's evaluation says affected for all seven; any other disagreement fails.
    const STALE: [&str; 7] = [
        "\"PYSEC-2020-220\" ansible: 6.7.0",
        "\"PYSEC-2022-180\" notebook: 5.7.14",
        "\"PYSEC-2022-180\" notebook: 5.7.14a0",
        "\"PYSEC-2022-180\" notebook: 5.7.15",
        "\"PYSEC-2022-257\" nvflare: 2.0.19",
        "\"PYSEC-2022-43063\" paddlepaddle: 2.0.0rc0",
        "\"PYSEC-2022-43063\" paddlepaddle: 2.0.0rc1",
    ];
    let unexplained: Vec<&String> = bad
        .iter()
        .filter(|b| !STALE.contains(&b.as_str()))
        .collect();
    assert!(unexplained.is_empty(), "{unexplained:?}");
}

#[test]
fn pypi_enumerated_versions_are_affected() {
    let p = common::shared("vulndata/osv/PyPI/all.zip");
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    let (mut checked, mut skipped_invalid, mut explained_count) = (0usize, 0usize, 0usize);
    let mut bad = Vec::new();
    for i in 0..z.len() {
        let mut s = String::new();
        z.by_index(i).unwrap().read_to_string(&mut s).unwrap();
        let j: serde_json::Value = serde_json::from_str(&s).unwrap();
        for a in j["affected"].as_array().into_iter().flatten() {
            if a["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["type"] == "GIT")
            {
                continue;
            }
            let raw: Vec<Vec<Event>> = a["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] == "ECOSYSTEM")
                .map(events)
                .collect();
            let ranges: Vec<Range> = a["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] == "ECOSYSTEM")
                .filter_map(|r| Range::new(Scheme::Pep440, &events(r)).ok())
                .collect();
            if ranges.is_empty() {
                continue;
            }
            for v in a["versions"].as_array().into_iter().flatten() {
                let v = v.as_str().unwrap();
                let mut hit = false;
                let mut invalid = false;
                for r in &ranges {
                    match r.affected(v) {
                        Ok(true) => hit = true,
                        Ok(false) => {}
                        Err(_) => invalid = true,
                    }
                }
                if invalid && !hit {
                    skipped_invalid += 1;
                    continue;
                }
                checked += 1;
                if !hit {
                    let what = format!("{} {}: {v}", j["id"], a["package"]["name"]);
                    if let Some(why) = explained(&raw, v) {
                        println!("  osv.dev-only: {what} ({why})");
                        explained_count += 1;
                    } else {
                        bad.push(what);
                    }
                }
            }
        }
    }
    println!(
        "pypi: {checked} enumerated versions checked, {explained_count} listed only by osv.dev's enumeration (explained), {} unexplained, {skipped_invalid} not PEP 440",
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{}",
        bad.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Why osv.dev lists `v` although the spec's evaluation does not, if it is one of
/// the two known departures.
fn explained(ranges: &[Vec<Event>], v: &str) -> Option<&'static str> {
    let pv = pep440::Version::parse(v).ok()?;
    for evs in ranges {
        for e in evs {
            if let Event::Introduced(x) = e
                && let Ok(px) = pep440::Version::parse(x)
                && pv.is_prerelease()
                && pv.base() == px.base()
                && pv < px
            {
                return Some("a prerelease of the introduced version");
            }
        }
        // events paired in their given order: [introduced, fixed/last_affected)
        let mut start: Option<&str> = None;
        for e in evs {
            match e {
                Event::Introduced(x) => start = Some(x),
                Event::Fixed(f) | Event::LastAffected(f) => {
                    if let Some(s) = start.take() {
                        let lo = s == "0" || compare(Scheme::Pep440, v, s).ok()? != Ordering::Less;
                        let hi = match e {
                            Event::Fixed(_) => {
                                compare(Scheme::Pep440, v, f).ok()? == Ordering::Less
                            }
                            _ => compare(Scheme::Pep440, v, f).ok()? != Ordering::Greater,
                        };
                        if lo && hi {
                            return Some("overlapping ranges paired in their given order");
                        }
                    }
                }
                Event::Limit(_) => {}
            }
        }
    }
    None
}
