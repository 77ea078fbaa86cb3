//! `registry:REF` against a real registry (Debian's `docker-registry`, i.e.
//! distribution 2.8) on 127.0.0.1, fed by `skopeo copy`.

#![allow(clippy::unwrap_used)] // tests

#[path = "support/remote.rs"]
mod remote;

use moat_image::OpenOptions;
use moat_image::registry::{Puller, pull_to_layout};
use remote::*;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn insecure(cache: &Path, reg_host: String) -> OpenOptions {
    let mut o = opts(cache);
    o.insecure_registries = vec![reg_host];
    o
}

/// `http://HOST:PORT/token` -> `HOST:PORT`.
fn realm_host(realm: &str) -> String {
    realm
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

fn mtimes(layout: &Path) -> Vec<(String, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Everything under `dir`, relative.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn pulls_an_oci_image_pushed_with_skopeo_and_reuses_blobs() {
    let reg = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let layout = small_layout(
        work.path(),
        "amd64",
        &[
            ("etc/hostname", "moat\n"),
            ("etc/os-release", "ID=moattest\n"),
        ],
    );
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/base:1",
        &[],
    );

    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());
    let reference = format!("{}/test/base:1", reg.host());
    let (out, name) = pull_to_layout(&reference, &o).unwrap();
    assert!(out.starts_with(cache.path()));
    assert!(out.join("oci-layout").is_file());

    // The pulled manifest is the pushed one (same digest), its blobs all verify.
    let (src_entry, src_manifest) = manifest_named(&layout, "base");
    let (entry, manifest) = manifest_named(&out, "1");
    assert_eq!(
        entry["digest"],
        name.as_str(),
        "the manifest digest is returned"
    );
    assert_eq!(entry["digest"], src_entry["digest"]);
    assert_eq!(
        entry["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(manifest, src_manifest);
    let layers = manifest["layers"].as_array().unwrap().len();
    assert_eq!(verify_layout_blobs(&out), 2 + layers);
    for l in manifest["layers"].as_array().unwrap() {
        let hex = l["digest"].as_str().unwrap().trim_start_matches("sha256:");
        assert_eq!(
            std::fs::read(out.join("blobs/sha256").join(hex)).unwrap(),
            std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()
        );
    }

    // Pull again, and by digest: no blob is rewritten; both names are recorded.
    let before = mtimes(&out);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (out2, _) = pull_to_layout(&reference, &o).unwrap();
    let digest = entry["digest"].as_str().unwrap();
    let (out3, name3) = pull_to_layout(&format!("{}/test/base@{digest}", reg.host()), &o).unwrap();
    assert_eq!(
        (out2.as_path(), out3.as_path()),
        (out.as_path(), out.as_path())
    );
    assert_eq!(name3, digest);
    assert_eq!(manifest_named(&out, digest).0["digest"], digest);
    assert_eq!(mtimes(&out), before);
    let index = read_json(&out.join("index.json"));
    let names: Vec<_> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["annotations"]["org.opencontainers.image.ref.name"].clone())
        .collect();
    assert_eq!(names, [serde_json::json!("1"), serde_json::json!(digest)]);

    // Nothing but the layout was written into the cache.
    for p in tree(cache.path()) {
        assert!(
            p == "registry" || p.starts_with("registry/127.0.0.1_"),
            "unexpected {p}"
        );
    }

    // Opened as a source, it shows the same files as the layout it was pushed from.
    let cache2 = tempfile::tempdir().unwrap();
    let o2 = insecure(cache2.path(), reg.host());
    let pulled = moat_image::open(&format!("registry:{reference}"), &o2).unwrap();
    let local = moat_image::open(&format!("oci-dir:{}:base", layout.display()), &o2).unwrap();
    let files = assert_same_files(pulled.resolver(), local.resolver(), "registry vs oci-dir");
    assert_eq!(files, 2);
    assert_eq!(
        pulled
            .resolver()
            .read_limited("/etc/os-release", 100)
            .unwrap(),
        b"ID=moattest\n"
    );
    assert_eq!(pulled.metadata().layers, local.metadata().layers);
}

#[test]
fn pulls_docker_v2_schema2_media_types() {
    let reg = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let layout = small_layout(work.path(), "amd64", &[("etc/hostname", "v2s2\n")]);
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/v2s2:1",
        &["--format", "v2s2"],
    );
    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());
    let reference = format!("{}/test/v2s2:1", reg.host());
    let (out, name) = pull_to_layout(&reference, &o).unwrap();
    let (entry, manifest) = manifest_named(&out, &name);
    assert_eq!(
        entry["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );

    // An explicit platform must match a single-platform image's config.
    let mut o2 = o.clone();
    o2.platform = Some("linux/amd64".into());
    pull_to_layout(&reference, &o2).unwrap();
    o2.platform = Some("linux/arm64".into());
    let e = pull_to_layout(&reference, &o2).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["the image is for platform linux/amd64, not the requested linux/arm64"],
    );
    assert_eq!(
        verify_layout_blobs(&out),
        2 + manifest["layers"].as_array().unwrap().len()
    );
}

