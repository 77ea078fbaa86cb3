#![no_main]
//! Compose parser (interpolation, extends through a loader) and every DC rule.
use libfuzzer_sys::fuzz_target;
use moat_lint::{Kind, lint_source_full};
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut vars = BTreeMap::new();
    vars.insert("TAG".to_string(), "1.0".to_string());
    vars.insert("EMPTY".to_string(), String::new());
    // `extends: {file: x}` loads the same text again (self-reference must terminate).
    let again = text.to_string();
    let load = move |_: &str| Some(again.clone());
    let _ = lint_source_full(Kind::Compose, "compose.yaml", &text, &vars, &load);
});
