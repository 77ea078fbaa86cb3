//! Several compose files merged like `docker compose -f a -f b`: the examples of the
//! compose specification's merge rules (docs.docker.com/reference/compose-file/merge/:
//! mappings, sequences, shell commands, unique resources, `!reset`, `!override`), each
//! checked as the merged tree, and the network model of a base file plus an override.

#![allow(clippy::unwrap_used)]

use moat_lint::compose::{Node, Value};
use moat_netseg::compose::{ComposeLimits, merge_files};
use moat_netseg::{Options, from_compose};
use std::path::PathBuf;

/// The tree without positions, as JSON (maps keep their order).
fn plain(n: &Node) -> serde_json::Value {
    match &n.value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => (*f).into(),
        Value::Str(s) => s.clone().into(),
        Value::Seq(v) => v.iter().map(plain).collect(),
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default(), plain(v)))
                .collect(),
        ),
    }
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The merged `services` of the files, as JSON.
fn merged(files: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, t)| write(&dir, &format!("f{i}.yaml"), t))
        .collect();
    let m = merge_files(&paths, &ComposeLimits::default()).unwrap();
    plain(m.compose.root.get("services").unwrap())
}

fn expect(yaml: &str) -> serde_json::Value {
    let c = moat_lint::compose::parse(yaml, &Default::default()).unwrap();
    plain(c.root.get("services").unwrap())
}

#[test]
fn mappings_merge_key_by_key() {
    assert_eq!(
        merged(&[
            "services:\n  foo:\n    key1: value1\n    key2: value2\n",
            "services:\n  foo:\n    key2: VALUE\n    key3: value3\n",
        ]),
        expect("services:\n  foo:\n    key1: value1\n    key2: VALUE\n    key3: value3\n")
    );
}

#[test]
fn sequences_append() {
    assert_eq!(
        merged(&[
            "services:\n  foo:\n    DNS:\n      - 1.1.1.1\n",
            "services:\n  foo:\n    DNS: \n      - 8.8.8.8\n",
        ]),
        expect("services:\n  foo:\n    DNS:\n      - 1.1.1.1\n      - 8.8.8.8\n")
    );
}

#[test]
fn shell_commands_are_replaced() {
    assert_eq!(
        merged(&[
            "services:\n  foo:\n    command: [\"echo\", \"foo\"]\n",
            "services:\n  foo:\n    command: [\"echo\", \"bar\"]\n",
        ]),
        expect("services:\n  foo:\n    command: [\"echo\", \"bar\"]\n")
    );
}

#[test]
fn unique_resources_merge_by_key() {
    // The specification's example: one target, the later source wins.
    assert_eq!(
        merged(&[
            "services:\n  foo:\n    volumes:\n      - foo:/work\n",
            "services:\n  foo:\n    volumes:\n      - bar:/work\n",
        ]),
        expect("services:\n  foo:\n    volumes:\n      - bar:/work\n")
    );
    // Ports: unique by {ip, target, published, protocol}; a new one is appended.
    assert_eq!(
        merged(&[
            "services:\n  foo:\n    ports:\n      - \"8080:80\"\n",
            "services:\n  foo:\n    ports:\n      - \"8080:80\"\n      - \"8443:443\"\n",
        ]),
        expect("services:\n  foo:\n    ports:\n      - \"8080:80\"\n      - \"8443:443\"\n")
    );
}

#[test]
fn reset_and_override_tags() {
    // The specification's `!reset` example.
    assert_eq!(
        merged(&[
            "services:\n  app:\n    image: myapp\n    ports:\n      - \"8080:80\" \n    environment:\n      FOO: BAR           \n",
            "services:\n  app:\n    image: myapp\n    ports: !reset []\n    environment:\n      FOO: !reset null\n",
        ]),
        expect("services:\n  app:\n    image: myapp\n    environment: {}\n")
    );
    // The `!override` example.
    assert_eq!(
        merged(&[
            "services:\n  app:\n    image: myapp\n    ports:\n      - \"8080:80\"\n",
            "services:\n  app:\n    ports: !override\n      - \"8443:443\" \n",
        ]),
        expect("services:\n  app:\n    image: myapp\n    ports:\n      - \"8443:443\"\n")
    );
}

#[test]
fn an_override_file_changes_the_network_model() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        &dir,
        "compose.yaml",
        "name: shop\nservices:\n  web:\n    image: nginx\n    networks: [front]\n    ports: [\"8080:80\"]\n  db:\n    image: postgres:16\n    networks: [back]\nnetworks:\n  front: {}\n  back: {}\n",
    );
    // The override puts db on front too, adds a label, publishes 5432 on loopback and
    // makes back internal.
    let over = write(
        &dir,
        "compose.override.yaml",
        "services:\n  db:\n    networks:\n      front:\n        aliases: [database]\n    labels: [tier=data]\n    ports: [\"127.0.0.1:5432:5432\"]\nnetworks:\n  back:\n    internal: true\n",
    );
    let r = from_compose(&[base.clone(), over.clone()], &Options::default()).unwrap();
    assert_eq!(r.nodes.len(), 2, "one project, not two side by side");
    let db = r.nodes.iter().find(|n| n.name == "db").unwrap();
    let nets: Vec<&str> = db.endpoints.iter().map(|e| e.network.as_str()).collect();
    assert_eq!(nets, ["shop_back", "shop_front"]);
    assert!(
        db.endpoints
            .iter()
            .any(|e| e.aliases.contains(&"database".to_string()))
    );
    assert_eq!(db.labels.get("tier").map(String::as_str), Some("data"));
    assert_eq!(db.published.len(), 1);
    assert!(db.defined_at.as_deref().unwrap().contains("compose.yaml:"));
    assert!(
        r.networks
            .iter()
            .any(|n| n.name == "shop_back" && n.internal)
    );
    // The merge is what makes web reach db:5432 on front.
    assert!(
        r.edges
            .iter()
            .any(|e| e.from == "web" && e.to == "db" && e.port.map(|p| p.port) == Some(5432))
    );
    let alone = from_compose(&[base], &Options::default()).unwrap();
    assert!(!alone.edges.iter().any(|e| e.from == "web"
        && e.to == "db"
        && e.port.map(|p| p.port) == Some(5432)
        && matches!(e.reason, moat_model::network::Reason::SameNetwork { .. })));
}

#[test]
fn tags_inside_block_scalars_are_text() {
    let (tags, text) = moat_netseg::compose::merge_tags(
        "services:\n  a:\n    command: |\n      echo x: !reset\n    ports: !reset []\n",
    );
    assert!(text.contains("echo x: !reset"), "{text}");
    assert_eq!(tags.len(), 1);
    assert!(tags.contains_key(&vec![
        "services".to_string(),
        "a".to_string(),
        "ports".to_string()
    ]));
}
