//! KEV gating, priorities, the baseline and the remediation plan, end to end on real
//! data: PyPI advisories and the CVE records of ../shared/vulndata (CVE-2020-13927 of
//! apache-airflow is in CISA's KEV catalog there), and the `full` test image.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vulndata() -> PathBuf {
    repo().join("../shared/vulndata")
}

fn db() -> PathBuf {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moat.db");
        let out = Command::new(env!("CARGO_BIN_EXE_moat"))
            .args(["db", "import", "--db"])
            .arg(&path)
            .arg(vulndata())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, path)
    })
    .1
    .clone()
}

fn moat(args: &[&str], cache: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .arg("--db")
        .arg(db())
        .env("MOAT_CACHE_DIR", cache)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dist_info(root: &Path, name: &str, version: &str) {
    let d = root.join(format!(
        "usr/lib/python3/dist-packages/{}-{version}.dist-info",
        name.replace('-', "_")
    ));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
    )
    .unwrap();
}

/// Two trees: `a` with requests 2.19.0, `b` with apache-airflow 1.10.10 added.
fn trees(dir: &Path) -> (PathBuf, PathBuf) {
    let a = dir.join("a");
    let b = dir.join("b");
    dist_info(&a, "requests", "2.19.0");
    dist_info(&b, "requests", "2.19.0");
    dist_info(&b, "apache-airflow", "1.10.10");
    (a, b)
}

/// The KEV date of `cve` read straight from the CVE record in vulnrichment/cves.zip.
fn kev_date(cve: &str) -> String {
    let script = format!(
        "import zipfile,json\nz=zipfile.ZipFile({:?})\nfor n in z.namelist():\n  if n.endswith('/{cve}.json'):\n    d=json.loads(z.read(n))\n    for a in d['containers'].get('adp',[]):\n      for m in a.get('metrics',[]):\n        o=m.get('other',{{}})\n        if o.get('type')=='kev': print(o['content']['dateAdded'])\n",
        vulndata()
            .join("vulnrichment/cves.zip")
            .display()
            .to_string()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn fail_on_kev_gates_only_known_exploited_findings_and_they_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (a, b) = trees(dir.path());
    let a_src = format!("rootfs:{}", a.display());
    let b_src = format!("rootfs:{}", b.display());

    let (code, _, err) = moat(&["scan", &a_src, "--fail-on", "kev"], &cache);
    assert_eq!(code, 0, "{err}");
    let (code, json, err) = moat(&["scan", &b_src, "--format", "json"], &cache);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = moat(&["scan", &b_src, "--fail-on", "kev"], &cache);
    assert_eq!(code, 1, "a KEV finding fails --fail-on kev");
    let (code, _, _) = moat(&["scan", &b_src, "--fail-on", "kev,critical"], &cache);
    assert_eq!(code, 1);
    let (code, _, err) = moat(&["scan", &b_src, "--fail-on", "bogus"], &cache);
    assert_eq!(code, 2, "{err}");

    let r: Value = serde_json::from_str(&json).unwrap();
    let kev: Vec<&Value> = r["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v["kev"].is_null())
        .collect();
    assert_eq!(kev.len(), 1, "exactly one finding is in the KEV data");
    assert_eq!(kev[0]["package"]["name"], "apache-airflow");
    assert_eq!(kev[0]["kev"]["cve"], "CVE-2020-13927");
    assert_eq!(
        kev[0]["kev"]["date_added"],
        kev_date("CVE-2020-13927").as_str()
    );

    // Priority: the KEV finding heads the table, whatever its severity.
    let (_, table, _) = moat(&["scan", &b_src], &cache);
    let first_finding = table
        .lines()
        .find(|l| l.contains("PYSEC-") || l.contains("GHSA-"))
        .unwrap();
    assert!(first_finding.contains("KEV"), "{first_finding}");
}

#[test]
fn baseline_marks_new_and_unchanged_and_lists_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (a, b) = trees(dir.path());
    let a_json = dir.path().join("a.json");
    let b_json = dir.path().join("b.json");
    let a_src = format!("rootfs:{}", a.display());
    let b_src = format!("rootfs:{}", b.display());
    let (code, _, err) = moat(
        &["scan", &a_src, "-f", "json", "-o", a_json.to_str().unwrap()],
        &cache,
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = moat(
        &["scan", &b_src, "-f", "json", "-o", b_json.to_str().unwrap()],
        &cache,
    );
    assert_eq!(code, 0, "{err}");

    // Against a: requests' findings are unchanged, airflow's new.
    let (code, json, err) = moat(
        &[
            "scan",
            &b_src,
            "-f",
            "json",
            "--baseline",
            a_json.to_str().unwrap(),
        ],
        &cache,
    );
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&json).unwrap();
    let vulns = r["vulnerabilities"].as_array().unwrap();
    for v in vulns {
        let want = if v["package"]["name"] == "requests" {
            "unchanged"
        } else {
            "new"
        };
        assert_eq!(v["baseline"], want, "{}", v["id"]);
    }
    let new = vulns.iter().filter(|v| v["baseline"] == "new").count();
    assert!(new > 0);
    assert_eq!(r["baseline"]["new"], new);
    assert_eq!(r["baseline"]["fixed"].as_array().unwrap().len(), 0);

    // Gate on new findings only.
    let base = a_json.to_str().unwrap();
    let (code, _, _) = moat(
        &["scan", &b_src, "--baseline", base, "--fail-on-new", "kev"],
        &cache,
    );
    assert_eq!(code, 1);
    let (code, _, _) = moat(
        &["scan", &a_src, "--baseline", base, "--fail-on-new", "low"],
        &cache,
    );
    assert_eq!(code, 0, "nothing new against itself");

    // Back to a, against b: airflow's findings are fixed.
    let (code, json, _) = moat(
        &[
            "scan",
            &a_src,
            "-f",
            "json",
            "--baseline",
            b_json.to_str().unwrap(),
        ],
        &cache,
    );
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(&json).unwrap();
    let fixed = r["baseline"]["fixed"].as_array().unwrap();
    assert_eq!(fixed.len(), new);
    assert!(fixed.iter().all(|f| f["package"] == "apache-airflow"));

    // A file that is not a report is refused, naming it.
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, "{}").unwrap();
    let (code, _, err) = moat(
        &["scan", &a_src, "--baseline", bogus.to_str().unwrap()],
        &cache,
    );
    assert_eq!(code, 2);
    assert!(err.contains("bogus.json"), "{err}");
}

#[test]
fn remediation_plan_on_the_full_image_is_the_smallest_fixing_version() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let img = repo().join("target/test-images/full/docker-archive.tar");
    let report = dir.path().join("full.json");
    let (code, _, err) = moat(
        &[
            "scan",
            &format!("docker-archive:{}", img.display()),
            "-f",
            "json",
            "-o",
            report.to_str().unwrap(),
        ],
        &cache,
    );
    assert_eq!(code, 0, "{err}");
    let out = Command::new("python3")
        .arg(repo().join("crates/moat/tests/oracle/remediation_check.py"))
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("checked"), "{summary}");
}
