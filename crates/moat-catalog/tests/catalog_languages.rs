//! Language catalogers through `catalog()` on in-memory trees: Java archives (nested),
//! Ruby gemspecs, Composer, .NET, egg-info; image mode ignores lockfiles, directory
//! mode reads them; corrupt archives become unknowns.

#![allow(clippy::unwrap_used)]

use moat_catalog::{Mode, Options, catalog};
use moat_fs::MemResolver;
use std::io::Write;

const LOCKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/lockfile-parsers"
);

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn names(inv: &moat_model::Inventory) -> Vec<String> {
    inv.packages
        .iter()
        .map(|p| format!("{} {} {} {}", p.ecosystem, p.name, p.version, p.purl))
        .collect()
}

#[test]
fn java_archives_with_nested_jars() {
    let inner = zip(&[(
        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
        b"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
    )]);
    let manifest_only = zip(&[(
        "META-INF/MANIFEST.MF",
        b"Manifest-Version: 1.0\nImplementation-Title: thing\nImplementation-Version: 3.1\n",
    )]);
    let war = zip(&[
        ("WEB-INF/lib/log4j-core-2.14.1.jar", &inner),
        ("WEB-INF/lib/thing-3.1.jar", &manifest_only),
        ("WEB-INF/lib/broken.jar", b"not a zip"),
    ]);
    let r = MemResolver::new().file("/opt/app/app.war", war);
    let inv = catalog(&r, &Options::default());
    assert_eq!(
        names(&inv),
        [
            "maven org.apache.logging.log4j:log4j-core 2.14.1 pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "maven thing:thing 3.1 pkg:maven/thing/thing@3.1",
        ]
    );
    assert_eq!(
        inv.packages[0].locations[0].path,
        "/opt/app/app.war:WEB-INF/lib/log4j-core-2.14.1.jar"
    );
    assert_eq!(inv.unknowns.len(), 1);
    assert_eq!(
        inv.unknowns[0].location.path,
        "/opt/app/app.war:WEB-INF/lib/broken.jar"
    );
}

#[test]
fn gems_composer_dotnet_eggs() {
    let r = MemResolver::new()
        .file(
            "/usr/local/bundle/specifications/rack-2.2.3.gemspec",
            "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.3\"\n  s.licenses = [\"MIT\".freeze]\nend\n",
        )
        .file(
            "/app/vendor/composer/installed.json",
            r#"{"packages":[{"name":"monolog/monolog","version":"2.3.0","license":["MIT"]}]}"#,
        )
        .file(
            "/app/app.deps.json",
            r#"{"targets":{},"libraries":{"App/1.0.0":{"type":"project"},"Newtonsoft.Json/13.0.1":{"type":"package"}}}"#,
        )
        .file(
            "/usr/lib/python3/dist-packages/six-1.16.0.egg-info",
            "Metadata-Version: 1.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
        );
    let inv = catalog(&r, &Options::default());
    assert_eq!(
        names(&inv),
        [
            "pypi six 1.16.0 pkg:pypi/six@1.16.0",
            "gem rack 2.2.3 pkg:gem/rack@2.2.3",
            "composer monolog/monolog 2.3.0 pkg:composer/monolog/monolog@2.3.0",
            "nuget App 1.0.0 pkg:nuget/App@1.0.0",
            "nuget Newtonsoft.Json 13.0.1 pkg:nuget/Newtonsoft.Json@13.0.1",
        ]
    );
    let rack = inv.packages.iter().find(|p| p.name == "rack").unwrap();
    assert_eq!(rack.licenses, ["MIT"]);
    assert!(inv.unknowns.is_empty());
}

#[test]
fn lockfiles_only_in_directory_mode() {
    let lock = std::fs::read(format!("{LOCKS}/nodejs/npm/testdata/package-lock_v3.json")).unwrap();
    let gomod = std::fs::read(format!("{LOCKS}/golang/mod/testdata/normal/go.mod")).unwrap();
    let r = MemResolver::new()
        .file("/src/package-lock.json", lock)
        .file("/src/go.mod", gomod);
    let image = catalog(
        &r,
        &Options {
            mode: Mode::Image,
            ..Default::default()
        },
    );
    assert!(image.packages.is_empty());
    let dir = catalog(
        &r,
        &Options {
            mode: Mode::Directory,
            ..Default::default()
        },
    );
    assert!(dir.packages.iter().any(|p| p.purl.starts_with("pkg:npm/")));
    let go: Vec<_> = dir
        .packages
        .iter()
        .filter(|p| p.found_by == "go-mod")
        .map(|p| p.purl.as_str())
        .collect();
    assert!(go.contains(&"pkg:golang/stdlib@1.22.5"), "{go:?}");
    assert!(
        !go.iter().any(|p| p.contains("org/repo")),
        "the scanned module itself is not a dependency: {go:?}"
    );
}
