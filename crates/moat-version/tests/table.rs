//! Table tests: every row of ../shared/fixtures/version-vectors (tables taken from
//! the test suites of apk-tools, rpm, go-deb-version, node-semver, pypa/packaging,
//! rubygems, aquasecurity/go-version and grype). A row that encodes another tool's
//! different semantics is counted as inapplicable, with the reason.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{Tally, ord, tsv};
use moat_version::{Constraint, Scheme, Syntax, compare, pep440, rpm, semver, validate};
use std::cmp::Ordering;

fn compare_table(file: &str, scheme: Scheme, t: &mut Tally) {
    for r in tsv(file) {
        let (a, b, want) = (&r[0], &r[1], ord(&r[2]));
        match compare(scheme, a, b) {
            Ok(got) => t.check(got == want, || {
                format!("{a} vs {b}: got {got:?}, want {want:?}")
            }),
            Err(e) => t.fail.push(format!("{a} vs {b}: {e}")),
        }
    }
}

#[test]
fn apk_version_data() {
    let mut t = Tally::new("apk_compare.tsv");
    for r in tsv("apk_compare.tsv") {
        let (a, b, want) = (&r[0], &r[1], ord(&r[2]));
        if validate(Scheme::Apk, a).is_err() || validate(Scheme::Apk, b).is_err() {
            // apk-tools marks these "invalid. do string sort"; moat rejects invalid versions
            t.skip(format!(
                "{a} vs {b}: invalid apk version (rejected, as apk_version_validate does)"
            ));
            continue;
        }
        let got = compare(Scheme::Apk, a, b).unwrap();
        t.check(got == want, || {
            format!("{a} vs {b}: got {got:?}, want {want:?}")
        });
    }
    t.finish();
}

#[test]
fn rpm_vercmp_cases() {
    // rpmvercmp on raw strings (the rows do not split epoch/release)
    let mut t = Tally::new("rpm_compare.tsv");
    for r in tsv("rpm_compare.tsv") {
        let (a, b, want) = (&r[0], &r[1], ord(&r[2]));
        let got = rpm::rpmvercmp(a, b);
        t.check(got == want, || {
            format!("{a:?} vs {b:?}: got {got:?}, want {want:?}")
        });
    }
    t.finish();
}

#[test]
fn deb_tables() {
    let mut t = Tally::new("deb_compare_lessthan.tsv");
    for r in tsv("deb_compare_lessthan.tsv") {
        let (a, b) = (&r[0], &r[1]);
        if a.contains('_') || b.contains('_') {
            t.skip(format!(
                "{a} vs {b}: `_` is bad syntax for dpkg (a warning there, an error in moat)"
            ));
            continue;
        }
        // the source asserts only "less than" (-1) or "not less than" (+1)
        let less = compare(Scheme::Dpkg, a, b).unwrap() == Ordering::Less;
        t.check(less == (ord(&r[2]) == Ordering::Less), || {
            format!("{a} vs {b}")
        });
    }
    t.finish();
    let mut t = Tally::new("deb_valid.tsv");
    for r in tsv("deb_valid.tsv") {
        if r[0].contains('_') {
            t.skip(format!(
                "{}: `_` is bad syntax for dpkg (a warning there, an error in moat)",
                r[0]
            ));
            continue;
        }
        let ok = validate(Scheme::Dpkg, &r[0]).is_ok();
        t.check(ok == (r[1] == "true"), || format!("{:?}: valid={ok}", r[0]));
    }
    t.finish();
}

#[test]
fn npm_node_semver_generated() {
    let mut t = Tally::new("npm_constraint.tsv");
    for r in tsv("npm_constraint.tsv") {
        let (v, c, want) = (&r[0], &r[1], r[2] == "true");
        let got = Constraint::parse(Syntax::Npm, c).and_then(|c| c.satisfies(v));
        match got {
            Ok(g) => t.check(g == want, || format!("{v} in {c:?}: got {g}, want {want}")),
            // node-semver's satisfies() is false for an invalid range or version
            Err(_) => t.check(!want, || format!("{v} in {c:?}: error, want true")),
        }
    }
    t.finish();
}

