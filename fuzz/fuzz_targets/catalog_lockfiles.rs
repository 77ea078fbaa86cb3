#![no_main]
//! Declared dependencies (directory mode): package-lock, yarn.lock, pnpm-lock,
//! requirements, poetry.lock, uv.lock, Pipfile.lock, go.mod, Gemfile.lock,
//! composer.lock, pom.xml.
use libfuzzer_sys::fuzz_target;
use moat_catalog::{Cataloger, golang, java, node, php, python, ruby};
use moat_fuzz::{pick, run_cataloger};

const CASES: &[(&dyn Cataloger, &str)] = &[
    (&node::PackageLock, "/src/package-lock.json"),
    (&node::YarnLock, "/src/yarn.lock"),
    (&node::PnpmLock, "/src/pnpm-lock.yaml"),
    (&python::Requirements, "/src/requirements.txt"),
    (&python::PoetryLock, "/src/poetry.lock"),
    (&python::UvLock, "/src/uv.lock"),
    (&python::PipfileLock, "/src/Pipfile.lock"),
    (&golang::GoMod, "/src/go.mod"),
    (&ruby::GemfileLock, "/src/Gemfile.lock"),
    (&php::ComposerLock, "/src/composer.lock"),
    (&java::PomXml, "/src/pom.xml"),
];

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = pick(data, CASES.len()) else {
        return;
    };
    let (cat, path) = CASES[sel];
    run_cataloger(cat, path, rest);
});