#[test]
fn chooses_a_platform_from_an_image_index() {
    let reg = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let layout = small_layout(work.path(), "amd64", &[("etc/hostname", "amd\n")]);
    add_image(&layout, "arm", "arm64", &[("etc/hostname", "arm\n")]);
    let index_digest = add_index(&layout, "multi", &[("base", "amd64"), ("arm", "arm64")]);
    reg.push(
        &format!("oci:{}:multi", layout.display()),
        "test/multi:1",
        &["--all"],
    );
    let arch_of = |out: &Path, name: &str| {
        let (_, m) = manifest_named(out, name);
        layout_blob_json(out, m["config"]["digest"].as_str().unwrap())["architecture"].clone()
    };
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/test/multi:1", reg.host());

    let mut o = insecure(cache.path(), reg.host());
    let (out, name) = pull_to_layout(&reference, &o).unwrap();
    assert_eq!(
        arch_of(&out, &name),
        "amd64",
        "default platform is linux/amd64"
    );
    let (amd_entry, _) = manifest_named(&layout, "base");
    assert_eq!(manifest_named(&out, &name).0["digest"], amd_entry["digest"]);

    o.platform = Some("linux/arm64".into());
    let (out, name) = pull_to_layout(&reference, &o).unwrap();
    assert_eq!(arch_of(&out, &name), "arm64");
    // By the index digest, too (verified against it).
    let (out, name) =
        pull_to_layout(&format!("{}/test/multi@{index_digest}", reg.host()), &o).unwrap();
    assert_eq!(arch_of(&out, &name), "arm64");
    let (arm_entry, _) = manifest_named(&layout, "arm");
    assert_eq!(name, arm_entry["digest"].as_str().unwrap());
    let by_index = manifest_named(&out, &index_digest).0;
    assert_eq!(
        by_index["digest"], arm_entry["digest"],
        "index.json names it by the index digest"
    );
    let img = moat_image::open(
        &format!("registry:{}/test/multi@{index_digest}", reg.host()),
        &o,
    )
    .unwrap();
    assert_eq!(img.metadata().architecture, "arm64");
    assert_eq!(
        img.resolver().read_limited("/etc/hostname", 100).unwrap(),
        b"arm\n"
    );
    verify_layout_blobs(&out);

    o.platform = Some("linux/s390x".into());
    let e = pull_to_layout(&reference, &o).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &[
            "no manifest for platform linux/s390x",
            "linux/amd64, linux/arm64",
        ],
    );
}

fn config_dir(json: Option<&str>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    if let Some(j) = json {
        std::fs::write(d.path().join("config.json"), j).unwrap();
    }
    d
}

