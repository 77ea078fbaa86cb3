#![no_main]
//! daemon.json parser and every DD rule.
use libfuzzer_sys::fuzz_target;
use moat_lint::{Kind, lint_source};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lint_source(Kind::Daemon, "/etc/docker/daemon.json", &text);
});