#[test]
fn pep440_sorted() {
    let vs: Vec<String> = std::fs::read_to_string(common::shared(
        "fixtures/version-vectors/pep440_sorted_versions.txt",
    ))
    .unwrap()
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(str::to_string)
    .collect();
    let mut t = Tally::new("pep440_sorted_versions.txt (all pairs)");
    for i in 0..vs.len() {
        for j in 0..vs.len() {
            let got = compare(Scheme::Pep440, &vs[i], &vs[j]).unwrap();
            t.check(got == i.cmp(&j), || {
                format!("{} vs {}: {got:?}", vs[i], vs[j])
            });
        }
    }
    t.finish();
}

#[test]
fn pep440_specifiers() {
    // pep440_specifier.tsv comes from pypa/packaging's test_specifiers, which builds
    // `Specifier(spec, prereleases=True)`: every valid row holds with prereleases on
    // (checked with packaging 24.2); with the default rule 18 rows flip.
    for (file, pre) in [
        ("pep440_specifier.tsv", true),
        ("pep440_specifier_prerelease.tsv", true),
    ] {
        let mut t = Tally::new(file);
        for r in tsv(file) {
            let (v, c, want) = (&r[0], &r[1], r[2] == "true");
            let Ok(set) = pep440::SpecifierSet::parse(c) else {
                // the differential test checks that packaging rejects these too
                t.skip(format!(
                    "{v} in {c:?}: packaging 24.2 raises InvalidSpecifier"
                ));
                continue;
            };
            let ver = pep440::Version::parse(v).unwrap();
            if file == "pep440_specifier_prerelease.tsv" && v == "2.0a1" && c == "<2" {
                t.skip(format!(
                    "{v} in {c:?}: go-pep440-version only; packaging says False (PEP 440: `<V` excludes V's prereleases; also in the differential test)"
                ));
                continue;
            }
            let got = if pre {
                set.contains_with(&ver, true)
            } else {
                set.contains(&ver)
            };
            t.check(got == want, || {
                format!("{v} in {c:?}: got {got}, want {want}")
            });
        }
        t.finish();
    }
}

#[test]
fn gem_tables() {
    let mut t = Tally::new("gem_compare.tsv");
    compare_table("gem_compare.tsv", Scheme::Gem, &mut t);
    t.finish();
    let mut t = Tally::new("gem_constraint.tsv");
    for r in tsv("gem_constraint.tsv") {
        let (v, c, want) = (&r[0], &r[1], r[2] == "true");
        let ops = c.matches(['<', '>', '!', '~']).count();
        if c.contains("==") || c.contains('"') || (ops > 1 && !c.contains(',')) {
            // checked against ruby in the differential test: BadRequirementError
            t.skip(format!(
                "{v} in {c:?}: go-gem-version syntax (`==`, quotes, space-separated clauses); Gem::Requirement rejects it"
            ));
            continue;
        }
        match Constraint::parse(Syntax::Gem, c).and_then(|c| c.satisfies(v)) {
            Ok(g) => t.check(g == want, || format!("{v} in {c:?}: got {g}, want {want}")),
            Err(e) => t.fail.push(format!("{v} in {c:?}: {e}")),
        }
    }
    t.finish();
}

#[test]
fn semver_compare() {
    let mut t = Tally::new("semver_compare.tsv");
    compare_table("semver_compare.tsv", Scheme::Semver, &mut t);
    t.finish();
}

/// Trivy's go-version semver syntax that node-semver does not have.
fn trivy_semver_only(c: &str) -> Option<&'static str> {
    if c.contains("==") || c.contains("!=") {
        return Some("`==`/`!=` are Trivy operators, not node-semver range syntax");
    }
    if c.contains('"') {
        return Some("a stray quote: an invalid range for every tool");
    }
    let partial_pre = c.split_whitespace().any(|t| {
        let t = t.trim_start_matches(['<', '>', '=', '^', '~']);
        t.split_once('-')
            .is_some_and(|(core, _)| core.split('.').count() < 3)
    });
    if partial_pre {
        return Some("a prerelease on a partial version (`>0-0`): invalid in node-semver");
    }
    None
}

