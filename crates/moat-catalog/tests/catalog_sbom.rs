//! SBOMs as input: Trivy's own fixtures (tests/data/sbom, CycloneDX 1.5, SPDX 2.2 JSON
//! and tag-value) read into inventories; budgets and errors name the file.

#![allow(clippy::unwrap_used)]

use moat_catalog::sbom::{self, SbomFormat};
use moat_model::{Ecosystem, Package};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sbom")
        .join(name)
}

fn summary(p: &Package) -> String {
    format!(
        "{}:{}@{} src={}@{} at {:?}",
        p.ecosystem,
        p.name,
        p.version,
        p.source_name.as_deref().unwrap_or("-"),
        p.source_version.as_deref().unwrap_or("-"),
        p.locations
            .iter()
            .map(|l| format!("{}|{}", l.path, l.layer.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
    )
}

const LAYER: &str = "sha256:89169d87dbe2b72ba42bfbb3579c957322baca28e03a1e558076542a1c1b2b4a";

/// The three encodings of Trivy's CentOS 7 SBOM give the same packages: the version
/// with its release and epoch from the PURL (the SPDX `versionInfo` lacks both), the
/// source package from Trivy's properties or the PURL, the release from the OS entry.
#[test]
fn trivy_centos_in_three_formats_is_one_inventory() {
    let mut seen = Vec::new();
    for (file, fmt) in [
        ("trivy-centos-7.cdx.json", SbomFormat::CycloneDxJson),
        ("trivy-centos-7.spdx.json", SbomFormat::SpdxJson),
        ("trivy-centos-7.spdx", SbomFormat::SpdxTagValue),
    ] {
        let r = sbom::read(&data(file)).unwrap();
        assert_eq!(r.format, fmt, "{file}");
        let d = r.inventory.distro.clone().unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str()),
            ("centos", "7.6.1810"),
            "{file}"
        );
        let names: Vec<(Ecosystem, String, String)> = r
            .inventory
            .packages
            .iter()
            .map(|p| (p.ecosystem, p.name.clone(), p.version.clone()))
            .collect();
        assert_eq!(
            names,
            [
                (Ecosystem::Rpm, "bash".into(), "4.2.46-31.el7".into()),
                (
                    Ecosystem::Rpm,
                    "openssl-libs".into(),
                    "1:1.0.2k-16.el7".into()
                ),
            ],
            "{file}"
        );
        for p in &r.inventory.packages {
            assert_eq!(p.locations.len(), 1, "{file}: {}", summary(p));
            assert_eq!(p.locations[0].layer.as_deref(), Some(LAYER), "{file}");
        }
        assert!(
            r.inventory.unknowns.is_empty(),
            "{file}: {:?}",
            r.inventory.unknowns
        );
        // The only edges are from the OS entry, which is not a package.
        assert!(r.inventory.dependencies.is_empty(), "{file}");
        seen.push(r.inventory.packages);
    }
    // CycloneDX carries Trivy's SrcName: openssl-libs is built from openssl.
    let cdx = &seen[0];
    assert_eq!(cdx[1].source_name.as_deref(), Some("openssl"));
    assert_eq!(
        cdx[1].source_version, None,
        "the source version is the package's"
    );
}

#[test]
fn trivy_language_packages_keep_their_file_and_layer() {
    let r = sbom::read(&data("trivy-fluentd.cdx.json")).unwrap();
    let got: Vec<String> = r.inventory.packages.iter().map(summary).collect();
    assert_eq!(
        got,
        [
            "deb:bash@5.0-4 src=bash@- at [\"|sha256:831c5620387fb9efec59fc82a42b948546c6be601e3ab34a87108ecf852aa15f\"]",
            "deb:libidn2-0@2.0.5-1 src=libidn2@- at [\"|sha256:831c5620387fb9efec59fc82a42b948546c6be601e3ab34a87108ecf852aa15f\"]",
            "gem:activesupport@6.0.2.1 src=-@- at [\"/var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec|sha256:75e43d55939745950bc3f8fad56c5834617c4339f0f54755e69a0dd5372624e9\"]",
        ]
    );
    assert_eq!(r.inventory.distro.unwrap().version_id, "10.2");
    assert_eq!(r.inventory.packages[2].found_by, "trivy-gemspec");
}

