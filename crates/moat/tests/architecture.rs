//! The crate layering of ../shared/ARCHITECTURE.md, checked on `cargo metadata`:
//! every dependency between workspace crates points to a lower layer, and every
//! workspace crate has a layer (a new crate must be placed deliberately).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

fn layer(name: &str) -> Option<u8> {
    Some(match name {
        // moat-testkit is test support, a dev-dependency only (dev edges are not checked).
        "moat-model" | "moat-version" | "moat-fs" | "moat-testkit" => 0,
        "moat-db" | "moat-report" | "moat-engine" | "moat-store" | "moat-compose" => 1,
        // moat-image reads `docker:` sources through moat-engine's bounded client.
        "moat-image" | "moat-catalog" | "moat-match" | "moat-lint" | "moat-content" => 2,
        "moat-scan" | "moat-audit" | "moat-monitor" | "moat-verify" | "moat-respond"
        | "moat-netseg" => 3,
        // The service runs the L3 plans for its jobs; the binary serves it (`moat serve`).
        "moat-server" => 4,
        "moat" => 5,
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

/// Every `.rs` file under `crates/*/src` (the libraries and the binary, not tests).
fn sources() -> Vec<(String, std::path::PathBuf, String)> {
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for c in std::fs::read_dir(&crates).unwrap().flatten() {
        let name = c.file_name().to_string_lossy().into_owned();
        let src = c.path().join("src");
        let mut stack = vec![src];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    out.push((name.clone(), p, text));
                }
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// The code of a file without its `#[cfg(test)]` module (tests may build anything).
fn non_test(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// SARIF, HTML and tables are written by moat-report only (issue 11): no other crate
/// builds a SARIF log, renders a template or draws a table.
#[test]
fn only_moat_report_renders() {
    let markers = [
        ("sarif-2.1.0", "a SARIF log"),
        ("comfy_table", "a table"),
        ("minijinja", "an HTML template"),
        ("<!DOCTYPE html", "an HTML page"),
        ("<html", "an HTML page"),
    ];
    let mut bad = Vec::new();
    for (krate, path, text) in sources() {
        if krate == "moat-report" {
            continue;
        }
        for (m, what) in markers {
            if non_test(&text).contains(m) {
                bad.push(format!("{} writes {what} ({m:?})", path.display()));
            }
        }
    }
    assert!(bad.is_empty(), "renderers belong in moat-report: {bad:#?}");
}

/// Libraries return typed errors, never `Result<_, String>`, in public APIs, trait
/// methods and private helpers alike (only the binary stringifies errors, through anyhow).
#[test]
fn library_apis_have_typed_errors() {
    let re = regex::Regex::new(r"\bfn\s[^{;]*->\s*Result<[^{;]*,\s*String\s*>").unwrap();
    let mut bad = Vec::new();
    for (krate, path, text) in sources() {
        if krate == "moat" {
            continue;
        }
        let code = non_test(&text);
        for m in re.find_iter(code) {
            let line = code[..m.start()].lines().count() + 1;
            bad.push(format!("{}:{line}", path.display()));
        }
    }
    assert!(
        bad.is_empty(),
        "Result<_, String> in a library API: {bad:#?}"
    );
}

/// No import cycle between the modules of one crate: `crate::a` used in `b` and
/// `crate::b` used in `a` (directly or through others) is a knot to untie.
#[test]
fn no_import_cycles_inside_a_crate() {
    let re = regex::Regex::new(r"crate::([a-z_][a-z0-9_]*)").unwrap();
    let group = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut graphs: BTreeMap<String, BTreeMap<String, std::collections::BTreeSet<String>>> =
        BTreeMap::new();
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (krate, path, text) in sources() {
        let src = crates.join(&krate).join("src");
        let rel = path.strip_prefix(&src).unwrap();
        // The top-level module a file belongs to: `a.rs`, `a/mod.rs`, `a/b.rs` → `a`.
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let g = graphs.entry(krate.clone()).or_default();
        let deps = g.entry(module.clone()).or_default();
        let code = non_test(&text);
        let mut used: Vec<String> = re.captures_iter(code).map(|c| c[1].to_string()).collect();
        // `use crate::{a, b::C, Result}`: each lower-case first segment is a module.
        for c in group.captures_iter(code) {
            for item in c[1].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if first
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_lowercase())
                    && first != "self"
                {
                    used.push(first.to_string());
                }
            }
        }
        for to in used {
            if to != module && to != "self" {
                deps.insert(to);
            }
        }
    }
    let mut cycles = Vec::new();
    for (krate, g) in &graphs {
        for (a, deps) in g {
            for b in deps {
                // Is there a path from b back to a?
                let mut seen = std::collections::BTreeSet::new();
                let mut stack = vec![b.clone()];
                while let Some(n) = stack.pop() {
                    if n == *a {
                        cycles.push(format!("{krate}: {a} -> {b} -> ... -> {a}"));
                        break;
                    }
                    if seen.insert(n.clone())
                        && let Some(next) = g.get(&n)
                    {
                        stack.extend(next.iter().cloned());
                    }
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}
