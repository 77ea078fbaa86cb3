#![no_main]
//! Installed language packages: python METADATA / PKG-INFO, node package.json,
//! Cargo.lock, gemspec, composer installed.json, .NET *.deps.json.
use libfuzzer_sys::fuzz_target;
use moat_catalog::{Cataloger, dotnet, node, php, python, ruby, rust};
use moat_fuzz::{pick, run_cataloger};

const CASES: &[(&dyn Cataloger, &str)] = &[
    (
        &python::Installed,
        "/usr/lib/python3/site-packages/x-1.0.dist-info/METADATA",
    ),
    (
        &python::Installed,
        "/usr/lib/python3/site-packages/x-1.0.egg-info/PKG-INFO",
    ),
    (
        &python::Installed,
        "/usr/lib/python3/site-packages/x-1.0.egg-info",
    ),
    (&node::Installed, "/app/node_modules/x/package.json"),
    (&node::Installed, "/app/node_modules/@s/x/package.json"),
    (&rust::CargoLock, "/src/Cargo.lock"),
    (
        &ruby::Gemspecs,
        "/usr/lib/ruby/gems/3.1.0/specifications/x-1.0.gemspec",
    ),
    (&php::Installed, "/app/vendor/composer/installed.json"),
    (&dotnet::DepsJson, "/app/x.deps.json"),
];

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = pick(data, CASES.len()) else {
        return;
    };
    let (cat, path) = CASES[sel];
    run_cataloger(cat, path, rest);
});
