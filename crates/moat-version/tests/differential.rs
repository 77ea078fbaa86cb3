//! Differential tests: moat-version against the real tools, on versions taken from
//! the real advisory data (../shared/vulndata) plus generated edge cases. Each
//! oracle runs once per test with every request (scripts/oracles/*); the test fails
//! listing the first disagreements. Counts are printed (`--nocapture`) and recorded
//! in docs/versions.md.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use moat_version::{Constraint, Scheme, Syntax, compare, go, pep440, semver, validate};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Run an oracle once: `input` on stdin, one answer per request line.
fn oracle(mut cmd: Command, requests: &[String]) -> Vec<String> {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run oracle {desc}: {e} (run scripts/install-deps)"));
    let mut stdin = child.stdin.take().unwrap();
    let body: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let writer = std::thread::spawn(move || {
        stdin.write_all(body.as_bytes()).unwrap();
    });
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "oracle {desc} failed: {status}");
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    assert_eq!(lines.len(), requests.len(), "oracle {desc}: answer count");
    lines
}

/// Deterministic PRNG (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, v: &'a [String]) -> &'a String {
        &v[self.below(v.len())]
    }
}

/// Every version string named in an OSV `all.zip` (events and `versions` lists).
fn osv_versions(eco: &str, every: usize) -> Vec<String> {
    let p = common::shared(&format!("vulndata/osv/{eco}/all.zip"));
    let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut out = BTreeSet::new();
    for i in (0..z.len()).step_by(every) {
        let mut e = z.by_index(i).unwrap();
        let mut s = String::new();
        e.read_to_string(&mut s).unwrap();
        let Ok(j) = serde_json::from_str::<serde_json::Value>(&s) else {
            continue;
        };
        for a in j["affected"].as_array().into_iter().flatten() {
            for v in a["versions"].as_array().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    out.insert(v.to_string());
                }
            }
            for r in a["ranges"].as_array().into_iter().flatten() {
                if r["type"] == "GIT" {
                    continue;
                }
                for ev in r["events"].as_array().into_iter().flatten() {
                    for k in ["introduced", "fixed", "last_affected", "limit"] {
                        if let Some(v) = ev[k].as_str()
                            && v != "0"
                            && v != "*"
                        {
                            out.insert(v.to_string());
                        }
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Every version in the Alpine secdb (`secfixes` keys).
fn alpine_versions() -> Vec<String> {
    let root = common::shared("vulndata/alpine-secdb");
    let mut out = BTreeSet::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        for repo in ["main.json", "community.json"] {
            let Ok(s) = std::fs::read_to_string(d.join(repo)) else {
                continue;
            };
            let j: serde_json::Value = serde_json::from_str(&s).unwrap();
            for p in j["packages"].as_array().into_iter().flatten() {
                if let Some(m) = p["pkg"]["secfixes"].as_object() {
                    out.extend(m.keys().cloned());
                }
            }
        }
    }
    out.into_iter().collect()
}

/// `n` pairs: neighbours in sorted order, random pairs, and (v, mutate(v)).
fn pairs(
    vs: &[String],
    n: usize,
    seed: u64,
    mutate: impl Fn(&str, &mut Rng) -> String,
) -> Vec<(String, String)> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for _ in 0..n / 3 {
        let i = rng.below(vs.len().saturating_sub(1));
        out.push((vs[i].clone(), vs[(i + 1).min(vs.len() - 1)].clone()));
    }
    for _ in 0..n / 3 {
        out.push((rng.pick(vs).clone(), rng.pick(vs).clone()));
    }
    while out.len() < n {
        let a = rng.pick(vs).clone();
        let b = mutate(&a, &mut rng);
        if rng.below(2) == 0 {
            out.push((a, b));
        } else {
            out.push((b, a));
        }
    }
    out
}

/// Random short strings over `alphabet` (parser stress: validity must agree).
fn garbage(seed: u64, n: usize, alphabet: &str) -> Vec<String> {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let len = 1 + rng.below(12);
            (0..len).map(|_| chars[rng.below(chars.len())]).collect()
        })
        .collect()
}

fn ord_str(o: std::cmp::Ordering) -> &'static str {
    match o {
        std::cmp::Ordering::Less => "-1",
        std::cmp::Ordering::Equal => "0",
        std::cmp::Ordering::Greater => "1",
    }
}

