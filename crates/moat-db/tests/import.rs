//! Import all of ../shared/vulndata (real data) and check the store against the
//! data itself, read independently here.

#![allow(clippy::unwrap_used)] // tests

use moat_db::{Database, Event, Writer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn vulndata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vulndata"
    ))
}

/// Every record of every zip: (ecosystem dir, file name, JSON).
fn zip_records() -> &'static BTreeMap<String, Vec<(String, Value)>> {
    static R: OnceLock<BTreeMap<String, Vec<(String, Value)>>> = OnceLock::new();
    R.get_or_init(|| {
        let mut out = BTreeMap::new();
        for eco in std::fs::read_dir(vulndata().join("osv")).unwrap() {
            let eco = eco.unwrap().path();
            let f = std::fs::File::open(eco.join("all.zip")).unwrap();
            let mut z = zip::ZipArchive::new(f).unwrap();
            let mut v = Vec::new();
            for i in 0..z.len() {
                let mut e = z.by_index(i).unwrap();
                let name = e.name().unwrap().to_string();
                let mut s = String::new();
                e.read_to_string(&mut s).unwrap();
                v.push((name, serde_json::from_str(&s).unwrap()));
            }
            out.insert(eco.file_name().unwrap().to_string_lossy().into_owned(), v);
        }
        out
    })
}

struct Built {
    _dir: tempfile::TempDir,
    path: PathBuf,
    report: moat_db::ImportReport,
}

fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moat.db");
        let t = std::time::Instant::now();
        let mut w = Writer::fresh(&path).unwrap();
        let report = w.import_path(&vulndata()).unwrap();
        w.commit().unwrap();
        eprintln!("imported all of vulndata in {:?}", t.elapsed());
        Built {
            _dir: dir,
            path,
            report,
        }
    })
}

fn db() -> Database {
    Database::open_read_only(&built().path).unwrap()
}

