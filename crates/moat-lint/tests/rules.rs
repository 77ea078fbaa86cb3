//! Every rule: its fixture under tests/fixtures fires it, and the findings match the
//! committed insta snapshot (tests/snapshots/rules__<CODE>.snap).

#![allow(clippy::unwrap_used)] // tests

use moat_lint::{Kind, lint_source};
use moat_model::{ConfigFinding, RuleTarget};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture of a rule and its kind.
fn fixture(code: &str, target: RuleTarget) -> Option<(PathBuf, Kind)> {
    let d = fixtures();
    let (p, k) = match target {
        RuleTarget::Dockerfile => (d.join(format!("{code}.Dockerfile")), Kind::Dockerfile),
        RuleTarget::Compose => (d.join(format!("{code}.compose.yml")), Kind::Compose),
        RuleTarget::Daemon => (d.join(code).join("daemon.json"), Kind::Daemon),
        _ => return None,
    };
    p.exists().then_some((p, k))
}

fn lint_fixture(code: &str, target: RuleTarget) -> Vec<ConfigFinding> {
    let (p, kind) = fixture(code, target).unwrap_or_else(|| panic!("no fixture for {code}"));
    let text = std::fs::read_to_string(&p).unwrap();
    let name = p.strip_prefix(fixtures()).unwrap().display().to_string();
    if kind == Kind::Dockerfile {
        // The rules that read a hadolint configuration see this one.
        return moat_lint::lint_dockerfile(&name, &text, &fixture_config());
    }
    let mut f = lint_source(kind, &name, &text).unwrap();
    moat_lint::suppress::apply_inline(&text, &mut f);
    f
}

/// The configuration the Dockerfile fixtures are linted with: trusted registries and a
/// label schema (OCI annotations), strict labels.
fn fixture_config() -> moat_lint::rules::RuleConfig {
    use moat_lint::rules::LabelType::*;
    let schema = [
        ("maintainer", Email),
        ("org.opencontainers.image.title", Text),
        ("org.opencontainers.image.source", Url),
        ("org.opencontainers.image.created", Rfc3339),
        ("org.opencontainers.image.licenses", Spdx),
        ("org.opencontainers.image.revision", Hash),
        ("org.opencontainers.image.version", Semver),
    ];
    moat_lint::rules::RuleConfig {
        trusted_registries: vec!["docker.io".into()],
        label_schema: schema.iter().map(|(k, t)| (k.to_string(), *t)).collect(),
        strict_labels: true,
    }
}

#[test]
fn every_rule_fires_on_its_fixture_and_matches_its_snapshot() {
    let mut checked = 0;
    for m in moat_lint::rules::metas() {
        if matches!(m.target, RuleTarget::ImageConfig) {
            continue;
        }
        let all = lint_fixture(m.code, m.target);
        let mine: Vec<_> = all.into_iter().filter(|f| f.rule == m.code).collect();
        assert!(!mine.is_empty(), "{} does not fire on its fixture", m.code);
        insta::assert_json_snapshot!(m.code, mine);
        checked += 1;
    }
    assert!(checked >= 70, "only {checked} rules checked");
}

#[test]
fn every_rule_file_has_the_doc_sections() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
    for m in moat_lint::rules::metas() {
        let prefix = m.code.to_ascii_lowercase();
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .unwrap_or_else(|| panic!("no file for {}", m.code));
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.starts_with(&format!("//! {}", m.code)), "{}", m.code);
        for s in [
            "**What it does:**",
            "**Why is this bad?**",
            "**Example:**",
            "**Use instead:**",
            "**References:**",
        ] {
            assert!(text.contains(s), "{} lacks {s}", m.code);
        }
    }
}

#[test]
fn codes_are_unique_and_aliases_resolve() {
    let metas = moat_lint::rules::metas();
    let mut codes: Vec<_> = metas.iter().map(|m| m.code).collect();
    codes.dedup();
    assert_eq!(codes.len(), metas.len());
    assert_eq!(
        moat_lint::rules::find("DL3008").map(|r| r.meta().code),
        Some("DF011")
    );
    assert_eq!(
        moat_lint::rules::find("dl3002").map(|r| r.meta().code),
        Some("DF001")
    );
}

#[test]
fn a_hardened_daemon_json_is_clean() {
    let text = r#"{
  "icc": false,
  "userns-remap": "default",
  "live-restore": true,
  "no-new-privileges": true,
  "userland-proxy": false,
  "log-driver": "journald",
  "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
  "tlsverify": true,
  "tlscacert": "/etc/docker/ca.pem"
}"#;
    assert_eq!(
        lint_source(Kind::Daemon, "daemon.json", text).unwrap(),
        vec![]
    );
}

#[test]
fn a_hardened_compose_service_is_clean() {
    let text = "services:\n  app:\n    image: app:1.2.3\n    user: \"10001\"\n    read_only: true\n    security_opt: [\"no-new-privileges:true\"]\n    mem_limit: 256m\n    cpus: 0.5\n    pids_limit: 100\n    networks: [back]\nnetworks:\n  back: {}\n";
    assert_eq!(
        lint_source(Kind::Compose, "compose.yml", text).unwrap(),
        vec![]
    );
}

#[test]
fn invalid_inputs_are_errors_naming_the_file() {
    let e = lint_source(Kind::Compose, "bad/compose.yml", "services: [\n").unwrap_err();
    assert!(
        e.to_string().starts_with("bad/compose.yml: invalid YAML"),
        "{e}"
    );
    let e = lint_source(Kind::Daemon, "daemon.json", "{nope").unwrap_err();
    assert!(
        e.to_string().starts_with("daemon.json: invalid JSON"),
        "{e}"
    );
}

#[test]
fn inline_suppression_in_a_dockerfile() {
    let text =
        "FROM debian:12.8\n# moat:ignore DF029 legacy build script\nRUN cd /x && make\nRUN cd /y\n";
    let mut f = lint_source(Kind::Dockerfile, "Dockerfile", text).unwrap();
    moat_lint::suppress::apply_inline(text, &mut f);
    let cd: Vec<u32> = f
        .iter()
        .filter(|f| f.rule == "DF029")
        .map(|f| f.line)
        .collect();
    assert_eq!(cd, [4]);
}

/// The whole shared corpus lints without an error or a panic.
#[test]
fn shared_corpus_lints_without_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.exists() {
        eprintln!("skipping: {} not present", root.display());
        return;
    }
    let targets =
        moat_lint::collect_targets(&[root.join("dockerfiles"), root.join("compose")]).unwrap();
    assert!(targets.len() >= 200, "{}", targets.len());
    let mut total = 0;
    for t in &targets {
        total += moat_lint::lint_file(t)
            .unwrap_or_else(|e| panic!("{e}"))
            .len();
    }
    assert!(total > 1000, "{total}");
}