fn auths(host: &str, user: &str, pass: &str) -> String {
    use base64::Engine;
    let a = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!(r#"{{"auths":{{"http://{host}":{{"auth":"{a}"}}}}}}"#)
}

#[test]
fn basic_auth_with_credentials_from_docker_config() {
    let work = tempfile::tempdir().unwrap();
    let htpasswd = work.path().join("htpasswd");
    let line = run(Command::new("htpasswd").args(["-Bbn", "user", "s3cret"]));
    std::fs::write(&htpasswd, line).unwrap();
    let reg = Registry::start(&format!(
        "auth:\n  htpasswd:\n    realm: moat-test\n    path: {}\n",
        htpasswd.display()
    ));
    let layout = small_layout(work.path(), "amd64", &[("etc/hostname", "basic\n")]);
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/private:1",
        &["--dest-creds", "user:s3cret"],
    );
    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());
    let reference = format!("{}/test/private:1", reg.host());
    let input = format!("registry:{reference}");

    let none = config_dir(None);
    let e = Puller::new(&o)
        .docker_config_dir(Some(none.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(
        &e,
        &input,
        &["requires authentication (Basic)", "no credentials"],
    );

    let wrong = config_dir(Some(&auths(&reg.host(), "user", "nope")));
    let e = Puller::new(&o)
        .docker_config_dir(Some(wrong.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(&e, &input, &["refused the credentials"]);

    let helper = config_dir(Some(r#"{"credsStore":"secretservice"}"#));
    let e = Puller::new(&o)
        .docker_config_dir(Some(helper.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(&e, &input, &["credsStore", "not supported"]);

    let good = config_dir(Some(&auths(&reg.host(), "user", "s3cret")));
    let (out, name) = Puller::new(&o)
        .docker_config_dir(Some(good.path().to_path_buf()))
        .pull(&reference)
        .unwrap();
    let (entry, _) = manifest_named(&out, &name);
    assert_eq!(entry["digest"], manifest_named(&layout, "base").0["digest"]);
    verify_layout_blobs(&out);
}

#[test]
fn bearer_token_auth_through_a_token_server() {
    let key = Arc::new(TokenKey::generate());
    let tokens = TokenServer::start(key.clone(), Some(("user", "tok3n")), TokenMode::Normal);
    let reg = Registry::start(&tokens.registry_auth_yaml(&key));
    let work = tempfile::tempdir().unwrap();
    let layout = small_layout(work.path(), "amd64", &[("etc/hostname", "token\n")]);
    // skopeo does the bearer flow itself with these credentials.
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/tok:1",
        &["--dest-creds", "user:tok3n"],
    );
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/test/tok:1", reg.host());
    let good = config_dir(Some(&auths(&reg.host(), "user", "tok3n")));

    // The realm is plain HTTP on another port: the credentials are withheld...
    let o = insecure(cache.path(), reg.host());
    let e = Puller::new(&o)
        .docker_config_dir(Some(good.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &[
            "token server",
            &tokens.realm(),
            "withheld",
            "another origin",
        ],
    );
    // ...unless that origin is named as an insecure registry too.
    let mut o = insecure(cache.path(), reg.host());
    o.insecure_registries.push(realm_host(&tokens.realm()));
    let (out, name) = Puller::new(&o)
        .docker_config_dir(Some(good.path().to_path_buf()))
        .pull(&reference)
        .unwrap();
    let (entry, manifest) = manifest_named(&out, &name);
    assert_eq!(entry["digest"], manifest_named(&layout, "base").0["digest"]);
    assert_eq!(
        verify_layout_blobs(&out),
        2 + manifest["layers"].as_array().unwrap().len()
    );

    let none = config_dir(None);
    let e = Puller::new(&o)
        .docker_config_dir(Some(none.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["token server", &tokens.realm(), "refused anonymous access"],
    );
}

#[test]
fn anonymous_tokens_without_access_are_a_clear_error() {
    let key = Arc::new(TokenKey::generate());
    let tokens = TokenServer::start(
        key.clone(),
        Some(("user", "pw")),
        TokenMode::AnonymousGetsNothing,
    );
    let reg = Registry::start(&tokens.registry_auth_yaml(&key));
    let work = tempfile::tempdir().unwrap();
    let layout = small_layout(work.path(), "amd64", &[("etc/hostname", "private\n")]);
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/private:1",
        &["--dest-creds", "user:pw"],
    );
    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());
    let reference = format!("{}/test/private:1", reg.host());
    let none = config_dir(None);
    let e = Puller::new(&o)
        .docker_config_dir(Some(none.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["denied anonymous access to test/private", "has none for"],
    );
    let good = config_dir(Some(&auths(&reg.host(), "user", "pw")));
    let mut o = o;
    o.insecure_registries.push(realm_host(&tokens.realm()));
    Puller::new(&o)
        .docker_config_dir(Some(good.path().to_path_buf()))
        .pull(&reference)
        .unwrap();
}

#[test]
fn malformed_token_response_is_a_clear_error() {
    let key = Arc::new(TokenKey::generate());
    let tokens = TokenServer::start(key.clone(), None, TokenMode::Malformed);
    let reg = Registry::start(&tokens.registry_auth_yaml(&key));
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/test/any:1", reg.host());
    let none = config_dir(None);
    let e = Puller::new(&insecure(cache.path(), reg.host()))
        .docker_config_dir(Some(none.path().to_path_buf()))
        .pull(&reference)
        .unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["malformed JSON from token server"],
    );
}

/// Push a fresh image to a fresh registry; returns (registry, manifest JSON).
fn pushed(work: &Path, content: &str) -> (Registry, serde_json::Value, String) {
    let reg = Registry::start("");
    let layout = small_layout(work, "amd64", &[("etc/hostname", content)]);
    reg.push(&format!("oci:{}:base", layout.display()), "test/h:1", &[]);
    let (entry, manifest) = manifest_named(&layout, "base");
    (reg, manifest, entry["digest"].as_str().unwrap().to_string())
}

#[test]
fn a_corrupted_layer_is_refused_and_not_kept() {
    let work = tempfile::tempdir().unwrap();
    let (reg, manifest, _) = pushed(work.path(), "corrupt-me\n");
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let data = reg.blob_data(&layer);
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();

    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/test/h:1", reg.host());
    let e = pull_to_layout(&reference, &insecure(cache.path(), reg.host())).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["digest mismatch", &layer],
    );
    for p in tree(cache.path()) {
        assert!(!p.contains(layer.trim_start_matches("sha256:")), "kept {p}");
        assert!(!p.contains(".partial-"), "left {p}");
    }
}

#[test]
fn a_manifest_naming_a_missing_blob_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let (reg, manifest, _) = pushed(work.path(), "missing\n");
    let config = manifest["config"]["digest"].as_str().unwrap().to_string();
    std::fs::remove_file(reg.blob_data(&config)).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{}/test/h:1", reg.host());
    let e = pull_to_layout(&reference, &insecure(cache.path(), reg.host())).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &[&format!("blob {config} not found")],
    );
}

#[test]
fn a_manifest_that_does_not_match_its_digest_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (reg, _, digest) = pushed(work.path(), "tamper\n");
    // Still valid JSON (the registry parses it before serving), different bytes.
    let data = reg.blob_data(&digest);
    let mut bytes = std::fs::read(&data).unwrap();
    bytes.push(b'\n');
    std::fs::write(&data, bytes).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());

    let by_tag = format!("{}/test/h:1", reg.host());
    let e = pull_to_layout(&by_tag, &o).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{by_tag}"),
        &["digest mismatch", &digest],
    );

    let by_digest = format!("{}/test/h@{digest}", reg.host());
    let e = pull_to_layout(&by_digest, &o).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{by_digest}"),
        &["digest mismatch", &digest],
    );

    let other = format!("sha256:{}", "0".repeat(64));
    let unknown = format!("{}/test/h@{other}", reg.host());
    let e = pull_to_layout(&unknown, &o).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{unknown}"),
        &["not found", "MANIFEST_UNKNOWN"],
    );
}

