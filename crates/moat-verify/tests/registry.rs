//! `moat verify` against a real registry on loopback: every case of the issue, with
//! keys, a test CA (for Fulcio), a log key (for Rekor), signatures and attestations all
//! generated at test time by tests/support/sigfix.py (Python `cryptography`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use moat_report::verify::{ImageVerdict, VerifyReport};
use moat_verify::{Plan, VerifyOptions};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Env {
    reg: support::Registry,
    out: PathBuf,
    cases: serde_json::Value,
    cache: tempfile::TempDir,
}

fn env() -> &'static Env {
    static E: OnceLock<Env> = OnceLock::new();
    E.get_or_init(|| {
        let reg = support::Registry::start();
        let (out, cases) = support::fixtures(&reg);
        Env {
            reg,
            out,
            cases,
            cache: tempfile::tempdir().unwrap(),
        }
    })
}

fn reference(case: &str, field: &str) -> String {
    env().cases[case][field].as_str().unwrap().to_string()
}

fn opts(keys: &[&str], root: bool, policy: Option<&Path>) -> VerifyOptions {
    let e = env();
    let mut image = moat_image::OpenOptions::new(e.cache.path());
    image.insecure_registries = vec![e.reg.host()];
    VerifyOptions {
        policy: policy.map(Path::to_path_buf),
        keys: keys
            .iter()
            .map(|k| e.out.join(format!("{k}.pub")))
            .collect(),
        trusted_root: root.then(|| e.out.join("trusted_root.json")),
        image,
        now: e.cases["_meta"]["now"].as_i64().unwrap(),
    }
}

fn run(o: VerifyOptions, source: &str) -> VerifyReport {
    Plan::new(o)
        .unwrap()
        .run(&[format!("registry:{source}")], None)
        .unwrap()
}

fn one(r: &VerifyReport) -> &ImageVerdict {
    assert_eq!(r.images.len(), 1);
    &r.images[0]
}

fn show(r: &VerifyReport) -> String {
    serde_json::to_string_pretty(r).unwrap()
}

#[test]
fn valid_signatures_with_each_key_type_verify() {
    for alg in ["p256", "ed25519", "rsa"] {
        let case = format!("valid-{alg}");
        let r = run(opts(&[alg], false, None), &reference(&case, "ref"));
        let img = one(&r);
        assert!(r.passed, "{case}: {}", show(&r));
        assert_eq!(
            img.digest.as_deref(),
            Some(reference(&case, "digest").as_str())
        );
        let s = &img.signatures[0];
        assert!(s.verified && s.kind == "cosign", "{case}: {}", show(&r));
        assert!(
            s.key_id.as_deref().unwrap().contains(&format!("{alg}.pub")),
            "{}",
            show(&r)
        );
        assert!(
            s.reason.contains("payload names this digest"),
            "{}",
            s.reason
        );
    }
    // An Ed25519 signature does not verify with the P-256 key.
    let r = run(
        opts(&["p256"], false, None),
        &reference("valid-ed25519", "ref"),
    );
    assert!(!r.passed, "{}", show(&r));
    assert!(
        one(&r).signatures[0]
            .reason
            .contains("does not verify with the key"),
        "{}",
        show(&r)
    );
}

#[test]
fn payload_for_another_digest_fails() {
    let r = run(
        opts(&["p256"], false, None),
        &reference("other-digest", "ref"),
    );
    let s = &one(&r).signatures[0];
    assert!(!r.passed && !s.verified, "{}", show(&r));
    assert!(
        s.reason.contains(&format!(
            "its payload is for {}",
            reference("valid-p256", "digest")
        )),
        "{}",
        s.reason
    );
}

#[test]
fn tampered_payload_fails() {
    let r = run(opts(&["p256"], false, None), &reference("tampered", "ref"));
    let s = &one(&r).signatures[0];
    assert!(!r.passed && !s.verified, "{}", show(&r));
    assert!(
        s.reason.contains("does not verify with the key") && s.reason.contains("tampered"),
        "{}",
        s.reason
    );
}

#[test]
fn wrong_key_fails() {
    let r = run(opts(&["p256"], false, None), &reference("wrong-key", "ref"));
    assert!(!r.passed);
    assert!(
        one(&r).signatures[0]
            .reason
            .contains("does not verify with the key"),
        "{}",
        show(&r)
    );
    // ...and passes with the key that made it.
    let r = run(
        opts(&["other"], false, None),
        &reference("wrong-key", "ref"),
    );
    assert!(r.passed, "{}", show(&r));
}

