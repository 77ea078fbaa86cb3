#![no_main]
//! OSV ingest: one JSON record (or a JSON array of records), or an `all.zip`.
use libfuzzer_sys::fuzz_target;
use moat_db::InputKind;

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = moat_fuzz::pick(data, 4) else {
        return;
    };
    if sel == 3 {
        moat_fuzz::db_import(rest, InputKind::OsvZip, "all.zip");
    } else {
        moat_fuzz::db_import(rest, InputKind::OsvJson, "GHSA-x.json");
    }
});