/// Compare our answers with the oracle's; fail listing the first mismatches.
fn agree(name: &str, requests: &[String], ours: &[String], theirs: &[String]) {
    let bad: Vec<String> = requests
        .iter()
        .zip(ours.iter().zip(theirs))
        .filter(|(_, (o, t))| o != t)
        .map(|(r, (o, t))| format!("  {r:?}: moat {o}, oracle {t}"))
        .collect();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for r in requests {
        let k = r.split('\t').next().unwrap_or("");
        let k = if [
            "cmp", "valid", "spec", "specpre", "sat", "req", "norm", "vc",
        ]
        .contains(&k)
        {
            k
        } else {
            "pair"
        };
        *kinds.entry(k).or_default() += 1;
    }
    println!(
        "{name}: {} requests {kinds:?}, {} agree, {} disagree",
        requests.len(),
        requests.len() - bad.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{name}: {} of {} disagree with the real tool:\n{}",
        bad.len(),
        requests.len(),
        bad.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}

const TAILS: [&str; 12] = [
    "~rc1",
    "~",
    "+b1",
    ".0",
    "a",
    "~~",
    "+dfsg",
    ".1",
    "-1",
    "~beta.2",
    "+really1.0",
    "0",
];

// ---------------------------------------------------------------------------

#[test]
fn dpkg_vs_libapt_and_dpkg() {
    let all = osv_versions("Debian", 1);
    let invalid: Vec<&String> = all
        .iter()
        .filter(|v| validate(Scheme::Dpkg, v).is_err())
        .collect();
    println!(
        "debian: {} distinct versions, invalid: {invalid:?}",
        all.len()
    );
    assert!(
        invalid.is_empty(),
        "Debian data versions moat rejects: {invalid:?}"
    );
    let vs: Vec<String> = all.into_iter().step_by(2).collect();
    assert!(vs.len() > 2000, "only {} Debian versions", vs.len());
    println!("debian: {} distinct valid versions sampled", vs.len());
    let mutate = |v: &str, r: &mut Rng| -> String {
        let m = match r.below(6) {
            0 => format!("{v}{}", TAILS[r.below(TAILS.len())]),
            1 if !v.contains(':') => format!("{}:{v}", r.below(3)),
            2 => v.replacen('.', ".0", 1),
            3 => format!("{v}.{}", "9".repeat(1 + r.below(25))),
            4 => v.replace('-', "~"),
            _ => v.replacen(|c: char| c.is_ascii_digit(), &r.below(10).to_string(), 1),
        };
        if validate(Scheme::Dpkg, &m).is_ok() {
            m
        } else {
            v.to_string()
        }
    };
    let mut ps = pairs(&vs, 4000, 1, mutate);
    // random strings that are valid dpkg versions
    let g: Vec<String> = garbage(21, 6000, "0123456789.+~-:aZz")
        .into_iter()
        .filter(|v| validate(Scheme::Dpkg, v).is_ok())
        .collect();
    ps.extend(
        g.chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].clone(), c[1].clone())),
    );
    let reqs: Vec<String> = ps.iter().map(|(a, b)| format!("{a}\t{b}")).collect();
    let ours: Vec<String> = ps
        .iter()
        .map(|(a, b)| ord_str(compare(Scheme::Dpkg, a, b).unwrap()).to_string())
        .collect();
    let theirs = oracle(
        {
            let mut c = Command::new("/usr/bin/python3");
            c.arg(repo().join("scripts/oracles/dpkg.py"));
            c
        },
        &reqs,
    );
    agree("dpkg (apt_pkg.version_compare)", &reqs, &ours, &theirs);
    // and the dpkg binary itself on a sample (one process per comparison)
    let sample: Vec<usize> = (0..reqs.len()).step_by(20).collect();
    let sreqs: Vec<String> = sample.iter().map(|&i| reqs[i].clone()).collect();
    let sours: Vec<String> = sample.iter().map(|&i| ours[i].clone()).collect();
    let stheirs = oracle(
        {
            let mut c = Command::new("sh");
            c.arg(repo().join("scripts/oracles/dpkg-cli.sh"));
            c
        },
        &sreqs,
    );
    agree("dpkg (dpkg --compare-versions)", &sreqs, &sours, &stheirs);
}