/// distribution validates manifests before serving them, so malformed and oversized
/// ones come from a stand-in that answers every request with fixed bytes.
#[test]
fn malformed_and_oversized_manifests_are_refused() {
    let fake = fake_registry(
        "application/vnd.oci.image.manifest.v1+json",
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":"#,
    );
    let cache = tempfile::tempdir().unwrap();
    let host = format!("127.0.0.1:{}", fake.port);
    let reference = format!("{host}/test/bad:1");
    let e = pull_to_layout(&reference, &insecure(cache.path(), host.clone())).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["malformed JSON in manifest test/bad:1"],
    );

    let huge: &'static [u8] = Box::leak(vec![b' '; (4 << 20) + 1].into_boxed_slice());
    let fake = fake_registry("application/vnd.oci.image.manifest.v1+json", huge);
    let host = format!("127.0.0.1:{}", fake.port);
    let reference = format!("{host}/test/big:1");
    let e = pull_to_layout(&reference, &insecure(cache.path(), host)).unwrap_err();
    assert_one_line(&e, &format!("registry:{reference}"), &["over the limit"]);

    // An index entry whose digest would walk out of the blob store.
    let evil = fake_registry(
        "application/vnd.oci.image.index.v1+json",
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../../etc/passwd","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}"#,
    );
    let host = format!("127.0.0.1:{}", evil.port);
    let reference = format!("{host}/test/evil:1");
    let e = pull_to_layout(&reference, &insecure(cache.path(), host)).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["index entry for linux/amd64: invalid digest"],
    );

    let schema1 = fake_registry(
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        br#"{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}"#,
    );
    let host = format!("127.0.0.1:{}", schema1.port);
    let reference = format!("{host}/test/old:1");
    let e = pull_to_layout(&reference, &insecure(cache.path(), host)).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &["schema 1", "not supported"],
    );
}

