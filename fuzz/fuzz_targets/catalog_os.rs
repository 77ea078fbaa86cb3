#![no_main]
//! OS package databases: dpkg status and status.d, apk installed, rpm (sqlite,
//! BerkeleyDB `Packages`, NDB `Packages.db`), and os-release distro detection.
use libfuzzer_sys::fuzz_target;
use moat_catalog::{Cataloger, apk, dpkg, rpm};
use moat_fuzz::{pick, run_cataloger};

const CASES: &[(&dyn Cataloger, &str)] = &[
    (&dpkg::DpkgStatus, "/var/lib/dpkg/status"),
    (&dpkg::DpkgStatusD, "/var/lib/dpkg/status.d/base"),
    (&apk::ApkInstalled, "/lib/apk/db/installed"),
    (&rpm::RpmDb, "/var/lib/rpm/rpmdb.sqlite"),
    (&rpm::RpmDb, "/var/lib/rpm/Packages"),
    (&rpm::RpmDb, "/var/lib/rpm/Packages.db"),
];

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = pick(data, CASES.len() + 1) else {
        return;
    };
    if sel == CASES.len() {
        let r = moat_fs::MemResolver::new().file("/etc/os-release", rest.to_vec());
        let _ = moat_catalog::distro::detect(&r);
        return;
    }
    let (cat, path) = CASES[sel];
    run_cataloger(cat, path, rest);
});
