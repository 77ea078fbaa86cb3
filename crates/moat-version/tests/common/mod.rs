//! Shared helpers for the table and differential tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/")).join(rel)
}

/// Rows of a fixture TSV (header skipped). Cells keep their exact text.
pub fn tsv(name: &str) -> Vec<Vec<String>> {
    let p = shared(&format!("fixtures/version-vectors/{name}"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Pass/fail/skip counts of one table, printed and asserted at the end.
#[derive(Default)]
pub struct Tally {
    pub name: String,
    pub pass: usize,
    pub skip: Vec<String>,
    pub fail: Vec<String>,
}

impl Tally {
    pub fn new(name: &str) -> Tally {
        Tally {
            name: name.into(),
            ..Default::default()
        }
    }
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.pass += 1;
        } else {
            self.fail.push(what());
        }
    }
    pub fn skip(&mut self, why: String) {
        self.skip.push(why);
    }
    pub fn finish(self) {
        println!(
            "{}: {} pass, {} fail, {} inapplicable",
            self.name,
            self.pass,
            self.fail.len(),
            self.skip.len()
        );
        for s in &self.skip {
            println!("  inapplicable: {s}");
        }
        assert!(
            self.fail.is_empty(),
            "{}: {} rows fail; first ones:\n{}",
            self.name,
            self.fail.len(),
            self.fail
                .iter()
                .take(200)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

pub fn ord(n: &str) -> std::cmp::Ordering {
    match n.trim() {
        "-1" => std::cmp::Ordering::Less,
        "0" => std::cmp::Ordering::Equal,
        _ => std::cmp::Ordering::Greater,
    }
}