#[test]
fn unsigned_image_fails_saying_where_it_looked() {
    let r = run(opts(&["p256"], false, None), &reference("unsigned", "ref"));
    let img = one(&r);
    assert!(!r.passed && img.signatures.is_empty(), "{}", show(&r));
    let c = &img.checks[0];
    assert!(
        !c.passed && c.evidence.starts_with("unsigned"),
        "{}",
        c.evidence
    );
    assert!(c.evidence.contains(".sig"), "{}", c.evidence);
}

#[test]
fn tag_moved_to_another_digest_fails() {
    // The tag now points at an unsigned digest: the old signature does not carry over.
    let r = run(opts(&["p256"], false, None), &reference("moved", "ref"));
    let img = one(&r);
    assert!(!r.passed, "{}", show(&r));
    assert_eq!(
        img.digest.as_deref(),
        Some(reference("moved", "digest").as_str())
    );
    assert_ne!(
        reference("moved", "digest"),
        reference("moved", "signed_digest")
    );
    assert!(
        img.checks[0].evidence.starts_with("unsigned"),
        "{}",
        show(&r)
    );
    // The signature still verifies for the digest it was made for.
    let pinned = format!(
        "{}/{}@{}",
        env().reg.host(),
        reference("moved", "repo"),
        reference("moved", "signed_digest")
    );
    assert!(run(opts(&["p256"], false, None), &pinned).passed);
    // The old signature manifest copied under the new digest's tag: caught by the payload.
    let r = run(
        opts(&["p256"], false, None),
        &reference("moved-copied", "ref"),
    );
    assert!(!r.passed, "{}", show(&r));
    assert!(
        one(&r).signatures[0].reason.contains("its payload is for"),
        "{}",
        show(&r)
    );
}