#[test]
fn semver_constraints_trivy() {
    for file in [
        "semver_constraint.tsv",
        "semver_constraint_prerelease.tsv",
        "semver_constraint_prerelease_zeropad.tsv",
    ] {
        let mut t = Tally::new(file);
        for r in tsv(file) {
            let (v, c, want) = (&r[0], &r[1], r[2] == "true");
            if let Some(why) = trivy_semver_only(c) {
                t.skip(format!("{v} in {c:?}: {why}"));
                continue;
            }
            let partial = c.split([' ', ',', '|']).any(|x| {
                let x = x.trim_start_matches(['<', '>', '=', '^', '~']);
                !x.is_empty()
                    && x.split(['-', '+'])
                        .next()
                        .is_some_and(|core| core.split('.').count() < 3)
            });
            if file.contains("zeropad") && partial {
                t.skip(format!(
                    "{v} in {c:?}: Trivy's zero-padding mode reads `2` as `2.0.0`; node-semver reads it as `2.x`"
                ));
                continue;
            }
            let got = Constraint::parse(Syntax::Npm, c).and_then(|c| c.satisfies(v));
            if v.contains('-') && got.as_ref().is_ok_and(|g| *g != want) {
                t.skip(format!(
                    "{v} in {c:?}: Trivy's prerelease rule; node-semver says {got:?} (checked in the npm differential test)"
                ));
                continue;
            }
            match got {
                Ok(g) => t.check(g == want, || format!("{v} in {c:?}: got {g}, want {want}")),
                Err(e) => t.fail.push(format!("{v} in {c:?}: {e}")),
            }
        }
        t.finish();
    }
}

#[test]
fn generic_maven_like() {
    let mut t = Tally::new("generic_version_compare.tsv");
    for r in tsv("generic_version_compare.tsv") {
        let (a, b, want) = (&r[0], &r[1], ord(&r[2]));
        if a.contains('+') || b.contains('+') {
            t.skip(format!(
                "{a} vs {b}: `+build` metadata is Trivy's; Maven has none"
            ));
            continue;
        }
        let got = compare(Scheme::Maven, a, b).unwrap();
        t.check(got == want, || {
            format!("{a} vs {b}: got {got:?}, want {want:?}")
        });
    }
    t.finish();
    let mut t = Tally::new("generic_version_constraint.tsv");
    for r in tsv("generic_version_constraint.tsv") {
        let (v, c, want) = (&r[0], &r[1], r[2] == "true");
        if c.contains(['^', '~']) {
            t.skip(format!(
                "{v} in {c:?}: Trivy's `^`/`~`/`~>` on generic versions (moat: Syntax::Npm, Syntax::Gem)"
            ));
            continue;
        }
        if v.contains(['-', '+']) || c.contains(['-', '+']) {
            t.skip(format!(
                "{v} in {c:?}: Trivy reads `-x`/`+x` as SemVer prerelease/build; Maven reads `-x` as a qualifier list"
            ));
            continue;
        }
        match Constraint::parse(Syntax::Generic(Scheme::Maven), c).and_then(|c| c.satisfies(v)) {
            Ok(g) => t.check(g == want, || format!("{v} in {c:?}: got {g}, want {want}")),
            Err(e) => t.fail.push(format!("{v} in {c:?}: {e}")),
        }
    }
    t.finish();
}

fn grype_scheme(format: &str) -> Option<Scheme> {
    Some(match format {
        "deb" => Scheme::Dpkg,
        "rpm" => Scheme::Rpm,
        "apk" => Scheme::Apk,
        "python" => Scheme::Pep440,
        "maven" => Scheme::Maven,
        "semver" => Scheme::Semver,
        "gem" => Scheme::Gem,
        "go" => Scheme::Go,
        _ => return None,
    })
}

/// rpm: exactly one side names an epoch.
fn one_sided_epoch(a: &str, b: &str) -> bool {
    let has = |s: &str| {
        let d = s.bytes().take_while(u8::is_ascii_digit).count();
        s.as_bytes().get(d) == Some(&b':')
    };
    has(a) != has(b)
}

