//! Trivy's lockfile-parser cases (../shared/fixtures/lockfile-parsers/cases.json) as one
//! table test: for each case of a parser moat implements, the (name, version) set must
//! equal Trivy's. Prints pass counts per parser.
//!
//! Skipped parsers (formats issues 3 and 20 do not ask for): c/conan,
//! conda/environment, dart/pub, frameworks/wordpress, golang/sum, hex/mix,
//! julia/manifest, nodejs/bun, nodejs/packagejson (a manifest of ranges, not
//! versions), nuget/config, nuget/packagesprops, python/pylock, sbt/lockfile, swift/*.
//! Known differences (the cases listed in `KNOWN`) are Trivy parser options or Trivy
//! conventions moat does not copy; each is named with its reason.

#![allow(clippy::unwrap_used)]

use moat_catalog::{conda, dotnet, golang, gradle, node, php, python, ruby, rust};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/lockfile-parsers"
);

/// (parser, case) pairs whose expectation moat deliberately does not meet, and why.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "golang/mod",
        "no replace",
        "a Trivy parser option (replace directives off); moat always applies them",
    ),
    (
        "nodejs/pnpm",
        "archives",
        "a local tarball (`file:`) dependency: no registry version, moat skips it",
    ),
    (
        "nodejs/pnpm",
        "v9",
        "a `link:` workspace package: no registry version, moat skips it",
    ),
    (
        "python/pip",
        "compatible versions",
        "a Trivy option (use a range's lower bound as the version); moat reports pins only",
    ),
];

type Pairs = Vec<(String, String)>;

fn read_text(path: &str) -> String {
    let b = std::fs::read(path).unwrap();
    // requirements_utf16le.txt: pip reads UTF-16 with a BOM; so do we in this harness.
    if b.starts_with(&[0xff, 0xfe]) {
        let u: Vec<u16> = b[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        return String::from_utf16_lossy(&u);
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn parse(parser: &str, path: &str) -> Option<Result<Pairs, String>> {
    let s = read_text(path);
    let three =
        |v: Vec<(String, String, Vec<String>)>| v.into_iter().map(|(n, v, _)| (n, v)).collect();
    Some(match parser {
        "nodejs/npm" => node::parse_package_lock(&s).map_err(|e| e.to_string()),
        "nodejs/yarn" => Ok(node::parse_yarn_lock(&s)),
        "nodejs/pnpm" => node::parse_pnpm_lock(&s).map_err(|e| e.to_string()),
        "python/pip" => Ok(python::parse_requirements(&s)),
        "python/poetry" => python::parse_toml_lock(&s, false).map_err(|e| e.to_string()),
        "python/uv" => python::parse_toml_lock(&s, false).map_err(|e| e.to_string()),
        "python/pipenv" => python::parse_pipfile_lock(&s).map_err(|e| e.to_string()),
        "python/packaging" => python::parse_metadata(&s)
            .map(|(n, v, _)| vec![(n, v)])
            .ok_or_else(|| "no name/version".to_string()),
        "rust/cargo" => rust::parse_cargo_lock(&s).map_err(|e| e.to_string()),
        "golang/mod" => Ok(golang::parse_go_mod(&s)),
        "ruby/bundler" => Ok(ruby::parse_gemfile_lock(&s)),
        "ruby/gemspec" => ruby::parse_gemspec(&s)
            .map(|(n, v, _)| vec![(n, v)])
            .ok_or_else(|| "no name/version".to_string()),
        "php/composer" => php::parse_lock(&s).map(three).map_err(|e| e.to_string()),
        "dotnet/core_deps" => dotnet::parse_deps_json(&s).map_err(|e| e.to_string()),
        "gradle/lockfile" => Ok(gradle::parse_gradle_lockfile(&s)),
        "nuget/lock" => dotnet::parse_packages_lock(&s)
            .map(|v| v.into_iter().map(|(n, v, _)| (n, v)).collect())
            .map_err(|e| e.to_string()),
        "conda/meta" => conda::parse_conda_meta(&s)
            .map(|c| vec![(c.name, c.version)])
            .map_err(|e| e.to_string()),
        _ => return None,
    })
}

fn expected(c: &Value) -> BTreeSet<(String, String)> {
    let list = match &c["packages"] {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o
            .get("Packages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    list.iter()
        .filter_map(|p| {
            Some((
                p.get("Name")?.as_str()?.to_string(),
                p.get("Version")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ))
        })
        .collect()
}

#[test]
fn trivy_lockfile_cases() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIX}/cases.json")).unwrap())
            .unwrap();
    let mut stats: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in &cases {
        let parser = c["parser"].as_str().unwrap();
        let case = c["case"].as_str().unwrap_or("");
        let input = format!("{FIX}/{}", c["input"].as_str().unwrap());
        let Some(got) = parse(parser, &input) else {
            continue;
        };
        let st = stats.entry(parser.to_string()).or_default();
        st.1 += 1;
        let want_error = !c["want_error"].is_null();
        let ok = match (&got, want_error) {
            (Err(_), true) => true,
            (Ok(v), false) => {
                let got: BTreeSet<_> = v.iter().cloned().collect();
                let want = expected(c);
                if got == want {
                    true
                } else {
                    let missing: Vec<_> = want.difference(&got).take(5).collect();
                    let extra: Vec<_> = got.difference(&want).take(5).collect();
                    failures.push(format!(
                        "{parser} / {case}: missing {missing:?}, extra {extra:?}"
                    ));
                    false
                }
            }
            (Ok(_), true) => {
                failures.push(format!("{parser} / {case}: wanted an error"));
                false
            }
            (Err(e), false) => {
                failures.push(format!("{parser} / {case}: error {e}"));
                false
            }
        };
        if ok {
            st.0 += 1;
        }
    }
    for (p, (ok, n)) in &stats {
        println!("{p:20} {ok}/{n}");
    }
    let total: usize = stats.values().map(|s| s.1).sum();
    let passed: usize = stats.values().map(|s| s.0).sum();
    println!("total {passed}/{total}");
    let unexplained: Vec<_> = failures
        .iter()
        .filter(|f| {
            !KNOWN
                .iter()
                .any(|(p, c, _)| f.starts_with(&format!("{p} / {c}:")))
        })
        .collect();
    assert!(unexplained.is_empty(), "{unexplained:#?}");
}