/// Each test writes its own file: tests run in parallel, and two writers of one path
/// let a reader see it truncated.
fn write_policy(name: &str, text: &str) -> PathBuf {
    let p = env().out.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const ATT_POLICY: &str = "version: 1
rules:
  - images: [\"127.0.0.1:*/t/**\"]
    max_age_days: 30
    signatures:
      - key: p256.pub
    attestations:
      - predicate_type: https://slsa.dev/provenance/v1
        builder_id: https://builder.test/ci@v1
        key: p256.pub
    forbidden_base_images: [\"docker.io/library/debian:9*\"]
";

#[test]
fn attestations_with_slsa_builder_and_materials() {
    let p = write_policy("att-builder.yml", ATT_POLICY);
    let r = run(opts(&[], false, Some(&p)), &reference("attested", "ref"));
    let img = one(&r);
    assert!(r.passed, "{}", show(&r));
    let a = &img.attestations[0];
    assert!(a.verified, "{}", show(&r));
    assert_eq!(a.predicate_type, "https://slsa.dev/provenance/v1");
    assert_eq!(a.builder.as_deref(), Some("https://builder.test/ci@v1"));
    assert_eq!(
        a.materials,
        vec![format!(
            "git+https://git.test/app@refs/heads/main@gitCommit:{}",
            "a".repeat(40)
        )]
    );
    let rules: Vec<&str> = img.checks.iter().map(|c| c.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["max-age", "base-image", "signature", "attestation"],
        "{}",
        show(&r)
    );
    // A builder the policy does not name fails.
    let p2 = write_policy(
        "att2.yml",
        &ATT_POLICY.replace("https://builder.test/ci@v1", "https://builder.test/other"),
    );
    let r = run(opts(&[], false, Some(&p2)), &reference("attested", "ref"));
    assert!(!r.passed);
    let c = one(&r)
        .checks
        .iter()
        .find(|c| c.rule == "attestation")
        .unwrap();
    assert!(
        c.evidence
            .contains("builder is https://builder.test/ci@v1, not https://builder.test/other"),
        "{}",
        c.evidence
    );
}

#[test]
fn attestation_with_a_wrong_subject_fails() {
    let p = write_policy("att-subject.yml", ATT_POLICY);
    let r = run(
        opts(&[], false, Some(&p)),
        &reference("att-wrong-subject", "ref"),
    );
    let img = one(&r);
    assert!(!r.passed, "{}", show(&r));
    let a = &img.attestations[0];
    assert!(
        !a.verified && a.reason.contains("its subject is sha256:"),
        "{}",
        a.reason
    );
    let failed: Vec<&str> = img
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.rule.as_str())
        .collect();
    // ...and its base image (label org.opencontainers.image.base.name) is forbidden;
    // it has no creation time within 30 days either (2026-01-01 vs now).
    assert!(
        failed.contains(&"attestation") && failed.contains(&"base-image"),
        "{}",
        show(&r)
    );
    let b = img.checks.iter().find(|c| c.rule == "base-image").unwrap();
    assert!(b.evidence.contains("debian:9"), "{}", b.evidence);
}

const KEYLESS_POLICY: &str = "version: 1
trusted_root: trusted_root.json
rules:
  - images: [\"**\"]
    signatures:
      - issuer: https://issuer.test
        subject: \"*@example.test\"
";

#[test]
fn keyless_certificates_against_the_trusted_root() {
    let p = write_policy("keyless.yml", KEYLESS_POLICY);
    let r = run(opts(&[], false, Some(&p)), &reference("keyless", "ref"));
    let img = one(&r);
    assert!(r.passed, "{}", show(&r));
    let s = &img.signatures[0];
    assert_eq!(
        s.identity.as_deref(),
        Some("dev@example.test (issuer https://issuer.test)")
    );
    assert!(
        s.reason.contains("chains to the trusted root") && s.reason.contains("SET"),
        "{}",
        s.reason
    );

    let r = run(
        opts(&[], false, Some(&p)),
        &reference("keyless-expired", "ref"),
    );
    let s = &one(&r).signatures[0];
    assert!(!r.passed && !s.verified, "{}", show(&r));
    assert!(
        s.reason.contains("was not valid at") && s.reason.contains("expired"),
        "{}",
        s.reason
    );

    let r = run(
        opts(&[], false, Some(&p)),
        &reference("keyless-wrong-identity", "ref"),
    );
    let img = one(&r);
    assert!(!r.passed, "{}", show(&r));
    assert!(
        img.signatures[0].verified,
        "the certificate itself is fine: {}",
        show(&r)
    );
    let c = img.checks.iter().find(|c| c.rule == "signature").unwrap();
    assert!(
        c.evidence
            .contains("signed only by mallory@evil.test (issuer https://issuer.test)"),
        "{}",
        c.evidence
    );

    let r = run(
        opts(&[], false, Some(&p)),
        &reference("keyless-bad-set", "ref"),
    );
    let s = &one(&r).signatures[0];
    assert!(
        !r.passed && s.reason.contains("signed entry timestamp"),
        "{}",
        show(&r)
    );

    // A genuine log entry (its SET verifies) about another payload than the one signed.
    let r = run(
        opts(&[], false, Some(&p)),
        &reference("keyless-other-entry", "ref"),
    );
    let s = &one(&r).signatures[0];
    assert!(
        !r.passed
            && s.reason
                .contains("the hashedrekord log entry is about another payload"),
        "{}",
        show(&r)
    );
}

#[test]
fn sigstore_bundles_found_through_the_referrers_tag_schema() {
    let p = write_policy(
        "bundle.yml",
        &KEYLESS_POLICY.replace("\"*@example.test\"", "\"https://git.test/app/*\""),
    );
    let r = run(
        opts(&[], false, Some(&p)),
        &reference("bundle-keyless", "ref"),
    );
    let img = one(&r);
    assert!(r.passed, "{}", show(&r));
    let s = &img.signatures[0];
    assert_eq!(s.kind, "sigstore-bundle");
    assert!(
        s.reason
            .contains("inclusion proof (index 2 of 3, signed checkpoint)"),
        "{}",
        s.reason
    );
    assert!(s.reason.contains("referrers tag schema"), "{}", s.reason);

    let r = run(
        opts(&["p256"], false, None),
        &reference("bundle-att", "ref"),
    );
    let img = one(&r);
    assert!(r.passed, "{}", show(&r));
    let a = &img.attestations[0];
    assert!(a.verified && a.kind == "sigstore-bundle", "{}", show(&r));
    assert_eq!(a.builder.as_deref(), Some("https://builder.test/ci@v1"));
}

#[test]
fn pinning_and_registries() {
    let p = write_policy(
        "pin.yml",
        "rules:\n  - images: [\"**\"]\n    require_digest: true\n    allowed_registries: [\"registry.example\"]\n",
    );
    let r = run(opts(&[], false, Some(&p)), &reference("valid-p256", "ref"));
    let img = one(&r);
    assert!(!r.passed);
    let pin = img.checks.iter().find(|c| c.rule == "pinned").unwrap();
    assert!(
        !pin.passed && pin.evidence.contains("pin it as"),
        "{}",
        pin.evidence
    );
    let reg = img.checks.iter().find(|c| c.rule == "registry").unwrap();
    assert!(
        !reg.passed
            && reg
                .evidence
                .contains("not among the allowed (registry.example)"),
        "{}",
        reg.evidence
    );
    let r = run(
        opts(&[], false, Some(&p)),
        &reference("valid-p256", "pinned"),
    );
    let pin = one(&r).checks.iter().find(|c| c.rule == "pinned").unwrap();
    assert!(pin.passed, "{}", show(&r));
}

#[test]
fn without_a_policy_only_the_given_keys_vouch() {
    // A keyless signature is listed and verified, but identity-less trust is not given.
    let r = run(opts(&["p256"], true, None), &reference("keyless", "ref"));
    let img = one(&r);
    assert!(!r.passed, "{}", show(&r));
    assert!(img.signatures[0].verified, "{}", show(&r));
    assert!(
        img.checks[0].evidence.contains("with the given key(s)"),
        "{}",
        show(&r)
    );
    let e = Plan::new(opts(&[], true, None)).err().unwrap().to_string();
    assert!(
        e.contains("--trusted-root alone would accept any identity"),
        "{e}"
    );
}

#[test]
fn unreadable_key_and_unreachable_registry_are_errors() {
    let bad = env().out.join("garbage.pub");
    std::fs::write(&bad, "not a key").unwrap();
    let mut o = opts(&[], false, None);
    o.keys = vec![bad];
    let e = Plan::new(o).err().unwrap().to_string();
    assert!(
        e.contains("garbage.pub") && e.contains("no PEM block"),
        "{e}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = opts(&["p256"], false, None);
    o.image.insecure_registries = vec![format!("127.0.0.1:{port}")];
    let e = Plan::new(o)
        .unwrap()
        .run(&[format!("registry:127.0.0.1:{port}/t/x:1")], None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot reach"), "{e}");
}

/// Interop: the bundles the test signer makes (and moat verifies above) verify with the
/// reference verifier, `@sigstore/verify`; a tampered copy does not.
#[test]
fn reference_verifier_accepts_the_test_signers_bundles() {
    let e = env();
    let node_modules =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/node/node_modules");
    assert!(
        node_modules.join("@sigstore/verify/package.json").is_file(),
        "@sigstore/verify is missing: run scripts/install-deps"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/verify_bundle.js");
    let node = |bundle: &Path, artifact: &str, key: Option<&Path>| -> serde_json::Value {
        let mut c = std::process::Command::new("node");
        c.env("NODE_PATH", &node_modules)
            .arg(&script)
            .arg(e.out.join("trusted_root.json"))
            .arg(bundle)
            .arg(artifact);
        if let Some(k) = key {
            c.arg(k);
        }
        let o = c.output().expect("node (scripts/install-deps)");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let keyless = e.out.join("bundle-t_bundle-keyless.json");
    let manifest = e.out.join("manifest-t_bundle-keyless.json");
    let v = node(&keyless, manifest.to_str().unwrap(), None);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(
        v["identity"],
        "https://git.test/app/.github/workflows/release.yml@refs/heads/main"
    );
    let v = node(
        &e.out.join("bundle-t_bundle-att.json"),
        "-",
        Some(&e.out.join("p256.pub")),
    );
    assert_eq!(v["ok"], true, "{v}");
    // Negative control: another artifact than the one signed.
    let other = e.out.join("manifest-t_bundle-att.json");
    let v = node(&keyless, other.to_str().unwrap(), None);
    assert_eq!(v["ok"], false, "{v}");
}

/// Sources without a registry: an OCI layout (directory or archive) holding the
/// signature manifest is verified offline; a docker-archive says signatures cannot be
/// looked up.
#[test]
fn sources_without_a_registry() {
    let e = env();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("lay");
    let digest = reference("valid-p256", "digest");
    let skopeo = |src: String, dest: String| {
        let o = std::process::Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false"])
            .arg(format!("docker://{src}"))
            .arg(dest)
            .output()
            .expect("skopeo (scripts/install-deps)");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    skopeo(
        reference("valid-p256", "ref"),
        format!("oci:{}:img", layout.display()),
    );
    let lone = format!("oci-dir:{}:img", layout.display());
    let r = Plan::new(opts(&["p256"], false, None))
        .unwrap()
        .run(std::slice::from_ref(&lone), None)
        .unwrap();
    assert!(!r.passed, "{}", show(&r));
    assert!(
        one(&r).notes[0].contains("no signature or attestation found in oci-dir:"),
        "{}",
        show(&r)
    );
    let sig_tag = format!("{}.sig", digest.replace(':', "-"));
    skopeo(
        format!(
            "{}/{}:{sig_tag}",
            e.reg.host(),
            reference("valid-p256", "repo")
        ),
        format!("oci:{}:{sig_tag}", layout.display()),
    );
    let r = Plan::new(opts(&["p256"], false, None))
        .unwrap()
        .run(&[lone], None)
        .unwrap();
    assert!(r.passed, "{}", show(&r));
    assert_eq!(one(&r).digest.as_deref(), Some(digest.as_str()));
    // The same layout as an oci-archive.
    let tar = dir.path().join("lay.tar");
    let o = std::process::Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert!(o.status.success());
    let r = Plan::new(opts(&["p256"], false, None))
        .unwrap()
        .run(&[format!("oci-archive:{}", tar.display())], None)
        .unwrap();
    // Two manifests in the archive's index (the image and the signature) and no tag
    // named: the image is the one not under a sha256-… tag.
    assert!(r.passed, "{}", show(&r));
    assert_eq!(one(&r).digest.as_deref(), Some(digest.as_str()));
    // A docker-archive holds no signature manifests.
    let da = dir.path().join("img.tar");
    let o = std::process::Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false"])
        .arg(format!("docker://{}", reference("valid-p256", "ref")))
        .arg(format!("docker-archive:{}:t/valid:1", da.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Plan::new(opts(&["p256"], false, None))
        .unwrap()
        .run(&[format!("docker-archive:{}", da.display())], None)
        .unwrap();
    let img = one(&r);
    assert!(!r.passed, "{}", show(&r));
    assert!(
        img.notes[0].contains("signatures cannot be looked up in a docker-archive"),
        "{}",
        show(&r)
    );
    assert!(
        img.checks[0]
            .evidence
            .contains("signatures cannot be looked up"),
        "{}",
        show(&r)
    );
}

/// A registry front that offers the OCI referrers API (Debian's docker-registry 2.8 does
/// not): `GET /v2/<repo>/referrers/<digest>` answers the referrers index (taken from the
/// tag-schema tag); every other request is passed to the real registry.
fn referrers_front(upstream: String) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hits2 = hits.clone();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut accept = None;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("accept")
                {
                    accept = Some(v.trim().to_string());
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let url = match path.split_once("/referrers/") {
                Some((repo, digest)) => {
                    hits2.fetch_add(1, Ordering::SeqCst);
                    format!(
                        "http://{upstream}{repo}/manifests/{}",
                        digest.replacen(':', "-", 1)
                    )
                }
                None => format!("http://{upstream}{path}"),
            };
            let mut req = agent.get(&url);
            if let Some(a) = &accept {
                req = req.header("Accept", a);
            }
            let Ok(mut resp) = req.call() else { continue };
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            let mut body = Vec::new();
            let _ = resp.body_mut().as_reader().read_to_end(&mut body);
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    (port, hits)
}

#[test]
fn sigstore_bundles_found_through_the_referrers_api() {
    let e = env();
    let (port, hits) = referrers_front(e.reg.host());
    let mut o = opts(&["p256"], false, None);
    o.image.insecure_registries = vec![format!("127.0.0.1:{port}")];
    let src = format!("127.0.0.1:{port}/{}:1", reference("bundle-att", "repo"));
    let r = run(o, &src);
    let img = one(&r);
    assert!(r.passed, "{}", show(&r));
    let a = &img.attestations[0];
    assert!(
        a.verified && a.reason.contains("(referrers API)"),
        "{}",
        show(&r)
    );
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

/// The scan gate: the binary supplies `moat scan`; here a stand-in reports findings.
struct FakeScan(
    Vec<(&'static str, moat_model::Severity)>,
    std::sync::Mutex<Vec<String>>,
);

impl moat_verify::ScanRunner for FakeScan {
    fn scan(&self, source: &str) -> Result<moat_verify::GateResult, moat_verify::VerifyError> {
        self.1.lock().unwrap().push(source.to_string());
        Ok(moat_verify::GateResult {
            findings: self
                .0
                .iter()
                .map(|(id, s)| moat_verify::GateFinding {
                    id: id.to_string(),
                    severity: *s,
                    kev: false,
                })
                .collect(),
            kev_known: false,
        })
    }
}

#[test]
fn scan_gate_fails_above_max_severity_and_scans_the_verified_digest() {
    use moat_model::Severity::{High, Low};
    let p = write_policy(
        "scan.yml",
        "rules:\n  - images: [\"**\"]\n    scan: {max_severity: medium, kev: deny}\n",
    );
    let plan = Plan::new(opts(&[], false, Some(&p))).unwrap();
    assert!(plan.wants_scan());
    let src = format!("registry:{}", reference("unsigned", "ref"));
    let gate = FakeScan(vec![("CVE-1", Low), ("CVE-2", High)], Default::default());
    let r = plan.run(std::slice::from_ref(&src), Some(&gate)).unwrap();
    let img = one(&r);
    assert!(!r.passed, "{}", show(&r));
    let scan = img.checks.iter().find(|c| c.rule == "scan").unwrap();
    assert!(
        scan.evidence
            .starts_with("1 finding(s) above medium: CVE-2 (high)"),
        "{}",
        scan.evidence
    );
    let kev = img.checks.iter().find(|c| c.rule == "kev").unwrap();
    assert!(
        kev.passed && kev.evidence.starts_with("not enforced"),
        "{}",
        kev.evidence
    );
    assert_eq!(
        gate.1.lock().unwrap().as_slice(),
        [format!(
            "registry:{}@{}",
            reference("unsigned", "ref").trim_end_matches(":1"),
            reference("unsigned", "digest")
        )]
    );
    let gate = FakeScan(vec![("CVE-1", Low)], Default::default());
    assert!(plan.run(&[src], Some(&gate)).unwrap().passed);
}

/// A scanner stand-in whose database knows KEV membership: `CVE-K` is known exploited.
struct FakeKevScan(bool);

impl moat_verify::ScanRunner for FakeKevScan {
    fn scan(&self, _source: &str) -> Result<moat_verify::GateResult, moat_verify::VerifyError> {
        let mut findings = vec![moat_verify::GateFinding {
            id: "CVE-1".into(),
            severity: moat_model::Severity::Low,
            kev: false,
        }];
        if self.0 {
            findings.push(moat_verify::GateFinding {
                id: "CVE-K".into(),
                severity: moat_model::Severity::Low,
                kev: true,
            });
        }
        Ok(moat_verify::GateResult {
            findings,
            kev_known: true,
        })
    }
}

#[test]
fn kev_deny_fails_on_a_known_exploited_finding_when_kev_is_known() {
    let p = write_policy(
        "kev.yml",
        "rules:\n  - images: [\"**\"]\n    scan: {kev: deny}\n",
    );
    let plan = Plan::new(opts(&[], false, Some(&p))).unwrap();
    let src = format!("registry:{}", reference("unsigned", "ref"));
    let r = plan
        .run(std::slice::from_ref(&src), Some(&FakeKevScan(true)))
        .unwrap();
    let kev = one(&r).checks.iter().find(|c| c.rule == "kev").unwrap();
    assert!(
        !kev.passed && kev.evidence.contains("CVE-K"),
        "{}",
        kev.evidence
    );
    assert!(!r.passed);
    let r = plan
        .run(std::slice::from_ref(&src), Some(&FakeKevScan(false)))
        .unwrap();
    let kev = one(&r).checks.iter().find(|c| c.rule == "kev").unwrap();
    assert!(kev.passed, "{}", kev.evidence);
}