#[test]
fn an_unreachable_registry_is_a_clear_error() {
    let port = free_port();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("127.0.0.1:{port}/test/none:1");
    let e = pull_to_layout(
        &reference,
        &insecure(cache.path(), format!("127.0.0.1:{port}")),
    )
    .unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &[&format!("cannot reach http://127.0.0.1:{port}")],
    );

    // A plain-HTTP registry not listed as insecure: https fails, clearly.
    let reg = Registry::start("");
    let reference = format!("{}/test/none:1", reg.host());
    let e = pull_to_layout(&reference, &opts(cache.path())).unwrap_err();
    assert_one_line(
        &e,
        &format!("registry:{reference}"),
        &[&format!("https://{}", reg.host())],
    );

    let e = pull_to_layout("127.0.0.1:1/Bad/Name", &opts(cache.path())).unwrap_err();
    assert_one_line(
        &e,
        "registry:127.0.0.1:1/Bad/Name",
        &["invalid repository name"],
    );
}

/// The acceptance case: the real Debian test image, pushed and read back.
#[test]
fn the_debian_test_image_round_trips_through_a_registry() {
    let layout = test_images_dir().join("debian/oci");
    assert!(
        layout.join("index.json").is_file(),
        "{} is missing: run scripts/build-test-images first",
        layout.display()
    );
    let reg = Registry::start("");
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/debian:base",
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());
    let (out, name) = pull_to_layout(&format!("{}/test/debian:base", reg.host()), &o).unwrap();
    let (src_entry, src_manifest) = manifest_named(&layout, "base");
    let (entry, manifest) = manifest_named(&out, &name);
    assert_eq!(entry["digest"], src_entry["digest"]);
    assert_eq!(manifest, src_manifest);
    assert_eq!(
        verify_layout_blobs(&out),
        2 + manifest["layers"].as_array().unwrap().len()
    );

    // Opened through moat_image::open, it is the Debian root file system.
    let img = moat_image::open(&format!("registry:{}/test/debian:base", reg.host()), &o).unwrap();
    assert_eq!(img.metadata().architecture, "amd64");
    let root = moat_fs::DirResolver::new(test_images_dir().join("debian/rootfs")).unwrap();
    let files = assert_same_files(img.resolver(), &root, "registry vs rootfs");
    assert!(files > 1000, "only {files} files");
}

