#![no_main]
//! Binaries (ELF: Go build info, cargo-auditable `.dep-v0`) and Java archives
//! (jar/war/ear: zip, nested archives, MANIFEST.MF, pom.properties).
use libfuzzer_sys::fuzz_target;
use moat_catalog::{Cataloger, binary, java};
use moat_fuzz::{pick, run_cataloger};

const CASES: &[(&dyn Cataloger, &str)] = &[
    (&binary::Binaries, "/usr/local/bin/app"),
    (&java::Archives, "/app/lib/x-1.0.jar"),
    (&java::Archives, "/app/x.war"),
];

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = pick(data, CASES.len()) else {
        return;
    };
    let (cat, path) = CASES[sel];
    run_cataloger(cat, path, rest);
});