#[test]
fn osv_counts_equal_the_zips() {
    let b = built();
    let skipped_osv = b
        .report
        .skipped
        .iter()
        .filter(|s| s.location.contains("all.zip!"))
        .count();
    let total: usize = zip_records().values().map(Vec::len).sum();
    assert_eq!(
        b.report.stored["osv"] + skipped_osv,
        total,
        "{:?}",
        b.report.skipped
    );
    // Per ecosystem: every record lands under each ecosystem it names.
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    let skipped_ids: BTreeSet<&str> = b
        .report
        .skipped
        .iter()
        .filter_map(|s| s.id.as_deref())
        .collect();
    for recs in zip_records().values() {
        for (_, r) in recs {
            if skipped_ids.contains(r["id"].as_str().unwrap()) {
                continue;
            }
            let ecos: BTreeSet<&str> = r["affected"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a["package"]["ecosystem"].as_str())
                .collect();
            for e in ecos {
                *want.entry(e.to_string()).or_default() += 1;
            }
        }
    }
    let got: BTreeMap<String, usize> = b
        .report
        .ecosystems
        .iter()
        .filter(|(k, _)| !k.starts_with("Alpine:"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(got, want);
    let st = db().status().unwrap();
    assert_eq!(st.sources["osv"] as usize, b.report.stored["osv"]);
    // Git ranges are counted, not stored.
    let git: usize = zip_records()
        .values()
        .flatten()
        .filter(|(_, r)| !skipped_ids.contains(r["id"].as_str().unwrap()))
        .flat_map(|(_, r)| r["affected"].as_array().unwrap().iter())
        .flat_map(|a| a["ranges"].as_array().into_iter().flatten())
        .filter(|r| r["type"] == "GIT")
        .count();
    assert_eq!(b.report.git_ranges, git, "{:?}", b.report.skipped);
}

/// Every entry of the two CVE-record zips is recognised as a CVE record (CVE JSON 5 in
/// vulnrichment, NVD CVE API 2.0 in nvd), never stored as an OSV advisory nor reported as
/// an invalid one.
#[test]
fn cve_records_are_not_read_as_osv() {
    let b = built();
    let count = |rel: &str| {
        let f = std::fs::File::open(vulndata().join(rel)).unwrap();
        let mut z = zip::ZipArchive::new(f).unwrap();
        (0..z.len())
            .filter(|&i| z.by_index(i).unwrap().name().unwrap().ends_with(".json"))
            .count()
    };
    assert_eq!(
        b.report.other_records.get("cve-json-5").copied(),
        Some(count("vulnrichment/cves.zip"))
    );
    assert_eq!(
        b.report.other_records.get("nvd-cve-api-2").copied(),
        Some(count("nvd/cves.zip"))
    );
    assert!(
        !b.report
            .skipped
            .iter()
            .any(|s| s.location.contains("cves.zip!")),
        "{:?}",
        b.report
            .skipped
            .iter()
            .filter(|s| s.location.contains("cves.zip!"))
            .take(3)
            .collect::<Vec<_>>()
    );
    let db = db();
    for id in ["CVE-2023-45287", "CVE-2024-24790"] {
        let advs = db.advisory(id).unwrap();
        assert!(
            advs.iter().all(|a| a.id != id || a.source != "osv"),
            "{id} stored as an OSV advisory of its own"
        );
    }
}

#[test]
fn alpine_counts_equal_the_secdb_files() {
    // One advisory per (file, id); fixing version "0" means "not affected".
    let mut want = 0;
    let root = vulndata().join("alpine-secdb");
    for rel in std::fs::read_dir(&root).unwrap() {
        for f in std::fs::read_dir(rel.unwrap().path()).unwrap() {
            let v: Value =
                serde_json::from_slice(&std::fs::read(f.unwrap().path()).unwrap()).unwrap();
            let mut ids = BTreeSet::new();
            for p in v["packages"].as_array().unwrap() {
                for (fixed, list) in p["pkg"]["secfixes"].as_object().into_iter().flatten() {
                    if fixed == "0" {
                        continue;
                    }
                    for raw in list.as_array().into_iter().flatten() {
                        let first = raw.as_str().unwrap().split_whitespace().find(|t| {
                            t.split_once('-').is_some_and(|(a, b)| {
                                !a.is_empty()
                                    && a.chars().all(|c| c.is_ascii_alphanumeric())
                                    && a.starts_with(|c: char| c.is_ascii_alphabetic())
                                    && !b.is_empty()
                            })
                        });
                        if let Some(id) = first {
                            ids.insert(id.to_string());
                        }
                    }
                }
            }
            want += ids.len();
        }
    }
    let b = built();
    let skipped = b
        .report
        .skipped
        .iter()
        .filter(|s| s.location.contains("alpine-secdb") && s.id.is_some())
        .count();
    assert_eq!(b.report.stored["alpine-secdb"] + skipped, want);
}

#[test]
fn debian_perl_advisories_come_from_the_zip() {
    let recs = &zip_records()["Debian"];
    let by_id: BTreeMap<&str, &Value> = recs
        .iter()
        .map(|(_, r)| (r["id"].as_str().unwrap(), r))
        .collect();
    let db = db();
    let advs = db.advisories_for("Debian:12", "perl").unwrap();
    assert!(advs.len() > 10, "{}", advs.len());
    for a in &advs {
        let r = by_id
            .get(a.id.as_str())
            .unwrap_or_else(|| panic!("{} not in the zip", a.id));
        let entry = r["affected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["package"]["name"] == "perl")
            .unwrap();
        let fixed = entry["ranges"][0]["events"][1]["fixed"].as_str().unwrap();
        assert_eq!(a.affected.len(), 1);
        assert_eq!(
            a.affected[0].ranges[0].events[1],
            Event::Fixed(fixed.to_string())
        );
        assert_eq!(
            a.upstream,
            vec![r["upstream"][0].as_str().unwrap().to_string()]
        );
        assert_eq!(a.details.as_deref(), r["details"].as_str());
    }
    // Sorted by id, and the set equals the zip's.
    let ids: Vec<&str> = advs.iter().map(|a| a.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let want: BTreeSet<&str> = recs
        .iter()
        .filter(|(_, r)| {
            r["affected"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["package"]["name"] == "perl")
        })
        .map(|(_, r)| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), want);
    // A version before every fix is affected by all of them; the vendor source is kept.
    let hits = db
        .affected_advisories("Debian:12", "perl", "5.0-1")
        .unwrap();
    assert_eq!(hits.len(), advs.len());
    assert!(
        advs.iter()
            .all(|a| a.affected[0].database_specific.as_ref().unwrap()["source"].is_string())
    );
}

#[test]
fn withdrawn_are_stored_and_never_matched() {
    let want = zip_records()
        .values()
        .flatten()
        .filter(|(_, r)| r.get("withdrawn").is_some())
        .count();
    let db = db();
    assert_eq!(db.status().unwrap().withdrawn as usize, want);
    let (_, w) = zip_records()["Go"]
        .iter()
        .find(|(_, r)| {
            r.get("withdrawn").is_some()
                && r["affected"][0]["ranges"][0]["events"][0]["introduced"] == "0"
        })
        .expect("a withdrawn Go record from 0");
    let pkg = w["affected"][0]["package"]["name"].as_str().unwrap();
    let id = w["id"].as_str().unwrap();
    assert!(
        db.advisories_for("Go", pkg)
            .unwrap()
            .iter()
            .any(|a| a.id == id && a.withdrawn.is_some())
    );
    let hits = db.affected_advisories("Go", pkg, "0.0.1").unwrap();
    assert!(hits.iter().all(|a| a.id != id));
}

#[test]
fn aliases_and_severity_round_trip() {
    let db = db();
    let mut checked = 0;
    for (_, r) in &zip_records()["crates.io"] {
        let Some(sev) = r["severity"].as_array().and_then(|s| s.first()) else {
            continue;
        };
        let id = r["id"].as_str().unwrap();
        let got: Vec<_> = db
            .advisory(id)
            .unwrap()
            .into_iter()
            .filter(|a| a.source == "osv")
            .collect();
        assert_eq!(got.len(), 1, "{id}");
        let a = &got[0];
        let aliases: Vec<String> = r["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        assert_eq!(a.aliases, aliases);
        assert_eq!(a.severity[0].kind, sev["type"].as_str().unwrap());
        assert_eq!(a.severity[0].vector, sev["score"].as_str().unwrap());
        let score = a.severity[0]
            .score
            .unwrap_or_else(|| panic!("{id}: vector did not parse"));
        assert!((0.0..=10.0).contains(&score));
        assert_eq!(
            a.severity[0].rating,
            moat_model::Severity::from_cvss_score(score)
        );
        checked += 1;
    }
    assert!(checked > 300, "{checked}");
    // PyPI aliases (CVE / GHSA) are kept too.
    let (_, r) = zip_records()["PyPI"]
        .iter()
        .find(|(_, r)| r["aliases"].as_array().is_some_and(|a| a.len() >= 2))
        .unwrap();
    let a = &db.advisory(r["id"].as_str().unwrap()).unwrap()[0];
    assert_eq!(a.aliases.len(), r["aliases"].as_array().unwrap().len());
}

#[test]
fn pypi_names_are_pep503_normalized() {
    let db = db();
    let (_, r) = zip_records()["PyPI"]
        .iter()
        .find(|(_, r)| {
            r["affected"][0]["package"]["name"]
                .as_str()
                .is_some_and(|n| {
                    n.chars()
                        .any(|c| c.is_ascii_uppercase() || c == '_' || c == '.')
                })
        })
        .unwrap();
    let name = r["affected"][0]["package"]["name"].as_str().unwrap();
    let odd = name.to_ascii_uppercase().replace(['-', '.'], "_");
    let ids: Vec<String> = db
        .advisories_for("PyPI", &odd)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert!(
        ids.contains(&r["id"].as_str().unwrap().to_string()),
        "{name} as {odd}: {ids:?}"
    );
}

#[test]
fn alpine_secdb_queries() {
    let db = db();
    let v: Value = serde_json::from_slice(
        &std::fs::read(vulndata().join("alpine-secdb/v3.21/main.json")).unwrap(),
    )
    .unwrap();
    let p = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pkg"]["name"] == "openssl")
        .unwrap();
    let advs = db.advisories_for("Alpine:v3.21", "openssl").unwrap();
    for (fixed, ids) in p["pkg"]["secfixes"].as_object().unwrap() {
        if fixed == "0" {
            continue;
        }
        for id in ids.as_array().unwrap() {
            let id = id.as_str().unwrap().split_whitespace().next().unwrap();
            let a = advs
                .iter()
                .find(|a| a.id == id)
                .unwrap_or_else(|| panic!("{id}"));
            assert!(
                a.affected[0]
                    .ranges
                    .iter()
                    .any(|r| r.events[1] == Event::Fixed(fixed.clone()))
            );
            assert_eq!(a.source, "alpine-secdb");
        }
    }
}

#[test]
fn invalid_advisory_is_reported_and_skipped_whole() {
    let dir = tempfile::tempdir().unwrap();
    // A real Go record with two affected packages; break the second one's range.
    let (_, r) = zip_records()["Go"]
        .iter()
        .find(|(_, r)| r["affected"].as_array().unwrap().len() >= 2 && r.get("withdrawn").is_none())
        .unwrap();
    let good_id = r["id"].as_str().unwrap();
    let mut broken = r.clone();
    broken["id"] = Value::String(format!("{good_id}-BROKEN"));
    broken["affected"][1]["ranges"][0]["events"] = serde_json::json!([{"fixed": "1.0.0"}]);
    let mut bad_key = r.clone();
    bad_key["id"] = Value::String(format!("{good_id}-BADEVENT"));
    bad_key["affected"][0]["ranges"][0]["events"] =
        serde_json::json!([{"introduced": "0", "fixed": "1.0.0"}]);
    std::fs::write(dir.path().join("good.json"), serde_json::to_vec(r).unwrap()).unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        serde_json::to_vec(&broken).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("badevent.json"),
        serde_json::to_vec(&bad_key).unwrap(),
    )
    .unwrap();
    let path = dir.path().join("db/moat.db");
    let mut w = Writer::fresh(&path).unwrap();
    let report = w.import_path(dir.path()).unwrap();
    w.commit().unwrap();
    assert_eq!(report.stored["osv"], 1);
    let ids: Vec<_> = report
        .skipped
        .iter()
        .map(|s| s.id.clone().unwrap())
        .collect();
    assert_eq!(
        ids,
        [format!("{good_id}-BADEVENT"), format!("{good_id}-BROKEN")]
    );
    assert!(
        report.skipped[1].reason.contains("no \"introduced\""),
        "{}",
        report.skipped[1].reason
    );
    assert!(
        report.skipped[0].reason.contains("exactly one key"),
        "{}",
        report.skipped[0].reason
    );
    let db = Database::open_read_only(&path).unwrap();
    assert!(
        db.advisory(&format!("{good_id}-BROKEN"))
            .unwrap()
            .is_empty()
    );
    // Nothing of it half-stored: its first (valid) package has only the good record.
    let pkg = r["affected"][0]["package"]["name"].as_str().unwrap();
    let got: Vec<String> = db
        .advisories_for("Go", pkg)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(got, [good_id]);
}

#[test]
fn malformed_json_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"id\": \"X-1\", \"affected\": [").unwrap();
    let path = dir.path().join("moat.db");
    let mut w = Writer::fresh(&path).unwrap();
    let err = w.import_path(&bad).unwrap_err().to_string();
    assert!(
        err.contains("bad.json") && err.contains("malformed JSON"),
        "{err}"
    );
    drop(w);
    // Nothing was committed: no database appeared, no temporary file is left.
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn reimport_replaces_instead_of_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moat.db");
    let zip = vulndata().join("osv/crates.io/all.zip");
    for _ in 0..2 {
        let mut w = Writer::begin(&path).unwrap();
        w.import_path(&zip).unwrap();
        w.commit().unwrap();
    }
    let st = Database::open_read_only(&path).unwrap().status().unwrap();
    assert_eq!(st.sources["osv"] as usize, zip_records()["crates.io"].len());
    assert_eq!(st.origins.len(), 1);
    assert!(Path::new(&st.origins[0].location).ends_with("crates.io/all.zip"));
}

#[test]
fn debian_matches_agree_with_dpkg() {
    // The installed version of a few packages against every fix: affected exactly
    // when `dpkg --compare-versions installed lt fixed` says so (the real tool).
    if std::process::Command::new("dpkg")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("dpkg not installed; skipping the dpkg differential check");
        return;
    }
    let db = db();
    for (pkg, installed) in [
        ("perl", "5.36.0-7+deb12u1"),
        ("openssl", "3.0.11-1~deb12u2"),
        ("glibc", "2.36-9+deb12u4"),
    ] {
        let all = db.advisories_for("Debian:12", pkg).unwrap();
        assert!(!all.is_empty(), "{pkg}");
        let hits: BTreeSet<String> = db
            .affected_advisories("Debian:12", pkg, installed)
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        for a in &all {
            let Event::Fixed(fixed) = &a.affected[0].ranges[0].events[1] else {
                panic!("{}: Debian ranges are introduced 0, fixed V", a.id);
            };
            let lt = std::process::Command::new("dpkg")
                .args(["--compare-versions", installed, "lt", fixed])
                .status()
                .unwrap()
                .success();
            assert_eq!(
                hits.contains(&a.id),
                lt,
                "{pkg} {installed} vs {} fixed {fixed}",
                a.id
            );
        }
    }
}
