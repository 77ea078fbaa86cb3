//! Compose-only models (no daemon) of every compose file in the shared corpus: each
//! gives a graph or a clear error naming the file; and hand-written fixtures whose
//! reachability is known.

#![allow(clippy::unwrap_used)]

use moat_model::network::{EXTERNAL, Reason};
use moat_netseg::{Options, Policy, from_compose};
use std::path::{Path, PathBuf};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/compose");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn every_corpus_file_gives_a_graph_or_a_clear_error() {
    let files = corpus();
    assert!(files.len() >= 50, "corpus has {} files", files.len());
    let (mut graphs, mut errors, mut edges, mut findings) = (0, 0, 0, 0);
    for f in &files {
        match from_compose(std::slice::from_ref(f), &Options::default()) {
            Ok(r) => {
                graphs += 1;
                assert!(!r.nodes.is_empty(), "{}: no services", f.display());
                assert!(
                    !r.networks.is_empty() || r.nodes.iter().all(|n| n.endpoints.is_empty()),
                    "{}",
                    f.display()
                );
                // Every edge names nodes of the model (or a pseudo-node).
                for e in &r.edges {
                    for end in [&e.from, &e.to] {
                        assert!(
                            end == EXTERNAL
                                || end == "host"
                                || r.nodes.iter().any(|n| &n.name == end),
                            "{}: edge {e:?} names an unknown node",
                            f.display()
                        );
                    }
                }
                // Every service on a non-internal network has egress.
                for n in &r.nodes {
                    if n.endpoints.iter().any(|ep| {
                        r.networks
                            .iter()
                            .any(|x| x.name == ep.network && !x.internal)
                    }) {
                        assert!(
                            r.edges
                                .iter()
                                .any(|e| e.from == n.name
                                    && matches!(e.reason, Reason::Egress { .. })),
                            "{}: {} has no egress",
                            f.display(),
                            n.name
                        );
                    }
                }
                edges += r.edges.len();
                findings += r.findings.len();
                // Deterministic: a second run gives the same report.
                let again = from_compose(std::slice::from_ref(f), &Options::default()).unwrap();
                assert_eq!(r, again, "{}", f.display());
            }
            Err(e) => {
                errors += 1;
                let msg = e.to_string();
                assert!(
                    msg.contains(&f.display().to_string()),
                    "error does not name the file: {msg}"
                );
            }
        }
    }
    eprintln!(
        "{graphs} graphs ({edges} edges, {findings} findings), {errors} errors of {} files",
        files.len()
    );
    assert!(
        graphs >= files.len() - 2,
        "{errors} of {} corpus files failed",
        files.len()
    );
}

#[test]
fn pihole_fixed_addresses_and_published_dns() {
    let f = corpus()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("pihole-cloudflared"))
        .unwrap();
    let r = from_compose(&[f], &Options::default()).unwrap();
    let cf = r.nodes.iter().find(|n| n.name == "cloudflared").unwrap();
    assert_eq!(cf.endpoints[0].ipv4.as_deref(), Some("172.20.0.2"));
    let net = r
        .networks
        .iter()
        .find(|n| n.key.as_deref() == Some("dns-net"))
        .unwrap();
    assert_eq!(net.subnets, ["172.20.0.0/24"]);
    // pihole reaches cloudflared's published 5054 (tcp and udp) on dns-net.
    for proto in ["tcp", "udp"] {
        assert!(
            r.edges.iter().any(|e| e.from == "pihole"
                && e.to == "cloudflared"
                && e.port
                    .is_some_and(|p| p.port == 5054 && p.proto.as_str() == proto)
                && matches!(&e.reason, Reason::SameNetwork { network } if network == &net.name)),
            "{:#?}",
            r.edges
        );
    }
    // Published DNS is reachable from outside.
    assert!(
        r.edges.iter().any(|e| e.from == EXTERNAL
            && e.to == "pihole"
            && e.port.is_some_and(|p| p.port == 53))
    );
}

#[test]
fn segmented_fixture_model_rules_and_policy() {
    let r = from_compose(&[fixture("segmented/compose.yaml")], &Options::default()).unwrap();
    let reach = |from: &str, to: &str, port: u16| {
        r.edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.port.is_none_or(|p| p.port == port))
    };
    assert!(reach("web", "api", 8080));
    assert!(reach("api", "db", 5432));
    assert!(
        !reach("web", "db", 5432)
            || r.nodes
                .iter()
                .find(|n| n.name == "db")
                .unwrap()
                .endpoints
                .len()
                > 1
    );
    // db is also on frontend: the deliberate violation.
    assert!(reach("web", "db", 5432));
    // NS001: PostgreSQL reachable on a network holding a published service.
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule() == "NS001" && f.object == "db"),
        "{:#?}",
        r.findings
    );
    // NS005: the admin port published on all interfaces.
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule() == "NS005" && f.object == "admin")
    );
    // NS006: the socket.
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule() == "NS006" && f.object == "admin")
    );
    // The internal db network has no egress.
    assert!(!r.edges.iter().any(|e| e.from == "db"
        && matches!(&e.reason, Reason::Egress { network } if network.ends_with("_db"))));

    let policy = Policy::load(&fixture("segmented/policy.yaml")).unwrap();
    let opts = Options {
        policy: Some(policy),
        ..Default::default()
    };
    let r = from_compose(&[fixture("segmented/compose.yaml")], &opts).unwrap();
    let p = r.policy.as_ref().unwrap();
    assert!(!p.passed);
    let v: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.rule() == "NP001")
        .map(|f| f.edge.as_ref().unwrap().label())
        .collect();
    assert!(v.contains(&"web -> db:5432/tcp".to_string()), "{v:#?}");
    assert!(!v.contains(&"web -> api:8080/tcp".to_string()), "{v:#?}");
    assert!(!v.contains(&"api -> db:5432/tcp".to_string()), "{v:#?}");

    // Without the violation the policy passes.
    let r = from_compose(&[fixture("segmented/compose-fixed.yaml")], &opts).unwrap();
    let bad: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule().starts_with("NP"))
        .collect();
    assert!(r.policy.as_ref().unwrap().passed, "{bad:#?}");
}

#[test]
fn network_modes_and_clear_errors() {
    let r = from_compose(&[fixture("modes.yaml")], &Options::default()).unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule() == "NS003" && f.object == "sniffer")
    );
    // sidecar shares app's namespace: every port, and it has app's networks.
    assert!(r.edges.iter().any(|e| e.from == "sidecar"
        && e.to == "app"
        && matches!(e.reason, Reason::SharedNamespace)));
    assert!(
        r.edges
            .iter()
            .any(|e| e.from == "other" && e.to == "sidecar")
    );
    // none: nothing in or out.
    assert!(
        !r.edges
            .iter()
            .any(|e| e.from == "offline" || e.to == "offline")
    );
    // The default bridge.
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule() == "NS002" && f.object == "legacy")
    );

    let e = from_compose(&[fixture("not-compose.yaml")], &Options::default()).unwrap_err();
    assert!(e.to_string().contains("not-compose.yaml"), "{e}");
    let e = from_compose(&[fixture("missing.yaml")], &Options::default()).unwrap_err();
    assert!(e.to_string().contains("missing.yaml"), "{e}");
    let e = from_compose(&[fixture("broken.yaml")], &Options::default()).unwrap_err();
    assert!(
        e.to_string().contains("broken.yaml") && e.to_string().contains("YAML"),
        "{e}"
    );
}
