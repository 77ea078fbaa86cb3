//! Accuracy on the real test images (`scripts/build-test-images`): the packages moat
//! finds equal what the real tools installed and listed — `dpkg-query -W` (debian,
//! full), pip, npm and cargo (full, `expected/*.txt`), apk (alpine) — through every
//! image format, with each package's layer.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn images() -> PathBuf {
    let p = std::env::var_os("MOAT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/test-images"
            ))
        });
    assert!(
        p.join("debian/rootfs").is_dir()
            && p.join("full/rootfs").is_dir()
            && p.join("alpine/rootfs").is_dir(),
        "test images missing under {}: run `bash scripts/build-test-images` first",
        p.display()
    );
    p
}

fn sbom_json(source: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(["sbom", source, "--format", "json"])
        .env(
            "MOAT_CACHE_DIR",
            std::env::temp_dir().join("moat-catalog-images-test"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{source}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Rows of an expected file: the first `n` tab-separated fields.
fn expected(path: PathBuf, n: usize) -> BTreeSet<Vec<String>> {
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').take(n).map(str::to_string).collect())
        .collect()
}

/// (name, version[, source name]) of the packages of one ecosystem.
fn got(doc: &Value, eco: &str, with_source: bool) -> BTreeSet<Vec<String>> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ecosystem"] == eco)
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            let mut v = vec![name.clone(), p["version"].as_str().unwrap().to_string()];
            if with_source {
                // Every OS package names its source (the package itself if no other).
                v.push(p["source_name"].as_str().unwrap().to_string());
            }
            v
        })
        .collect()
}

#[test]
fn debian_dpkg_equals_dpkg_query_in_every_format() {
    let t = images();
    let want = expected(t.join("debian/expected/dpkg.txt"), 3);
    assert_eq!(want.len(), 88);
    for src in [
        format!(
            "docker-archive:{}",
            t.join("debian/docker-archive.tar").display()
        ),
        format!(
            "docker-archive:{}",
            t.join("debian/docker-archive.tar.gz").display()
        ),
        format!("oci-archive:{}", t.join("debian/oci-archive.tar").display()),
        format!("rootfs:{}", t.join("debian/rootfs").display()),
    ] {
        let doc = sbom_json(&src);
        assert_eq!(got(&doc, "deb", true), want, "{src}");
        assert_eq!(doc["distro"]["id"], "debian", "{src}");
        assert_eq!(doc["distro"]["version_id"], "12", "{src}");
        assert_eq!(doc["unknowns"].as_array().unwrap().len(), 0, "{src}");
        let pkgs = doc["packages"].as_array().unwrap();
        assert_eq!(pkgs.len(), 88, "{src}: nothing but the dpkg packages");
        let libc = pkgs.iter().find(|p| p["name"] == "libc6").unwrap();
        assert!(
            libc["purl"]
                .as_str()
                .unwrap()
                .contains("?arch=amd64&distro=debian-12&upstream=glibc"),
            "{}",
            libc["purl"]
        );
        if src.starts_with("docker-archive") || src.starts_with("oci") {
            assert!(
                libc["locations"][0]["layer"]
                    .as_str()
                    .unwrap()
                    .starts_with("sha256:"),
                "{src}"
            );
        }
    }
}

#[test]
fn full_image_language_packages_equal_what_pip_npm_cargo_installed() {
    let t = images();
    let e = t.join("full/expected");
    let doc = sbom_json(&format!(
        "docker-archive:{}",
        t.join("full/docker-archive.tar").display()
    ));
    assert_eq!(got(&doc, "deb", true), expected(e.join("dpkg.txt"), 3));
    assert_eq!(got(&doc, "pypi", false), expected(e.join("pypi.txt"), 2));
    assert_eq!(got(&doc, "npm", false), expected(e.join("npm.txt"), 2));
    assert_eq!(got(&doc, "cargo", false), expected(e.join("cargo.txt"), 2));
    // go.txt: PATH, stdlib, go version of each Go binary the build put in.
    let pkgs = doc["packages"].as_array().unwrap();
    for row in expected(e.join("go.txt"), 3) {
        assert!(
            pkgs.iter().any(|p| p["ecosystem"] == "golang"
                && p["name"] == row[1].as_str()
                && p["version"] == row[2].as_str()
                && p["locations"][0]["path"] == row[0].as_str()),
            "missing Go package {row:?}"
        );
    }
    // Each package is attributed to the layer that wrote its metadata file.
    let layers: Vec<String> = std::fs::read_to_string(e.join("layers.txt"))
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    let layer_of = |eco: &str| -> BTreeSet<String> {
        pkgs.iter()
            .filter(|p| p["ecosystem"] == eco)
            .map(|p| p["locations"][0]["layer"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(layer_of("pypi"), BTreeSet::from([layers[2].clone()]));
    assert_eq!(layer_of("npm"), BTreeSet::from([layers[3].clone()]));
    assert!(
        doc["unknowns"].as_array().unwrap().is_empty(),
        "{}",
        doc["unknowns"]
    );
}

#[test]
fn alpine_apk_equals_the_installed_db() {
    let t = images();
    let want = expected(t.join("alpine/expected/apk.txt"), 3);
    let doc = sbom_json(&format!(
        "docker-archive:{}",
        t.join("alpine/docker-archive.tar").display()
    ));
    assert_eq!(got(&doc, "apk", true), want);
    assert_eq!(doc["distro"]["id"], "alpine");
    let pkgs = doc["packages"].as_array().unwrap();
    let musl = pkgs.iter().find(|p| p["name"] == "musl").unwrap();
    assert!(
        musl["purl"]
            .as_str()
            .unwrap()
            .contains("distro=alpine-3.23"),
        "{}",
        musl["purl"]
    );
}

#[test]
fn image_sboms_are_byte_identical_with_source_date_epoch() {
    let t = images();
    let src = format!(
        "docker-archive:{}",
        t.join("full/docker-archive.tar").display()
    );
    let run = |fmt: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_moat"))
            .args(["sbom", &src, "--format", fmt])
            .env("SOURCE_DATE_EPOCH", "1704067200")
            .env(
                "MOAT_CACHE_DIR",
                std::env::temp_dir().join("moat-catalog-images-test"),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    for fmt in ["cyclonedx-json", "spdx-json"] {
        assert_eq!(run(fmt), run(fmt), "{fmt}");
    }
    // And valid against the official schemas, on real data (every ecosystem of `full`).
    let schema = |name: &str| -> Value {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/schemas");
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{name}")).unwrap()).unwrap()
    };
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            schema("spdx.SNAPSHOT.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            schema("jsf-0.82.SNAPSHOT.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let cdx = jsonschema::options()
        .with_registry(&registry)
        .build(&schema("bom-1.6.SNAPSHOT.schema.json"))
        .unwrap();
    let doc: Value = serde_json::from_slice(&run("cyclonedx-json")).unwrap();
    let errors: Vec<String> = cdx
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        doc["components"].as_array().unwrap().len(),
        204,
        "203 packages and the OS"
    );
    let spdx = jsonschema::validator_for(&schema("spdx-2.3-schema.json")).unwrap();
    let doc: Value = serde_json::from_slice(&run("spdx-json")).unwrap();
    let errors: Vec<String> = spdx
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
