//! `--store`: the outbound connections `moat monitor` stored, next to the model. The
//! store is written through moat-store's public API with records shaped exactly as
//! the monitor writes them (kind `event`, the body a serialized `RuntimeEvent` with
//! `source: net`, `type: connect` and the socket in `net`).

#![allow(clippy::unwrap_used)]

use moat_model::runtime::{ContainerInfo, EventSource, NetInfo, RuntimeEvent};
use moat_netseg::{Options, Policy, from_compose};
use moat_store::{Record, Store};

const COMPOSE: &str = "name: obs
services:
  web:
    image: busybox
    networks:
      front: {ipv4_address: 10.5.1.10}
  api:
    image: busybox
    expose: [\"8080\"]
    networks:
      front: {ipv4_address: 10.5.1.20}
      back: {ipv4_address: 10.5.2.20}
  db:
    image: postgres:16
    networks:
      back: {ipv4_address: 10.5.2.30}
networks:
  front:
    ipam: {config: [{subnet: 10.5.1.0/24, gateway: 10.5.1.1}]}
  back:
    internal: true
    ipam: {config: [{subnet: 10.5.2.0/24, gateway: 10.5.2.1}]}
";

const POLICY: &str = "zones:
  web: {services: [web]}
  api: {services: [api]}
  data: {services: [db]}
allow:
  - web -> api:8080/tcp
  - api -> data:5432/tcp
egress: [api]
";

fn connect(name: &str, dip: &str, dport: u16, t: i64) -> Record {
    let ev = RuntimeEvent {
        time_ns: t,
        source: EventSource::Net,
        kind: "connect".into(),
        container: Some(ContainerInfo {
            id: format!("{:064x}", t),
            name: name.into(),
            ..Default::default()
        }),
        net: Some(NetInfo {
            proto: "tcp".into(),
            direction: "outbound".into(),
            sip: "10.5.1.10".into(),
            sport: 40000 + u16::try_from(t % 1000).unwrap(),
            dip: dip.into(),
            dport,
        }),
        ..Default::default()
    };
    Record::new("event", t, serde_json::to_value(&ev).unwrap())
        .key(&format!("net:{name}:connect:{t}"))
        .container(&format!("{:064x}", t))
}

#[test]
fn observed_flows_are_judged_next_to_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let compose = dir.path().join("compose.yaml");
    std::fs::write(&compose, COMPOSE).unwrap();
    let store_path = dir.path().join("store.db");
    let mut store = Store::open(&store_path).unwrap();
    store
        .append(
            &[
                // Allowed and modelled, twice.
                connect("obs-web-1", "10.5.1.20", 8080, 1),
                connect("obs-web-1", "10.5.1.20", 8080, 2),
                // Allowed: api -> db.
                connect("obs-api-1", "10.5.2.30", 5432, 3),
                // Denied: web -> db, and the model has no path there either.
                connect("obs-web-1", "10.5.2.30", 5432, 4),
                // Denied egress from web.
                connect("obs-web-1", "93.184.216.34", 443, 5),
                // A container the model does not know.
                connect("elsewhere", "10.5.1.20", 8080, 6),
                // Not a connection: ignored.
                Record::new("alert", 7, serde_json::json!({"rule": "x"})),
            ],
            &[],
        )
        .unwrap();
    drop(store);
    let opts = Options {
        policy: Some(Policy::parse("p.yaml", POLICY).unwrap()),
        store: Some(store_path.clone()),
        ..Default::default()
    };
    let r = from_compose(&[compose], &opts).unwrap();
    let obs = r.observed.as_ref().unwrap();
    eprintln!("{obs:#?}");
    let flow = |from: &str, to: &str, port: u16| {
        obs.iter()
            .find(|o| o.from == from && o.to == to && o.port.port == port)
            .unwrap_or_else(|| panic!("no observed {from} -> {to}:{port}: {obs:#?}"))
    };
    let f = flow("web", "api", 8080);
    assert_eq!((f.count, f.modelled, f.allowed), (2, true, Some(true)));
    let f = flow("api", "db", 5432);
    assert_eq!((f.modelled, f.allowed), (true, Some(true)));
    let f = flow("web", "db", 5432);
    assert_eq!((f.modelled, f.allowed), (false, Some(false)));
    let f = flow("web", "external", 443);
    assert_eq!(f.allowed, Some(false));
    assert_eq!(obs.len(), 4);
    // Violations: NP005 with the observed edge.
    let np5: Vec<_> = r.findings.iter().filter(|f| f.rule() == "NP005").collect();
    assert_eq!(np5.len(), 2, "{np5:#?}");
    assert!(
        np5.iter()
            .any(|f| f.edge.as_ref().is_some_and(|e| e.from == "web"
                && e.to == "db"
                && e.reason == moat_model::network::Reason::Observed { records: 1 }))
    );
    assert_eq!(r.policy.as_ref().map(|p| p.passed), Some(false));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("1 observed connection"))
    );

    // A store that does not exist is an error naming it.
    let opts = Options {
        store: Some(dir.path().join("nope.db")),
        ..Default::default()
    };
    let e = from_compose(&[dir.path().join("compose.yaml")], &opts).unwrap_err();
    assert!(e.to_string().contains("nope.db"), "{e}");
}