/// Why a grype row encodes grype's own semantics rather than the packaging tool's.
fn grype_only(f: &str, v: &str, c: &str) -> Option<&'static str> {
    let bounds: Vec<&str> = c
        .split(|ch: char| ch == ',' || ch == '|' || ch.is_whitespace())
        .map(|t| t.trim_start_matches(['<', '>', '=', '!']))
        .filter(|t| !t.is_empty())
        .collect();
    match f {
        "rpm" if bounds.iter().any(|b| one_sided_epoch(v, b)) => Some(
            "grype ignores the epoch when only one side has one; rpm (the oracle) reads a missing epoch as 0",
        ),
        "python" if c.contains(['\'', '"']) => Some("grype's quoted-version syntax"),
        "gem" if v.contains("-x86") || v.contains("-aarch64") => Some(
            "grype strips the gem platform; Gem::Version reads `-x86-linux` as a prerelease or rejects `x86_64`",
        ),
        "semver"
            if validate(Scheme::Semver, v).is_err()
                || bounds.iter().any(|b| validate(Scheme::Semver, b).is_err()) =>
        {
            Some("not SemVer (`1.20rc1`, `1.0.0.alpha`, `V1.0.0`): grype's fuzzy semver parser")
        }
        _ => None,
    }
}

#[test]
fn grype_constraints() {
    let mut t = Tally::new("grype_constraints.tsv");
    for r in tsv("grype_constraints.tsv") {
        let (f, v, c, want) = (&r[0], &r[1], &r[2], r[3] == "true");
        let Some(s) = grype_scheme(f) else {
            t.skip(format!(
                "{f}: grype-only scheme (portage, jvm, bitnami, kb, fuzzy, generic)"
            ));
            continue;
        };
        if let Some(why) = grype_only(f, v, c) {
            t.skip(format!("{f} {v} in {c:?}: {why}"));
            continue;
        }
        match Constraint::parse(Syntax::Generic(s), c).and_then(|c| c.satisfies(v)) {
            Ok(g) => t.check(g == want, || {
                format!("{f} {v} in {c:?}: got {g}, want {want}")
            }),
            Err(e) => t.fail.push(format!("{f} {v} in {c:?}: {e}")),
        }
    }
    t.finish();
}

#[test]
fn grype_compare() {
    let mut t = Tally::new("grype_compare.tsv");
    for r in tsv("grype_compare.tsv") {
        let (f, a, b, want) = (&r[0], &r[1], &r[2], ord(&r[3]));
        if f != "rpm" {
            t.skip(format!(
                "{f} {a} vs {b}: grype's fuzzy comparison, not a packaging scheme"
            ));
            continue;
        }
        if one_sided_epoch(a, b) {
            t.skip(format!(
                "{a} vs {b}: grype ignores a one-sided epoch; rpm (the oracle) reads a missing epoch as 0"
            ));
            continue;
        }
        match compare(Scheme::Rpm, a, b) {
            Ok(got) => t.check(got == want, || {
                format!("{a} vs {b}: got {got:?}, want {want:?}")
            }),
            Err(e) => t.fail.push(format!("{a} vs {b}: {e}")),
        }
    }
    t.finish();
}

#[test]
fn semver_strict_vs_lenient() {
    assert!(semver::Version::parse("1.2").is_err());
    assert!(semver::Version::parse_lenient("1.2").is_ok());
}

