//! Issue 12's hostile-input suite, one generated case per class, each run as a child
//! process through `common::hostile` (exit code, peak RSS, wall time, no raw control
//! characters, nothing written outside the cache). Cases for images, catalogs, lint and
//! servers live in `hostile_*.rs` beside this file; this file checks the harness itself.
#![allow(clippy::unwrap_used)]

mod common;
use common::hostile::{Case, raw_control};

#[test]
fn a_missing_input_is_rejected_naming_it() {
    let c = Case::new();
    let missing = c.work().join("no-such.tar");
    let o = c.run(&["inspect", &format!("docker-archive:{}", missing.display())]);
    o.assert_rejected("no-such.tar");
}

#[test]
fn the_harness_sees_control_bytes_and_exit_codes() {
    assert_eq!(raw_control(b"ok\n\ttab"), None);
    assert_eq!(raw_control(b"a\x1b[31m"), Some(0x1b));
    assert_eq!(raw_control(b"a\rb"), Some(b'\r'));
    let c = Case::new();
    let o = c.run(&["--no-such-flag"]);
    assert_eq!(o.code, Some(2), "{o:?}");
    assert!(o.max_rss_kib > 100, "a real peak RSS is measured: {o:?}");
}

/// The budgets are flags of every command that opens an image (issue 12): a budget set
/// below what a real image needs refuses it with one line naming the input and the budget.
#[test]
fn budget_flags_reach_the_image_reader() {
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-images/full/docker-archive.tar");
    if !img.exists() {
        panic!("{} missing: run scripts/build-test-images", img.display());
    }
    let src = format!("docker-archive:{}", img.display());
    for (cmd, flag, value, budget) in [
        ("inspect", "--max-path-depth", "3", "max-path-depth"),
        ("sbom", "--max-entries-per-layer", "100", "entries"),
        ("scan", "--max-path-bytes", "20", "max-path-bytes"),
    ] {
        let c = Case::new();
        // scan with the image-config scanner only: no advisory database needed.
        let o = c.run(
            &[cmd, &src, flag, value, "--scanners", "misconfig"]
                [..if cmd == "scan" { 6 } else { 4 }],
        );
        o.assert_rejected("docker-archive.tar");
        assert!(o.stderr().contains(budget), "{cmd} {flag}: {}", o.stderr());
    }
}

/// `--max-file-size` reaches the catalogers: a package database over it is skipped as an
/// unknown naming the file and the budget, and the rest of the image is still listed.
#[test]
fn file_size_budget_skips_a_database_with_an_unknown() {
    let img = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-images/full/docker-archive.tar");
    let src = format!("docker-archive:{}", img.display());
    let c = Case::new();
    let o = c.run(&["sbom", &src, "--format", "json", "--max-file-size", "4K"]);
    o.assert_well_behaved(0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let unknowns = v["unknowns"].as_array().unwrap();
    assert!(
        unknowns
            .iter()
            .any(|u| u["location"]["path"] == "/var/lib/dpkg/status"
                && u["reason"].as_str().unwrap().contains("max_file_bytes")),
        "{unknowns:#?}"
    );
    // Files under the budget are still read: the npm packages' package.json files.
    let pkgs = v["packages"].as_array().unwrap();
    assert!(
        pkgs.iter().any(|p| p["ecosystem"] == "npm"),
        "{}",
        pkgs.len()
    );
    assert!(!pkgs.iter().any(|p| p["ecosystem"] == "deb"));
}
