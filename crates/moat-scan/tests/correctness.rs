//! Issue 5's correctness check: every finding on the `full` test image is explained
//! by ../shared/vulndata, and nothing in the data that applies is missed.
//!
//! The expected set is computed independently by `tests/oracle/expected_findings.py`
//! straight from the data, with the real version tools (`dpkg --compare-versions`,
//! Python `packaging`, node `semver`) and the real package tools (`dpkg-query`,
//! `importlib.metadata`, the Cargo.lock, the Go binary's build info); the scan's
//! findings must equal it both ways.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::process::Command;

fn scan_full() -> moat_scan::ScanReport {
    let img = support::test_images().join("full/docker-archive.tar");
    let cache = tempfile::tempdir().unwrap();
    let opts = moat_scan::ScanOptions {
        image: moat_image::OpenOptions::new(cache.path()),
        scanners: moat_scan::Scanners::default(),
        db_path: support::database(),
        severities: None,
        ignore_unfixed: false,
        ignore_file: None,
        vex: vec![],
        max_db_age_days: u64::MAX,
        use_cache: true,
        now: time::OffsetDateTime::now_utc(),
        offline: false,
        catalog_limits: Default::default(),
    };
    moat_scan::scan(&format!("docker-archive:{}", img.display()), &opts)
        .unwrap()
        .report
}

fn oracle(report: &moat_scan::ScanReport) -> BTreeSet<(String, String, String, String)> {
    let root = support::repo_root();
    let extra = tempfile::NamedTempFile::new().unwrap();
    let lines: String = report
        .packages
        .iter()
        .map(|p| format!("{}\t{}\t{}\n", p.ecosystem, p.name, p.version))
        .collect();
    std::fs::write(extra.path(), lines).unwrap();
    let out = Command::new("python3")
        .arg(root.join("crates/moat-scan/tests/oracle/expected_findings.py"))
        .arg(support::test_images().join("full"))
        .arg(support::vulndata())
        .arg(root.join("target/tools/node/node_modules"))
        .arg(extra.path())
        .output()
        .expect("python3 runs (scripts/install-deps installs packaging and node semver)");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].into(), f[1].into(), f[2].into(), f[3].into())
        })
        .collect()
}

#[test]
fn findings_equal_the_independent_oracle_both_ways() {
    let report = scan_full();
    let got: BTreeSet<(String, String, String, String)> = report
        .vulnerabilities
        .iter()
        .map(|v| {
            (
                v.id.to_string(),
                v.package.ecosystem.to_string(),
                v.package.name.clone(),
                v.package.version.clone(),
            )
        })
        .collect();
    let want = oracle(&report);
    assert!(want.len() > 50, "the oracle found too little: {want:?}");
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed by moat ({}): {missed:#?}\nnot in the oracle ({}): {extra:#?}",
        missed.len(),
        extra.len()
    );
    // Every ecosystem with data contributes.
    for eco in ["deb", "pypi", "cargo", "golang", "npm"] {
        assert!(got.iter().any(|g| g.1 == eco), "no {eco} finding");
    }
}

/// Issue 13: every finding's severity, the class of its source and its KEV date equal
/// what `tests/oracle/expected_ratings.py` computes straight from the OSV zips and the
/// CVE records, by the precedence of docs/scan.md; and every finding with a CVSS vector
/// anywhere in the data is rated.
#[test]
fn ratings_equal_the_independent_oracle() {
    let report = scan_full();
    let json = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(json.path(), serde_json::to_vec(&report).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(support::repo_root().join("crates/moat-scan/tests/oracle/expected_ratings.py"))
        .arg(json.path())
        .arg(support::vulndata())
        .output()
        .expect("python3 runs (scripts/install-deps installs the cvss package)");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let got: Vec<String> = report
        .vulnerabilities
        .iter()
        .map(|v| {
            let class = v.severity_source.split(':').next().unwrap_or("");
            format!(
                "{}\t{}\t{}\t{}\t{}",
                v.id,
                v.package.name,
                v.severity,
                class,
                v.kev.as_ref().map_or("", |k| k.date_added.as_str())
            )
        })
        .collect();
    assert_eq!(got.len(), want.len());
    let diff: Vec<(&String, &String)> = got.iter().zip(&want).filter(|(g, w)| g != w).collect();
    assert!(diff.is_empty(), "moat vs oracle: {diff:#?}");
    let rated = report
        .vulnerabilities
        .iter()
        .filter(|v| v.severity != moat_model::Severity::Unknown)
        .count();
    let with_cvss = report
        .vulnerabilities
        .iter()
        .filter(|v| !v.cvss.is_empty())
        .count();
    assert!(
        rated >= with_cvss,
        "every finding with a CVSS vector is rated"
    );
    eprintln!(
        "ratings: {rated} of {} findings rated ({} UNKNOWN)",
        report.vulnerabilities.len(),
        report.vulnerabilities.len() - rated
    );
}