#[test]
fn rpm_vs_rpm() {
    let mut vs = osv_versions("Debian", 16);
    vs.extend(alpine_versions().into_iter().step_by(4));
    for r in common::tsv("rpm_compare.tsv") {
        vs.push(r[0].clone());
        vs.push(r[1].clone());
    }
    for r in common::tsv("grype_compare.tsv") {
        if r[0] == "rpm" {
            vs.push(r[1].clone());
            vs.push(r[2].clone());
        }
    }
    let vs: Vec<String> = vs
        .into_iter()
        .filter(|v| validate(Scheme::Rpm, v).is_ok())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mutate = |v: &str, r: &mut Rng| -> String {
        const T: [&str; 12] = [
            "~rc1",
            "^git1",
            "^",
            "~",
            ".0",
            "a",
            "-1",
            "-2.el9",
            "_1",
            "+b",
            "^20240101git",
            ".el8_9",
        ];
        match r.below(5) {
            0 | 1 => format!("{v}{}", T[r.below(T.len())]),
            2 => format!("{}:{v}", r.below(3)),
            3 => v.replacen('.', ".0", 1),
            _ => v.replacen(
                |c: char| c.is_ascii_digit(),
                &format!("{}", r.below(100)),
                1,
            ),
        }
    };
    let mut ps = pairs(&vs, 4000, 2, mutate);
    // random strings; moat rejects an empty version part (`-1`, `3:`), rpm does not
    let g: Vec<String> = garbage(22, 5000, "0123456789.~^-:_+aZz")
        .into_iter()
        .filter(|v| validate(Scheme::Rpm, v).is_ok())
        .collect();
    ps.extend(
        g.chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].clone(), c[1].clone())),
    );
    let reqs: Vec<String> = ps.iter().map(|(a, b)| format!("{a}\t{b}")).collect();
    let ours: Vec<String> = ps
        .iter()
        .map(|(a, b)| {
            // rpm 4.18's Lua rpm.vercmp parses both sides as EVR too (the raw
            // rpmvercmp is covered by the rpm_compare.tsv table)
            let evr = match compare(Scheme::Rpm, a, b) {
                Ok(o) => ord_str(o),
                Err(_) => "E",
            };
            format!("{evr}\t{evr}")
        })
        .collect();
    let theirs = oracle(
        {
            let mut c = Command::new("sh");
            c.arg(repo().join("scripts/oracles/rpm.sh"));
            c
        },
        &reqs,
    );
    agree("rpm (rpm.vercmp + rpm.ver)", &reqs, &ours, &theirs);
}

#[test]
fn apk_vs_apk_tools() {
    let root = repo().join("target/test-images/alpine/rootfs");
    assert!(
        root.join("sbin/apk").exists(),
        "{} missing: run scripts/build-test-images (the apk oracle is the image's apk-tools)",
        root.display()
    );
    let all = alpine_versions();
    let invalid: Vec<&String> = all
        .iter()
        .filter(|v| validate(Scheme::Apk, v).is_err())
        .collect();
    println!(
        "alpine: {} distinct secfixes versions, invalid: {invalid:?}",
        all.len()
    );
    let vs: Vec<String> = all
        .iter()
        .filter(|v| validate(Scheme::Apk, v).is_ok())
        .cloned()
        .collect();
    // the invalid ones must be invalid for apk-tools too
    let reqs_invalid: Vec<String> = invalid.iter().map(|v| format!("{v}\t{v}")).collect();
    let mutate = |v: &str, r: &mut Rng| -> String {
        const T: [&str; 12] = [
            "_rc1",
            "_alpha",
            "_beta2",
            "_pre1",
            "_p1",
            "_git20240101",
            "_cvs",
            "_svn3",
            "_hg",
            "a",
            ".0",
            "~abc123",
        ];
        let (core, rel) = match v.rsplit_once("-r") {
            Some((c, r)) => (c.to_string(), format!("-r{r}")),
            None => (v.to_string(), String::new()),
        };
        let m = match r.below(5) {
            0 | 1 => format!("{core}{}{rel}", T[r.below(T.len())]),
            2 => format!("{core}-r{}", r.below(20)),
            3 => core.replacen('.', ".0", 1) + &rel,
            _ => format!("{core}.{}{rel}", r.below(1000)),
        };
        if validate(Scheme::Apk, &m).is_ok() {
            m
        } else {
            v.to_string()
        }
    };
    // one apk process per comparison: keep this sample modest
    let ps = pairs(&vs, 2100, 3, mutate);
    let reqs: Vec<String> = ps.iter().map(|(a, b)| format!("{a}\t{b}")).collect();
    let ours: Vec<String> = ps
        .iter()
        .map(|(a, b)| ord_str(compare(Scheme::Apk, a, b).unwrap()).to_string())
        .collect();
    let theirs = oracle(
        {
            let mut c = Command::new("sh");
            c.arg(repo().join("scripts/oracles/apk.sh")).arg(&root);
            c
        },
        &reqs,
    );
    agree("apk (apk version -t)", &reqs, &ours, &theirs);
    if !reqs_invalid.is_empty() {
        let cmd = {
            let mut c = Command::new("sh");
            c.arg(repo().join("scripts/oracles/apk.sh")).arg(&root);
            c
        };
        let theirs = oracle(cmd, &reqs_invalid);
        let ours = vec!["E".to_string(); reqs_invalid.len()];
        agree(
            "apk validity of rejected secdb versions",
            &reqs_invalid,
            &ours,
            &theirs,
        );
    }
}

