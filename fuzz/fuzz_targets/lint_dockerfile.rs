#![no_main]
//! Dockerfile parser and every DF rule.
use libfuzzer_sys::fuzz_target;
use moat_lint::{Kind, lint_source};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lint_source(Kind::Dockerfile, "Dockerfile", &text);
});
