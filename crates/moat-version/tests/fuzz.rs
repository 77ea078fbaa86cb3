//! Property tests: arbitrary strings never panic any parser, comparison, constraint
//! or OSV evaluation; where both sides parse, every scheme's order is reflexive,
//! antisymmetric and transitive.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use moat_version::osv::{Event, affected};
use moat_version::{Constraint, Scheme, Syntax, compare, validate};
use proptest::prelude::*;
use std::cmp::Ordering;

const SCHEMES: [Scheme; 9] = [
    Scheme::Dpkg,
    Scheme::Apk,
    Scheme::Rpm,
    Scheme::Semver,
    Scheme::Pep440,
    Scheme::Maven,
    Scheme::Gem,
    Scheme::Go,
    Scheme::Composer,
];

fn syntaxes() -> Vec<Syntax> {
    let mut v = vec![Syntax::Npm, Syntax::Cargo, Syntax::Pep440, Syntax::Gem];
    v.extend(SCHEMES.iter().map(|s| Syntax::Generic(*s)));
    v
}

/// Version-shaped strings: digits, separators, letters and operators.
fn versionish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
        "[v=]?[0-9]{1,2}(\\.[0-9x*]{1,2}){0,2}(-[a-z0-9.]{1,6})?(\\+[a-z0-9]{1,4})?",
        "[0-9]:[0-9.]{1,6}(-[0-9a-z.~+]{1,5})?",
        "[0-9.~^+_:a-zA-Z!-]{0,16}",
        ".{0,12}",
    ]
}

fn constraintish() -> impl Strategy<Value = String> {
    prop_oneof![
        "(\\^|~|~>|>=|<=|>|<|=|==|!=|~=|===)? ?[0-9x*.]{1,6}(-[a-z0-9]{1,3})?",
        "[<>=!~^ ,|0-9.a-z*-]{0,20}",
        ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(a in versionish(), b in versionish(), c in constraintish()) {
        for s in SCHEMES {
            let _ = validate(s, &a);
            let _ = compare(s, &a, &b);
            let ev = vec![Event::Introduced(a.clone()), Event::Fixed(b.clone()), Event::Limit(c.clone())];
            let _ = affected(s, &ev, &b);
        }
        for syn in syntaxes() {
            if let Ok(k) = Constraint::parse(syn, &c) {
                let _ = k.satisfies(&a);
            }
        }
    }

    #[test]
    fn orders_are_consistent(a in versionish(), b in versionish(), c in versionish()) {
        for s in SCHEMES {
            let (Ok(ab), Ok(ba)) = (compare(s, &a, &b), compare(s, &b, &a)) else { continue };
            prop_assert_eq!(ab, ba.reverse(), "{:?} antisymmetry {} {}", s, a, b);
            prop_assert_eq!(compare(s, &a, &a).unwrap(), Ordering::Equal);
            if let (Ok(bc), Ok(ac)) = (compare(s, &b, &c), compare(s, &a, &c))
                && ab == bc
                && ab != Ordering::Equal
            {
                prop_assert_eq!(ac, ab, "{:?} transitivity {} {} {}", s, a, b, c);
            }
        }
    }
}

#[test]
fn hostile_inputs_are_errors() {
    let long = "9".repeat(5000);
    let deep = "1.".repeat(3000) + "1";
    for v in [
        "",
        " ",
        "\0",
        "ä",
        "1.0\u{202e}",
        "--",
        "::",
        "~",
        "^",
        "v",
        "+",
        long.as_str(),
        deep.as_str(),
    ] {
        for s in SCHEMES {
            let _ = compare(s, v, "1.0");
        }
    }
    for s in [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Semver,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::Go,
        Scheme::Composer,
    ] {
        assert!(validate(s, "").is_err(), "{s:?} accepts the empty string");
    }
    // RubyGems reads "" as "0" (Gem::Version.new("")), so it is valid there
    assert!(validate(Scheme::Gem, "").is_ok());
    assert!(compare(Scheme::Dpkg, &long, &format!("{long}1")).unwrap() == Ordering::Less);
}