fn pep440_mutate(v: &str, r: &mut Rng) -> String {
    const T: [&str; 16] = [
        "a1",
        "b2",
        "rc1",
        ".post1",
        "-1",
        ".dev0",
        "+local.1",
        "+ubuntu-2",
        "c3",
        "-alpha",
        ".RC.2",
        "pre",
        "_post",
        "dev",
        ".0",
        "-preview_3",
    ];
    match r.below(5) {
        0 | 1 => format!("{v}{}", T[r.below(T.len())]),
        2 => format!("{}!{v}", r.below(3)),
        3 => format!("v{}", v.to_uppercase()),
        _ => format!("{v}.{}", r.below(1000)),
    }
}

#[test]
fn pep440_vs_packaging() {
    let vs = osv_versions("PyPI", 1);
    let invalid = vs
        .iter()
        .filter(|v| pep440::Version::parse(v).is_err())
        .count();
    println!(
        "pypi: {} distinct version strings, {invalid} not PEP 440",
        vs.len()
    );
    let mut reqs = Vec::new();
    let mut ours = Vec::new();
    // parser: every version string in the PyPI data, valid or not
    for v in &vs {
        reqs.push(format!("valid\t{v}"));
        ours.push(pep440::Version::parse(v).is_ok().to_string());
    }
    for v in garbage(11, 5000, "0123456789.-_+!vVaAbBcrRdeEptlosCP* ") {
        reqs.push(format!("valid\t{v}"));
        ours.push(pep440::Version::parse(&v).is_ok().to_string());
    }
    let valid: Vec<String> = vs
        .iter()
        .filter(|v| pep440::Version::parse(v).is_ok())
        .cloned()
        .collect();
    for (a, b) in pairs(&valid, 6000, 4, pep440_mutate) {
        reqs.push(format!("cmp\t{a}\t{b}"));
        ours.push(match compare(Scheme::Pep440, &a, &b) {
            Ok(o) => ord_str(o).to_string(),
            Err(_) => "E".into(),
        });
    }
    // specifier sets built from real versions
    let mut rng = Rng(5);
    let push_spec =
        |v: &str, set: &str, pre: bool, reqs: &mut Vec<String>, ours: &mut Vec<String>| {
            reqs.push(format!(
                "{}\t{v}\t{set}",
                if pre { "specpre" } else { "spec" }
            ));
            let got = pep440::SpecifierSet::parse(set).and_then(|s| {
                let ver = pep440::Version::parse(v)?;
                Ok(if pre {
                    s.contains_with(&ver, true)
                } else {
                    s.contains(&ver)
                })
            });
            ours.push(match got {
                Ok(b) => b.to_string(),
                Err(_) => "E".into(),
            });
        };
    for _ in 0..6000 {
        let a = rng.pick(&valid).clone();
        let b = rng.pick(&valid).clone();
        let pa = pep440::Version::parse(&a).unwrap();
        let rel: Vec<String> = pa.release.iter().map(ToString::to_string).collect();
        let set = match rng.below(12) {
            0 => format!(">={a}"),
            1 => format!("<{a}"),
            2 => format!("<={a}"),
            3 => format!(">{a}"),
            4 => format!("=={a}"),
            5 => format!("!={a}"),
            6 => format!(
                "~={}",
                if rel.len() >= 2 {
                    a.clone()
                } else {
                    format!("{a}.0")
                }
            ),
            7 => format!("=={}.*", rel[..rel.len().min(2)].join(".")),
            8 => format!("!={}.*", rel[0]),
            9 => format!(">={a},<{b}"),
            10 => format!("==={a}"),
            _ => format!(">= {a} , != {b}"),
        };
        let v = if rng.below(3) == 0 {
            pep440_mutate(&b, &mut rng)
        } else {
            b.clone()
        };
        push_spec(&v, &set, rng.below(4) == 0, &mut reqs, &mut ours);
    }
    // random specifier strings: validity and results must agree too
    for set in garbage(15, 5000, "<>=!~0123456789.*, a+vbrcdpost") {
        let v = rng.pick(&valid).clone();
        push_spec(&v, &set, false, &mut reqs, &mut ours);
    }
    // the fixture rows (including the ones whose expectations are another tool's)
    for r in common::tsv("pep440_specifier.tsv")
        .into_iter()
        .chain(common::tsv("pep440_specifier_prerelease.tsv"))
    {
        push_spec(&r[0], &r[1], false, &mut reqs, &mut ours);
        push_spec(&r[0], &r[1], true, &mut reqs, &mut ours);
    }
    let theirs = oracle(
        {
            let mut c = Command::new("python3");
            c.arg(repo().join("scripts/oracles/pep440.py"));
            c
        },
        &reqs,
    );
    agree("pep440 (python packaging)", &reqs, &ours, &theirs);
}

fn node() -> Command {
    let mut c = Command::new("node");
    c.arg(repo().join("scripts/oracles/semver.js"))
        .env("NODE_PATH", repo().join("target/tools/node/node_modules"));
    c
}