/// golang.org/x/mod/semver's own test table (semver_test.go), in ascending order;
/// rows with an empty canonical form are invalid. There is no Go toolchain here, so
/// this table (and node-semver on the Go data, in the differential test) is the check.
const GO_XMOD: &[(&str, &str)] = &[
    ("bad", ""),
    ("v1-alpha.beta.gamma", ""),
    ("v1-pre", ""),
    ("v1+meta", ""),
    ("v1-pre+meta", ""),
    ("v1.2-pre", ""),
    ("v1.2+meta", ""),
    ("v1.2-pre+meta", ""),
    ("v1.0.0-alpha", "v1.0.0-alpha"),
    ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
    ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"),
    ("v1.0.0-beta", "v1.0.0-beta"),
    ("v1.0.0-beta.2", "v1.0.0-beta.2"),
    ("v1.0.0-beta.11", "v1.0.0-beta.11"),
    ("v1.0.0-rc.1", "v1.0.0-rc.1"),
    ("v1", "v1.0.0"),
    ("v1.0", "v1.0.0"),
    ("v1.0.0", "v1.0.0"),
    ("v1.2", "v1.2.0"),
    ("v1.2.0", "v1.2.0"),
    ("v1.2.3-456", "v1.2.3-456"),
    ("v1.2.3-456.789", "v1.2.3-456.789"),
    ("v1.2.3-456-789", "v1.2.3-456-789"),
    ("v1.2.3-456a", "v1.2.3-456a"),
    ("v1.2.3-pre", "v1.2.3-pre"),
    ("v1.2.3-pre+meta", "v1.2.3-pre"),
    ("v1.2.3-pre.1", "v1.2.3-pre.1"),
    ("v1.2.3-zzz", "v1.2.3-zzz"),
    ("v1.2.3", "v1.2.3"),
    ("v1.2.3+meta", "v1.2.3"),
    ("v1.2.3+meta-pre", "v1.2.3"),
    ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
];

#[test]
fn go_xmod_table() {
    let mut t = Tally::new("golang.org/x/mod semver_test.go (all pairs)");
    for (i, (a, ca)) in GO_XMOD.iter().enumerate() {
        let pa = moat_version::go::Version::parse(a);
        t.check(pa.is_ok() != ca.is_empty(), || {
            format!("{a}: valid={}", pa.is_ok())
        });
        if let Ok(p) = &pa {
            t.check(p.to_string() == *ca || a.contains('+'), || {
                format!("{a}: canonical {p}")
            });
        }
        for (j, (b, cb)) in GO_XMOD.iter().enumerate() {
            if ca.is_empty() || cb.is_empty() {
                continue;
            }
            let want = if ca == cb { Ordering::Equal } else { i.cmp(&j) };
            let got = compare(Scheme::Go, a, b).unwrap();
            t.check(got == want, || {
                format!("{a} vs {b}: got {got:?}, want {want:?}")
            });
        }
    }
    // pseudo-versions and +incompatible (https://go.dev/ref/mod#pseudo-versions)
    let order = [
        "v0.0.0-20191109021931-daa7c04131f5",
        "v0.0.0-20200101000000-000000000000",
        "v0.0.1",
        "v1.2.3",
        "v1.2.4-0.20191109021931-daa7c04131f5",
        "v1.2.4-pre",
        "v1.2.4-pre.0.20191109021931-daa7c04131f5",
        "v1.2.4",
        "v2.0.0+incompatible",
        "v2.0.1",
    ];
    for w in order.windows(2) {
        let got = compare(Scheme::Go, w[0], w[1]).unwrap();
        t.check(got == Ordering::Less, || {
            format!("{} < {}: got {got:?}", w[0], w[1])
        });
    }
    let p = moat_version::go::Version::parse("v1.2.4-0.20191109021931-daa7c04131f5").unwrap();
    t.check(p.is_pseudo(), || "pseudo-version not recognised".into());
    let inc = moat_version::go::Version::parse("v2.0.0+incompatible").unwrap();
    t.check(inc.is_incompatible(), || {
        "+incompatible not recognised".into()
    });
    t.check(
        compare(Scheme::Go, "v2.0.0+incompatible", "2.0.0").unwrap() == Ordering::Equal,
        || "+incompatible must not change the order".into(),
    );
    for bad in [
        "v01.2.3",
        "v1.2.3.4",
        "v1.2.3-01",
        "v1.2.3-",
        "v1.2.3+",
        "1.2.3 ",
    ] {
        t.check(validate(Scheme::Go, bad).is_err(), || {
            format!("{bad:?} accepted")
        });
    }
    t.finish();
}
