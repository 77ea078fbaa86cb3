//! The crate layering of ../shared/ARCHITECTURE.md, checked on `cargo metadata`:
//! every dependency between workspace crates points to a lower layer, and every
//! workspace crate has a layer (a new crate must be placed deliberately).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

fn layer(name: &str) -> Option<u8> {
    Some(match name {
        "moat-model" | "moat-version" | "moat-fs" => 0,
        "moat-image" | "moat-db" | "moat-report" | "moat-engine" => 1,
        "moat-catalog" | "moat-match" | "moat-lint" | "moat-content" | "moat-netseg" => 2,
        "moat-scan" | "moat-audit" | "moat-monitor" => 3,
        "moat" | "moat-server" => 4,
        _ => return None,
    })
}

#[test]
fn workspace_dependencies_point_down() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let Some(from) = layer(name) else {
            violations.push(format!("{name} has no layer in ARCHITECTURE.md"));
            continue;
        };
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            if !dep.starts_with("moat") || d["kind"] == "dev" {
                continue;
            }
            edges.entry(name.into()).or_default().push(dep.into());
            match layer(dep) {
                Some(to) if to < from => {}
                _ => violations.push(format!("{name} (L{from}) depends on {dep}")),
            }
        }
    }
    assert!(edges.len() >= 8, "too few workspace crates seen: {edges:?}");
    assert!(violations.is_empty(), "{violations:#?}");
}