fn semver_mutate(v: &str, r: &mut Rng) -> String {
    const T: [&str; 12] = [
        "-alpha",
        "-alpha.1",
        "-0",
        "-rc.1",
        "-beta.11",
        "-beta.2",
        "+build.5",
        "-x.7.z.92",
        "-alpha.beta",
        "-1",
        "-01",
        "-rc.1+b",
    ];
    let core = v.split(['-', '+']).next().unwrap_or(v);
    match r.below(4) {
        0 | 1 => format!("{core}{}", T[r.below(T.len())]),
        2 => format!("{v}{}", T[r.below(T.len())]),
        _ => core.replacen('.', &format!(".{}", r.below(3)), 1),
    }
}

#[test]
fn semver_order_vs_node() {
    // crates.io and Go (Go's module versions are SemVer 2.0; node is the oracle for
    // their precedence: golang.org/x/mod is not available offline)
    let mut vs = osv_versions("crates.io", 1);
    vs.extend(osv_versions("Go", 2));
    let mut reqs = Vec::new();
    let mut ours = Vec::new();
    for v in &vs {
        reqs.push(format!("valid\t{v}"));
        ours.push(semver::Version::parse(v).is_ok().to_string());
    }
    for v in garbage(12, 5000, "0123456789.-+vV=aZx ") {
        reqs.push(format!("valid\t{v}"));
        ours.push(semver::Version::parse(&v).is_ok().to_string());
    }
    let valid: Vec<String> = vs
        .iter()
        .filter(|v| semver::Version::parse(v).is_ok())
        .cloned()
        .collect();
    for (a, b) in pairs(&valid, 6000, 6, semver_mutate) {
        reqs.push(format!("cmp\t{a}\t{b}"));
        let ok = semver::Version::parse(&a).is_ok() && semver::Version::parse(&b).is_ok();
        ours.push(if ok {
            let s = ord_str(compare(Scheme::Semver, &a, &b).unwrap());
            // Go's ordering must be the same SemVer precedence
            let g = compare(Scheme::Go, &a, &b).map(ord_str);
            assert_eq!(g, Ok(s), "Go vs SemVer order of {a} {b}");
            s.to_string()
        } else {
            "E".into()
        });
    }
    let theirs = oracle(node(), &reqs);
    agree("semver order (node semver)", &reqs, &ours, &theirs);
}

#[test]
fn npm_ranges_vs_node() {
    let vs: Vec<String> = osv_versions("crates.io", 1)
        .into_iter()
        .filter(|v| semver::Version::parse(v).is_ok())
        .collect();
    let mut rng = Rng(7);
    let mut reqs = Vec::new();
    let mut ours = Vec::new();
    let push = |v: &str, r: &str, reqs: &mut Vec<String>, ours: &mut Vec<String>| {
        reqs.push(format!("sat\t{v}\t{r}"));
        let got = Constraint::parse(Syntax::Npm, r).and_then(|c| c.satisfies(v));
        ours.push(match got {
            Ok(b) => b.to_string(),
            Err(_) => "E".into(),
        });
    };
    for _ in 0..6000 {
        let a = rng.pick(&vs).clone();
        let b = rng.pick(&vs).clone();
        let pa = semver::Version::parse(&a).unwrap();
        let (mj, mn) = (pa.major, pa.minor);
        let x = ["x", "X", "*"][rng.below(3)];
        let range = match rng.below(20) {
            0 => format!("^{a}"),
            1 => format!("~{a}"),
            2 => format!(">={a} <{b}"),
            3 => format!("{a} - {b}"),
            4 => format!("{mj}.{x}"),
            5 => format!("{mj}.{mn}.{x}"),
            6 => format!("<={a}"),
            7 => format!(">{a}"),
            8 => format!("={a}"),
            9 => format!("^{mj}.{mn}"),
            10 => format!("~{mj}"),
            11 => format!("{a} || {b}"),
            12 => format!(">={a} <{b} || ^{mj}"),
            13 => format!("^{mj}"),
            14 => format!("~{mj}.{mn}"),
            15 => format!(">= {a}"),
            16 => format!("<{mj}.{mn}"),
            17 => format!(">{mj}"),
            18 => format!("{mj} - {}", semver_mutate(&b, &mut rng)),
            _ => format!("^{}", semver_mutate(&a, &mut rng)),
        };
        let v = match rng.below(3) {
            0 => semver_mutate(&a, &mut rng),
            1 => a.clone(),
            _ => b.clone(),
        };
        push(&v, &range, &mut reqs, &mut ours);
    }
    // random range strings: validity and results must agree too
    for r in garbage(14, 4000, "0123456789.-x*^~<>=| v") {
        let v = rng.pick(&vs).clone();
        push(&v, &r, &mut reqs, &mut ours);
    }
    const PIECES: [&str; 24] = [
        "1", "2.3", "1.2.3", "0.0.1", "x", "*", "1.x", "1.2.X", "^", "~", "~>", ">=", "<", ">",
        "<=", "=", " ", " ", " - ", " || ", "-beta.1", "-0", "+b", "v",
    ];
    let mut structured = 0;
    let mut structured_valid = 0;
    for _ in 0..6000 {
        let n = 1 + rng.below(6);
        let r: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        let v = if rng.below(2) == 0 {
            semver_mutate(rng.pick(&vs), &mut rng)
        } else {
            rng.pick(&vs).clone()
        };
        push(&v, &r, &mut reqs, &mut ours);
        structured += 1;
        structured_valid += usize::from(ours.last().is_some_and(|o| o != "E"));
    }
    println!("npm: {structured} structured random ranges, {structured_valid} valid for moat");
    for f in [
        "npm_constraint.tsv",
        "semver_constraint.tsv",
        "semver_constraint_prerelease.tsv",
        "semver_constraint_prerelease_zeropad.tsv",
    ] {
        for r in common::tsv(f) {
            push(&r[0], &r[1], &mut reqs, &mut ours);
        }
    }
    let theirs = oracle(node(), &reqs);
    agree("npm ranges (node semver.satisfies)", &reqs, &ours, &theirs);
}

