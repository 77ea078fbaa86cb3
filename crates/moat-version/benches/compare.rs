//! Throughput of `compare` per scheme (parse both sides + order), and of the
//! `semver` crate on the same SemVer pairs as a reference. Prints ns per comparison
//! and the ratio to the reference; no pass/fail. Run: `cargo bench -p moat-version`.

use moat_version::{Constraint, Scheme, Syntax, compare};
use std::hint::black_box;
use std::time::Instant;

fn time(n: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let n = 20_000;
    let sets: &[(Scheme, &[(&str, &str)])] = &[
        (
            Scheme::Dpkg,
            &[
                ("1:2.36.1-8+deb12u1", "1:2.36.1-8"),
                ("3.0.11-1~deb12u2", "3.0.11-1"),
            ],
        ),
        (
            Scheme::Apk,
            &[("1.2.3_rc1-r0", "1.2.3-r1"), ("3.1.4-r5", "3.1.4_p1-r0")],
        ),
        (
            Scheme::Rpm,
            &[
                ("1:2.36.1-8.el9", "1:2.36.1-8.el9_2"),
                ("1.0~rc1-1", "1.0-1"),
            ],
        ),
        (
            Scheme::Semver,
            &[
                ("1.2.3-alpha.1", "1.2.3-alpha.beta"),
                ("10.20.30", "10.20.31"),
            ],
        ),
        (
            Scheme::Pep440,
            &[("1.0.post1.dev2", "1.0a1"), ("2!1.2.3+local.7", "1.2.3")],
        ),
        (
            Scheme::Maven,
            &[
                ("1.0-SNAPSHOT", "1.0-alpha-1"),
                ("5.3.27.RELEASE", "5.3.28"),
            ],
        ),
        (
            Scheme::Gem,
            &[("1.2.3.pre.1", "1.2.3"), ("7.0.4.3", "7.0.8")],
        ),
        (
            Scheme::Go,
            &[
                ("v0.0.0-20191109021931-daa7c04131f5", "v0.1.0"),
                ("1.20.5", "1.21.0"),
            ],
        ),
        (
            Scheme::Composer,
            &[("v1.2.3-beta2", "1.2.3.0-RC1"), ("2.4.4-p9", "2.4.4")],
        ),
    ];
    let mut semver_ns = 0.0;
    for (scheme, pairs) in sets {
        let ns = time(n, || {
            for (a, b) in *pairs {
                black_box(compare(*scheme, black_box(a), black_box(b)).ok());
            }
        }) / pairs.len() as f64;
        if *scheme == Scheme::Semver {
            semver_ns = ns;
        }
        println!("compare {:>7}: {ns:8.0} ns", scheme.name());
    }
    let reference = time(n, || {
        for (a, b) in [
            ("1.2.3-alpha.1", "1.2.3-alpha.beta"),
            ("10.20.30", "10.20.31"),
        ] {
            let a = semver::Version::parse(black_box(a)).ok();
            let b = semver::Version::parse(black_box(b)).ok();
            black_box(a.cmp(&b));
        }
    }) / 2.0;
    println!(
        "semver crate reference: {reference:8.0} ns; moat/semver-crate ratio {:.2}",
        semver_ns / reference
    );

    let c = Constraint::parse(Syntax::Npm, ">=1.2.7 <1.3.0 || ^2.1 || 3.x").ok();
    let ns = time(n, || {
        if let Some(c) = &c {
            black_box(c.satisfies(black_box("2.4.9")).ok());
        }
    });
    println!("npm range satisfies: {ns:8.0} ns");
}
