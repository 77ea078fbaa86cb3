#![no_main]
//! Ignore-file YAML and OpenVEX JSON parsing.
use libfuzzer_sys::fuzz_target;
use moat_match::policy::{IgnoreFile, Vex};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = moat_fuzz::pick(data, 2) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if sel == 0 {
        let today = time::Date::from_calendar_date(2026, time::Month::November, 29)
            .unwrap_or(time::Date::MIN);
        let _ = IgnoreFile::parse(Path::new(".moatignore.yaml"), &text, today);
    } else {
        let _ = Vex::parse(Path::new("vex.json"), &text);
    }
});