fn maven_mutate(v: &str, r: &mut Rng) -> String {
    const T: [&str; 22] = [
        "-SNAPSHOT",
        "-alpha1",
        "-alpha-1",
        ".RELEASE",
        "-sp1",
        "-ga",
        ".final",
        "-cr1",
        "-m1",
        ".0",
        "-1",
        "a",
        "b1",
        "-rc",
        "-RC2",
        "-beta.3",
        "-foo",
        ".Final",
        "-0",
        "..1",
        "-",
        ".0.0-0",
    ];
    match r.below(4) {
        0 | 1 => format!("{v}{}", T[r.below(T.len())]),
        2 => format!("{v}{}{}", T[r.below(T.len())], T[r.below(T.len())]),
        _ => format!(
            "{v}.{}",
            "0".repeat(r.below(3)) + &r.below(10000000000).to_string()
        ),
    }
}

#[test]
fn maven_vs_comparable_version() {
    let mut vs: Vec<String> = osv_versions("crates.io", 2);
    vs.extend(osv_versions("PyPI", 8).into_iter().step_by(3));
    vs.extend(
        osv_versions("Debian", 32)
            .into_iter()
            .filter(|v| !v.contains(':')),
    );
    for r in common::tsv("generic_version_compare.tsv") {
        vs.push(r[0].clone());
        vs.push(r[1].clone());
    }
    let vs: Vec<String> = vs
        .into_iter()
        .filter(|v| validate(Scheme::Maven, v).is_ok())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut ps = pairs(&vs, 5000, 8, maven_mutate);
    let g: Vec<String> = garbage(23, 4000, "0123456789.-abcmrspfinalgRCS_");
    ps.extend(g.chunks(2).map(|c| (c[0].clone(), c[1].clone())));
    let reqs: Vec<String> = ps.iter().map(|(a, b)| format!("{a}\t{b}")).collect();
    let ours: Vec<String> = ps
        .iter()
        .map(|(a, b)| ord_str(compare(Scheme::Maven, a, b).unwrap()).to_string())
        .collect();
    let jar = std::fs::read_dir("/usr/share/maven/lib")
        .expect("maven (Debian package) is needed for the Maven oracle")
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("maven-artifact"))
        })
        .expect("maven-artifact jar");
    let theirs = oracle(
        {
            let mut c = Command::new("java");
            c.arg("-cp")
                .arg(jar)
                .arg(repo().join("scripts/oracles/MavenCmp.java"));
            c
        },
        &reqs,
    );
    agree("maven (ComparableVersion 3.8)", &reqs, &ours, &theirs);
}

fn gem_mutate(v: &str, r: &mut Rng) -> String {
    const T: [&str; 14] = [
        ".a", "-pre", ".rc1", ".0", "b", ".beta.2", "-1", ".pre.1", "a", ".0.0", ".1", ".x",
        "-rc-1", ".b2",
    ];
    match r.below(3) {
        0 | 1 => format!("{v}{}", T[r.below(T.len())]),
        _ => format!(" {v}{} ", T[r.below(T.len())]),
    }
}

