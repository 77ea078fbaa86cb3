//! hadolint's own rule test cases (tests/hadolint_cases.txt, transcribed from its
//! public test suite, test/Hadolint/Rule/DL*Spec.hs and PragmaSpec.hs): for every rule
//! moat aliases, moat must give hadolint's answer (finding or no finding) on at least
//! 97% of the cases. The cases where it does not are listed in
//! docs/hadolint-comparison.md; this test prints them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests

use moat_lint::rules::{LabelType, RuleConfig};
use std::collections::BTreeMap;

struct Case {
    rule: String,
    hit: bool,
    source: String,
    text: String,
    config: RuleConfig,
    onbuild: bool,
    line: usize,
}

/// Wrap every `RUN` instruction in `ONBUILD`, as hadolint's `onBuildRuleCatches` does.
fn wrap_onbuild(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("RUN ") {
                format!("ONBUILD {l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn cases() -> Vec<Case> {
    let data = include_str!("hadolint_cases.txt");
    let mut out = Vec::new();
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut body: Vec<&str> = Vec::new();
    let flush = |header: &Option<(usize, Vec<String>)>, body: &[&str], out: &mut Vec<Case>| {
        let Some((line, h)) = header else { return };
        let (rule, expect, mode, source) = (&h[0], &h[1], &h[2], &h[3]);
        let mut config = RuleConfig::default();
        for opt in &h[4..] {
            let (k, v) = opt.split_once('=').expect("key=value");
            match k {
                "trusted" => config.trusted_registries = v.split(',').map(str::to_string).collect(),
                "schema" => {
                    config.label_schema = v
                        .split(',')
                        .map(|kv| {
                            let (n, t) = kv.split_once(':').unwrap();
                            (n.to_string(), LabelType::parse(t).unwrap())
                        })
                        .collect::<BTreeMap<_, _>>()
                }
                "strict" => config.strict_labels = v == "1",
                _ => panic!("line {line}: unknown option {k}"),
            }
        }
        let hit = match expect.as_str() {
            "hit" => true,
            "miss" => false,
            e => panic!("line {line}: bad expectation {e}"),
        };
        let text = body.join("\n") + "\n";
        let modes: &[bool] = match mode.as_str() {
            "plain" => &[false],
            "onbuild" => &[true],
            "both" => &[false, true],
            m => panic!("line {line}: bad mode {m}"),
        };
        for &ob in modes {
            out.push(Case {
                rule: rule.clone(),
                hit,
                source: source.clone(),
                text: if ob {
                    wrap_onbuild(&text) + "\n"
                } else {
                    text.clone()
                },
                config: config.clone(),
                onbuild: ob,
                line: *line,
            });
        }
    };
    for (i, l) in data.lines().enumerate() {
        if let Some(h) = l.strip_prefix("== ") {
            flush(&header, &body, &mut out);
            header = Some((i + 1, h.split_whitespace().map(str::to_string).collect()));
            body.clear();
        } else if header.is_some() {
            body.push(l);
        }
    }
    flush(&header, &body, &mut out);
    out
}

#[test]
fn hadolint_rule_cases_agree_per_rule() {
    let aliased: BTreeMap<&str, &str> = moat_lint::rules::metas()
        .iter()
        .flat_map(|m| m.aliases.iter().map(move |a| (*a, m.code)))
        .filter(|(a, _)| a.starts_with("DL"))
        .collect();
    let all = cases();
    assert!(all.len() > 500, "only {} cases read", all.len());
    // rule -> (agree, total, [differences])
    let mut per: BTreeMap<String, (usize, usize, Vec<String>)> = BTreeMap::new();
    let mut unaliased: BTreeMap<String, usize> = BTreeMap::new();
    for c in &all {
        if !aliased.contains_key(c.rule.as_str()) {
            *unaliased.entry(c.rule.clone()).or_default() += 1;
            continue;
        }
        let f = moat_lint::lint_dockerfile("Dockerfile", &c.text, &c.config);
        let got = f.iter().any(|x| x.aliases.iter().any(|a| a == &c.rule));
        let e = per.entry(c.rule.clone()).or_default();
        e.1 += 1;
        if got == c.hit {
            e.0 += 1;
        } else {
            e.2.push(format!(
                "  {} (hadolint_cases.txt:{}, {}{}): hadolint {}, moat {}\n    {}",
                c.rule,
                c.line,
                c.source,
                if c.onbuild { ", onbuild" } else { "" },
                if c.hit { "hit" } else { "no hit" },
                if got { "hit" } else { "no hit" },
                c.text.trim_end().replace('\n', "\n    ")
            ));
        }
    }
    let mut failing = Vec::new();
    let (mut ta, mut tt) = (0, 0);
    println!(
        "{:8} {:6} {:>6} {:>6} {:>7}",
        "DL", "moat", "agree", "cases", "ratio"
    );
    for (rule, (a, t, diffs)) in &per {
        ta += a;
        tt += t;
        let ratio = *a as f64 / *t as f64;
        println!(
            "{rule:8} {:6} {a:6} {t:6} {:6.1}%",
            aliased[rule.as_str()],
            ratio * 100.0
        );
        for d in diffs {
            println!("{d}");
        }
        if ratio < 0.97 {
            failing.push(format!("{rule} {a}/{t}"));
        }
    }
    println!(
        "total: {ta}/{tt} ({:.1}%)",
        ta as f64 * 100.0 / tt.max(1) as f64
    );
    if !unaliased.is_empty() {
        println!("cases of rules moat does not alias: {unaliased:?}");
    }
    assert!(failing.is_empty(), "rules below 97% agreement: {failing:?}");
}