/// Registries hand blobs to object storage with a redirect, which must be followed
/// without giving the storage the registry credentials. distribution's filesystem
/// driver never redirects, so a stand-in front asks for Basic auth, sends manifest
/// requests on to the real registry and blob requests to a stand-in "bucket" serving
/// the registry's own blob files.
#[test]
fn follows_blob_redirects_without_forwarding_credentials() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let reg = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let layout = small_layout(work.path(), "amd64", &[("etc/hostname", "redirect\n")]);
    reg.push(
        &format!("oci:{}:base", layout.display()),
        "test/redir:1",
        &[],
    );

    let blobs = reg.dir.path().join("store/docker/registry/v2/blobs/sha256");
    let saw_auth = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let (saw_auth2, served2) = (saw_auth.clone(), served.clone());
    let bucket = Stub::start(move |req| {
        if req.header("authorization").is_some() {
            saw_auth2.store(true, Ordering::SeqCst);
        }
        let hex = req.path.trim_start_matches("/bucket/");
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return (400, vec![], vec![]);
        }
        match std::fs::read(blobs.join(&hex[..2]).join(hex).join("data")) {
            Ok(b) => {
                served2.fetch_add(1, Ordering::SeqCst);
                (200, vec![], b)
            }
            Err(_) => (404, vec![], vec![]),
        }
    });
    let (bucket_host, reg_host) = (bucket.host(), reg.host());
    let want = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("user:pw")
        )
    };
    let front = Stub::start(move |req| {
        if req.header("authorization") != Some(want.as_str()) {
            let challenge = (
                "WWW-Authenticate".to_string(),
                r#"Basic realm="front""#.to_string(),
            );
            return (401, vec![challenge], vec![]);
        }
        let location = match req.path.split_once("/blobs/sha256:") {
            Some((_, hex)) => format!("http://{bucket_host}/bucket/{hex}"),
            None => format!("http://{reg_host}{}", req.path),
        };
        (307, vec![("Location".to_string(), location)], vec![])
    });

    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), front.host());
    let cfg = config_dir(Some(&auths(&front.host(), "user", "pw")));
    let (out, name) = Puller::new(&o)
        .docker_config_dir(Some(cfg.path().to_path_buf()))
        .pull(&format!("{}/test/redir:1", front.host()))
        .unwrap();
    let (entry, manifest) = manifest_named(&out, &name);
    assert_eq!(entry["digest"], manifest_named(&layout, "base").0["digest"]);
    let blobs_in_manifest = 1 + manifest["layers"].as_array().unwrap().len();
    assert_eq!(served.load(Ordering::SeqCst), blobs_in_manifest);
    assert_eq!(verify_layout_blobs(&out), 1 + blobs_in_manifest);
    assert!(
        !saw_auth.load(Ordering::SeqCst),
        "credentials were sent to the storage"
    );
}

/// The multi-layer test image (whiteouts, several layers downloaded in parallel):
/// through the registry it opens to exactly what its local layout opens to.
#[test]
fn the_full_test_image_round_trips_through_a_registry() {
    let layout = test_images_dir().join("full/oci");
    assert!(
        layout.join("index.json").is_file(),
        "{} is missing: run scripts/build-test-images first",
        layout.display()
    );
    let reg = Registry::start("");
    reg.push(
        &format!("oci:{}:full", layout.display()),
        "test/full:1",
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let o = insecure(cache.path(), reg.host());
    let (out, name) = pull_to_layout(&format!("{}/test/full:1", reg.host()), &o).unwrap();
    let (entry, manifest) = manifest_named(&out, &name);
    assert_eq!(entry["digest"], manifest_named(&layout, "full").0["digest"]);
    let layers = manifest["layers"].as_array().unwrap().len();
    assert!(layers > PARALLEL_MIN, "only {layers} layers");
    assert_eq!(verify_layout_blobs(&out), 2 + layers);

    let pulled = moat_image::open(&format!("registry:{}/test/full:1", reg.host()), &o).unwrap();
    let local = moat_image::open(&format!("oci-dir:{}:full", layout.display()), &o).unwrap();
    assert_eq!(pulled.metadata().layers, local.metadata().layers);
    let files = assert_same_files(pulled.resolver(), local.resolver(), "registry vs oci-dir");
    assert!(files > 1000, "only {files} files");
}

/// More layers than moat downloads at once.
const PARALLEL_MIN: usize = 3;