#[test]
fn gem_vs_rubygems() {
    let mut vs: Vec<String> = osv_versions("RubyGems", 1);
    vs.extend(osv_versions("PyPI", 4));
    vs.extend(osv_versions("crates.io", 4));
    for r in common::tsv("gem_compare.tsv") {
        vs.push(r[0].clone());
        vs.push(r[1].clone());
    }
    let mut reqs = Vec::new();
    let mut ours = Vec::new();
    for v in &vs {
        reqs.push(format!("valid\t{v}"));
        ours.push(moat_version::gem::Version::parse(v).is_ok().to_string());
    }
    for v in garbage(13, 5000, "0123456789.-_+aAbzZ ") {
        reqs.push(format!("valid\t{v}"));
        ours.push(moat_version::gem::Version::parse(&v).is_ok().to_string());
    }
    let valid: Vec<String> = vs
        .iter()
        .filter(|v| validate(Scheme::Gem, v).is_ok())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (a, b) in pairs(&valid, 4000, 9, gem_mutate) {
        reqs.push(format!("cmp\t{a}\t{b}"));
        ours.push(match compare(Scheme::Gem, &a, &b) {
            Ok(o) => ord_str(o).to_string(),
            Err(_) => "E".into(),
        });
    }
    let mut rng = Rng(10);
    let push = |v: &str, c: &str, reqs: &mut Vec<String>, ours: &mut Vec<String>| {
        reqs.push(format!("req\t{v}\t{c}"));
        ours.push(
            match Constraint::parse(Syntax::Gem, c).and_then(|c| c.satisfies(v)) {
                Ok(b) => b.to_string(),
                Err(_) => "E".into(),
            },
        );
    };
    for _ in 0..3000 {
        let a = rng.pick(&valid).clone();
        let b = rng.pick(&valid).clone();
        let c = match rng.below(8) {
            0 => format!("~> {a}"),
            1 => format!(">= {a}, < {b}"),
            2 => format!("!= {a}"),
            3 => format!("= {a}"),
            4 => format!("> {a}"),
            5 => format!("<= {a}"),
            6 => format!("~>{}", a.split('.').take(2).collect::<Vec<_>>().join(".")),
            _ => a.clone(),
        };
        let v = if rng.below(3) == 0 {
            gem_mutate(&a, &mut rng)
        } else {
            b
        };
        push(&v, &c, &mut reqs, &mut ours);
    }
    for c in garbage(16, 4000, "<>=!~0123456789., a-") {
        let v = rng.pick(&valid).clone();
        push(&v, &c, &mut reqs, &mut ours);
    }
    for r in common::tsv("gem_constraint.tsv") {
        push(&r[0], &r[1], &mut reqs, &mut ours);
    }
    let theirs = oracle(
        {
            let mut c = Command::new("ruby");
            c.arg(repo().join("scripts/oracles/gem.rb"));
            c
        },
        &reqs,
    );
    agree("gem (RubyGems)", &reqs, &ours, &theirs);
}

#[test]
fn go_data_parses() {
    // Every Go version in the OSV data is a valid Go module version.
    let vs = osv_versions("Go", 1);
    let bad: Vec<&String> = vs
        .iter()
        .filter(|v| go::Version::parse(v).is_err())
        .collect();
    println!("go: {} versions, {} invalid", vs.len(), bad.len());
    assert!(bad.is_empty(), "{bad:?}");
}

fn composer_mutate(v: &str, r: &mut Rng) -> String {
    const T: [&str; 24] = [
        "-beta1",
        "-RC2",
        "-rc.3",
        "-p1",
        "-pl3",
        "-patch2",
        "-dev",
        ".x-dev",
        "alpha",
        "-b",
        "b2",
        "-a1",
        "@dev",
        "@stable",
        "+build.5",
        ".0",
        ".1",
        "-stable",
        " as 9.9",
        "-alpha.1",
        ".1-dev",
        "-beta-dev",
        "-1",
        ".",
    ];
    match r.below(6) {
        0 => format!("v{v}"),
        1 => format!("{v}{}{}", T[r.below(T.len())], T[r.below(T.len())]),
        2 => format!("dev-{v}"),
        3 => v.replace('.', "-"),
        _ => format!("{v}{}", T[r.below(T.len())]),
    }
}