#[test]
fn dependencies_of_cyclonedx_and_spdx_become_the_graph() {
    let cdx = br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":[
        {"bom-ref":"a","type":"library","name":"express","version":"4.16.0","purl":"pkg:npm/express@4.16.0"},
        {"bom-ref":"b","type":"library","name":"qs","version":"6.5.1","purl":"pkg:npm/qs@6.5.1"},
        {"bom-ref":"c","type":"library","name":"app","version":"1.0","purl":"pkg:github/acme/app@1.0"},
        {"type":"file","name":"/etc/passwd"}],
      "dependencies":[{"ref":"a","dependsOn":["b","c","zz"]}]}"#;
    let r = sbom::parse("deps.cdx.json", cdx).unwrap();
    assert_eq!(r.inventory.packages.len(), 2);
    assert_eq!(r.inventory.dependencies.len(), 1);
    assert_eq!(
        r.inventory.dependencies[0].package,
        "pkg:npm/express@4.16.0"
    );
    assert_eq!(
        r.inventory.dependencies[0].depends_on,
        [moat_model::Purl::parse("pkg:npm/qs@6.5.1").unwrap()]
    );
    // A PURL type moat does not match is an unknown that names the SBOM.
    assert_eq!(r.inventory.unknowns.len(), 1);
    assert_eq!(r.inventory.unknowns[0].location.path, "deps.cdx.json");
    assert!(
        r.inventory.unknowns[0]
            .reason
            .contains("pkg:github/acme/app@1.0")
    );

    let spdx = br#"{"spdxVersion":"SPDX-2.3","packages":[
        {"SPDXID":"SPDXRef-a","name":"express","versionInfo":"4.16.0","externalRefs":[{"referenceCategory":"PACKAGE_MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/express@4.16.0"}]},
        {"SPDXID":"SPDXRef-b","name":"qs","versionInfo":"6.5.1","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/qs@6.5.1"}]}],
      "relationships":[{"spdxElementId":"SPDXRef-b","relationshipType":"DEPENDENCY_OF","relatedSpdxElement":"SPDXRef-a"}]}"#;
    let s = sbom::parse("deps.spdx.json", spdx).unwrap();
    assert_eq!(s.inventory.dependencies, r.inventory.dependencies);
}

#[test]
fn bad_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 2048]).unwrap();
    let e = sbom::read_limited(&big, 1024).unwrap_err().to_string();
    assert!(
        e.contains("big.json") && e.contains("1024-byte limit"),
        "{e}"
    );

    let e = sbom::read(&dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.json"), "{e}");

    let e = sbom::parse("x.json", b"{\"spdxVersion\": \"SPDX-3.0\"}")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.json: SPDX JSON:") && e.contains("SPDX-3.0"),
        "{e}"
    );

    let e = sbom::parse(
        "t.spdx",
        b"SPDXVersion: SPDX-2.3\nPackageName: a\nPackageComment: <text>never closed\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("t.spdx") && e.contains("unterminated"), "{e}");

    let e = sbom::parse(
        "c.json",
        b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": 5}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("c.json") && e.contains("not an array"), "{e}");

    // Deep nesting is refused, not a stack overflow.
    let mut deep =
        String::from("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.6\",\"components\":");
    for _ in 0..40 {
        deep.push_str("[{\"name\":\"x\",\"components\":");
    }
    deep.push_str("[]");
    for _ in 0..40 {
        deep.push_str("}]");
    }
    deep.push('}');
    let e = sbom::parse("deep.json", deep.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nested deeper"), "{e}");
}
