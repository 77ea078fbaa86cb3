#![no_main]
//! Alpine secdb JSON ingest (`v3.20/main.json`).
use libfuzzer_sys::fuzz_target;
use moat_db::InputKind;

fuzz_target!(|data: &[u8]| {
    moat_fuzz::db_import(data, InputKind::AlpineSecdb, "v3.20/main.json");
});