/// Composer: `VersionParser::normalize` and `Comparator` (composer/semver, Debian
/// php-composer-semver) and PHP's own `version_compare`, run by
/// scripts/oracles/composer.php. Skips (saying so) only when there is no `php`.
#[test]
fn composer_vs_composer_semver() {
    use moat_version::composer;
    if Command::new("php").arg("-v").output().is_err() {
        eprintln!(
            "SKIPPED composer_vs_composer_semver: no `php` on PATH \
             (scripts/install-deps installs php-cli and php-composer-semver)"
        );
        return;
    }
    let mut vs: Vec<String> = osv_versions("Packagist", 1);
    let from_packagist = vs.len();
    vs.extend(osv_versions("RubyGems", 8).into_iter().step_by(2));
    vs.extend(osv_versions("npm", 4).into_iter().step_by(2));
    vs.extend(osv_versions("PyPI", 16).into_iter().step_by(3));
    let lock =
        common::shared("fixtures/lockfile-parsers/php/composer/testdata/composer_happy.lock");
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    for p in lock["packages"].as_array().into_iter().flatten() {
        if let Some(v) = p["version"].as_str() {
            vs.push(v.to_string());
        }
    }
    // composer's own syntax: branches, stabilities, dates, aliases, flags
    for v in [
        "1.0.0",
        "v1.0.0",
        "V2.1",
        "1.2.3.4",
        "1.2.3.4.5",
        "123456.1",
        "12345.1",
        "1.0.0RC1dev",
        "1.0.0-rC15-dev",
        "1.0.0.RC.15-dev",
        "1.0.0.pl3-dev",
        "1.0-dev",
        "0",
        "10.4.13-beta",
        "10.4.13beta.2",
        "v1.13.11-beta.0",
        "10.4.13-b5",
        "v20100102",
        "2010.01",
        "2010-01-02",
        "2010-01-02.5",
        "20100102-203040",
        "20100102203040-10",
        "20100102-203040-p1",
        "2010-01-02-beta",
        "2010-01-02.-dev",
        "20100102_beta2",
        "dev-master",
        "master",
        "trunk",
        "default",
        "dev-trunk",
        "1.x-dev",
        "2.0.*-dev",
        "v3.X-dev",
        "1.0 -dev",
        "dev-feature-foo",
        "DEV-FOOBAR",
        "dev-feature/foo",
        "dev-",
        "dev",
        "dev-master as 1.0.0",
        "1.0 as 2.0",
        "1.0.0+foo",
        "1.0.0-alpha.3.1+foo/-bar",
        "1.0.0-rc1@dev",
        "1.0@dev@beta",
        "1.2.3-p1",
        "1.2.3-pl1",
        "1.2.3-patch1",
        "1.2.3p1",
        "1.9.3.9",
        "1.0.",
        "1.0-1",
        "1.0-stable",
        "1.0-Stable",
        "1.0-stable-dev",
        "1.0.0-meh",
        "feature-foo",
        " 1.0 ",
        "1.02",
        "1.0.0-beta.1.2",
        "1.0.0-beta1-2",
        "1.0.0_beta",
        "1.0.0-BETA",
        "1.0.0-Alpha2",
        "99999999999999999999.1",
        "1.99999999999999999999",
        "1.9223372036854775808",
        "1.9223372036854775807",
    ] {
        vs.push(v.to_string());
    }
    let vs: Vec<String> = vs
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let norm = |v: &str| composer::normalize(v).unwrap_or_else(|_| "E".into());
    let mut reqs = Vec::new();
    let mut ours = Vec::new();
    for v in &vs {
        reqs.push(format!("norm\t{v}"));
        ours.push(norm(v));
    }
    let mut rng = Rng(31);
    let mut mutated = Vec::new();
    for _ in 0..3000 {
        let v = composer_mutate(rng.pick(&vs), &mut rng);
        reqs.push(format!("norm\t{v}"));
        ours.push(norm(&v));
        mutated.push(v);
    }
    for v in garbage(37, 6000, "0123456789.-_+:@*xXvVdeabtlpRCs ") {
        reqs.push(format!("norm\t{v}"));
        ours.push(norm(&v));
    }
    let valid: Vec<String> = vs
        .iter()
        .chain(&mutated)
        .filter(|v| validate(Scheme::Composer, v).is_ok())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cmp = |a: &str, b: &str| match (composer::Version::parse(a), composer::Version::parse(b)) {
        (Ok(x), Ok(y)) if x.is_branch() && y.is_branch() && x != y => "N".to_string(),
        (Ok(x), Ok(y)) => ord_str(x.cmp(&y)).to_string(),
        _ => "E".into(),
    };
    for (a, b) in pairs(&valid, 8000, 32, composer_mutate) {
        reqs.push(format!("cmp\t{a}\t{b}"));
        ours.push(cmp(&a, &b));
    }
    let g = garbage(38, 6000, "0123456789.-_+#abdeplrcRCx");
    for c in g.chunks(2) {
        reqs.push(format!("vc\t{}\t{}", c[0], c[1]));
        ours.push(ord_str(composer::php_version_compare(&c[0], &c[1])).to_string());
    }
    let theirs = oracle(
        {
            let mut c = Command::new("php");
            c.arg(repo().join("scripts/oracles/composer.php"));
            c
        },
        &reqs,
    );
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for (r, t) in reqs.iter().zip(&theirs) {
        let kind = r.split('\t').next().unwrap_or("");
        let answer = match (kind, t.as_str()) {
            ("norm", "E") => "invalid",
            ("norm", _) => "valid",
            (_, t) => t,
        };
        *seen.entry(format!("{kind} {answer}")).or_default() += 1;
    }
    println!("composer: {from_packagist} versions from the Packagist advisories; answers {seen:?}");
    agree("composer (composer/semver 3)", &reqs, &ours, &theirs);
}
