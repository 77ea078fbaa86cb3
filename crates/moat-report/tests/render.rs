//! Renderer tests on a report built in the test. The finding is shaped after a real
//! Debian 12 advisory (DEBIAN-CVE-2023-31484 in perl, see ../shared/vulndata).

#![allow(clippy::unwrap_used)] // tests

use moat_model::finding::{Cvss, FixState, MatchDetail, PackageRef, VulnFinding};
use moat_model::report::{ImageSummary, LayerSummary, Report as ScanReport};
use moat_model::{Ecosystem, Location, Package, Severity};
use moat_report::{html, json, sarif, table};

fn sample() -> ScanReport {
    let pkg = PackageRef {
        name: "perl-base".into(),
        version: "5.36.0-7+deb12u1".into(),
        ecosystem: Ecosystem::Deb,
        purl: moat_model::Purl::parse(
            "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64&distro=debian-12",
        )
        .unwrap(),
        source_name: Some("perl".into()),
        source_version: None,
    };
    let v = VulnFinding {
        id: "DEBIAN-CVE-2023-31484".into(),
        aliases: vec!["CVE-2023-31484".into()],
        package: pkg.clone(),
        path: "/var/lib/dpkg/status".into(),
        layer: "sha256:aaaa".into(),
        fixed_versions: vec!["5.36.0-7+deb12u2".into()],
        fix_state: FixState::Fixed,
        severity: Severity::High,
        severity_source: "nvd:nvd@nist.gov".into(),
        cvss: vec![Cvss {
            source: "nvd:nvd@nist.gov".into(),
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            score: 8.1,
        }],
        kev: None,
        baseline: None,
        title: "CPAN.pm does not verify TLS certificates <script>alert(1)</script>".into(),
        url: "https://security-tracker.debian.org/tracker/CVE-2023-31484".into(),
        matched_by: MatchDetail {
            matcher: moat_model::finding::MatcherKind::DpkgSource,
            namespace: "Debian:12".into(),
            searched_name: "perl".into(),
            searched_version: "5.36.0-7+deb12u1".into(),
            constraint: ">= 0, < 5.36.0-7+deb12u2".into(),
        },
        data_source: "osv:Debian".into(),
        dependency_path: Vec::new(),
    };
    let mut r = ScanReport {
        source: "docker-archive:test.tar".into(),
        image: Some(ImageSummary {
            digest: "sha256:bbbb".into(),
            os: "linux".into(),
            architecture: "amd64".into(),
            repo_tags: vec![],
            layers: vec![LayerSummary {
                diff_id: "sha256:aaaa".into(),
                created_by: "debootstrap --variant=minbase bookworm".into(),
            }],
        }),
        packages: vec![Package {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            ecosystem: Ecosystem::Deb,
            purl: pkg.purl.clone(),
            source_name: Some("perl".into()),
            source_version: None,
            locations: vec![Location {
                path: "/var/lib/dpkg/status".into(),
                layer: Some("sha256:aaaa".into()),
            }],
            licenses: vec![],
            found_by: "dpkg-status".into(),
            cpes: Vec::new(),
        }],
        vulnerabilities: vec![v],
        ..Default::default()
    };
    r.finish();
    r
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let mut out = Vec::new();
    sarif::scan(&sample(), &mut out).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/schemas/sarif-schema-2.1.0.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "DEBIAN-CVE-2023-31484");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert_eq!(
        doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
        "8.1"
    );
}

#[test]
fn json_keeps_the_documented_keys() {
    let mut out = Vec::new();
    json::scan(&sample(), &mut out).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let v = &doc["vulnerabilities"][0];
    for key in [
        "id",
        "aliases",
        "fixed_versions",
        "severity",
        "layer",
        "path",
    ] {
        assert!(!v[key].is_null(), "missing {key}");
    }
    for key in ["name", "version", "ecosystem", "purl"] {
        assert!(!v["package"][key].is_null(), "missing package.{key}");
    }
    assert_eq!(doc["summary"]["high"], 1);
    assert_eq!(doc["packages"][0]["source_name"], "perl");
}

#[test]
fn html_is_self_contained_and_escaped() {
    let mut out = Vec::new();
    html::scan(&sample(), &mut out).unwrap();
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains("DEBIAN-CVE-2023-31484"));
    assert!(
        !s.contains("<script>alert(1)</script>"),
        "titles must be escaped"
    );
    assert!(s.contains("&lt;script&gt;"));
    assert!(!s.contains("src=\"http"), "no external resources");
    assert!(
        !s.contains("href=\"http") || s.matches("href=\"http").count() == 1,
        "only advisory links"
    );
}

#[test]
fn table_groups_by_package_with_layer_and_summary() {
    let mut out = Vec::new();
    table::scan(&sample(), &mut out).unwrap();
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains("HIGH: 1"), "{s}");
    assert!(
        s.contains("perl-base 5.36.0-7+deb12u1 (deb) /var/lib/dpkg/status"),
        "{s}"
    );
    assert!(s.contains("debootstrap --variant=minbase bookworm"), "{s}");
}

/// The one SARIF writer also writes configuration findings (lint, audit): valid against
/// the official schema, with and without results, rules described from the registry.
#[test]
fn config_sarif_is_valid_against_the_official_schema() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/schemas/sarif-schema-2.1.0.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let meta = moat_model::RuleMeta {
        code: "DF001",
        title: "The container runs as root",
        severity: Severity::High,
        target: moat_model::RuleTarget::Dockerfile,
        references: &["CIS-4.1"],
        aliases: &["DL3002"],
    };
    let findings = vec![meta.finding("./Dockerfile", 3, 1, "USER root")];
    let lookup = |code: &str| (code == "DF001").then(|| meta.clone());
    let doc = sarif::config_document("moat-lint", &findings, &lookup);
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "moat-lint");
    assert_eq!(run["results"][0]["ruleId"], "DF001");
    assert_eq!(run["results"][0]["level"], "error");
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Dockerfile"
    );
    let tags = run["tool"]["driver"]["rules"][0]["properties"]["tags"]
        .as_array()
        .unwrap();
    assert!(tags.iter().any(|t| t == "DL3002") && tags.iter().any(|t| t == "CIS-4.1"));
    assert!(validator.is_valid(&sarif::config_document("moat-lint", &[], &lookup)));
}
