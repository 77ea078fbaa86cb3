//! The graph's isolation logic on models built by hand (the shapes a live engine
//! gives): user networks isolated by the daemon's firewall rules, a bridge whose rule
//! is missing, iptables off with and without forwarding, icc off on the default bridge.

#![allow(clippy::unwrap_used)]

use moat_model::network::{
    DaemonNet, Endpoint, Listener, NetMode, NetworkInfo, NodeInfo, PortProto, Proto, Reason,
};
use moat_netseg::graph::{Topology, edges};

fn net(name: &str, bridge: &str) -> NetworkInfo {
    NetworkInfo {
        name: name.into(),
        driver: "bridge".into(),
        bridge: Some(bridge.into()),
        default_bridge: name == "bridge",
        ..Default::default()
    }
}

fn node(name: &str, nets: &[&str], port: u16) -> NodeInfo {
    NodeInfo {
        name: name.into(),
        service: None,
        project: None,
        image: None,
        labels: Default::default(),
        mode: NetMode::Bridge,
        endpoints: nets
            .iter()
            .map(|n| Endpoint {
                network: n.to_string(),
                ipv4: None,
                ipv6: None,
                aliases: vec![],
            })
            .collect(),
        links: vec![],
        published: vec![],
        exposed: vec![],
        listening: Some(vec![Listener {
            address: "0.0.0.0".into(),
            port: PortProto {
                port,
                proto: Proto::Tcp,
            },
        }]),
        docker_socket: false,
        pid: None,
        running: true,
        defined_at: None,
        zone: None,
    }
}

fn cross(d: &DaemonNet) -> bool {
    let nets = [net("front", "br-f"), net("back", "br-b")];
    let nodes = [node("web", &["front"], 80), node("db", &["back"], 5432)];
    let t = Topology::new(&nets, &nodes, d);
    edges(&t).iter().any(|e| {
        e.from == "web"
            && e.to == "db"
            && matches!(&e.reason, Reason::MissingIsolation { from_network, to_network } if from_network == "front" && to_network == "back")
    })
}

#[test]
fn isolation_follows_the_daemon_and_its_firewall() {
    // Defaults (compose): isolated.
    assert!(!cross(&DaemonNet::default()));
    // Firewall read, both bridges have their rule: isolated.
    let mut d = DaemonNet {
        iptables: Some(true),
        firewall_read: true,
        isolated_bridges: vec!["br-b".into(), "br-f".into()],
        ..Default::default()
    };
    assert!(!cross(&d));
    // One bridge's rule missing: not isolated.
    d.isolated_bridges = vec!["br-b".into()];
    assert!(cross(&d));
    // iptables off, the host forwards: not isolated.
    let mut off = DaemonNet {
        iptables: Some(false),
        ip_forward: Some(true),
        forward_policy: Some("ACCEPT".into()),
        ..Default::default()
    };
    assert!(cross(&off));
    // ... unless the FORWARD policy drops, or the kernel does not forward.
    off.forward_policy = Some("DROP".into());
    assert!(!cross(&off));
    off.forward_policy = None;
    off.ip_forward = Some(false);
    assert!(!cross(&off));
}

#[test]
fn icc_off_on_the_default_bridge_keeps_only_links() {
    let nets = [net("bridge", "docker0")];
    let mut a = node("a", &["bridge"], 80);
    let b = node("b", &["bridge"], 5432);
    let c = node("c", &["bridge"], 22);
    a.links = vec!["/b:/a/b".into()];
    let nodes = [a, b, c];
    let d = DaemonNet {
        iptables: Some(true),
        icc: Some(false),
        ..Default::default()
    };
    let t = Topology::new(&nets, &nodes, &d);
    let e = edges(&t);
    assert!(
        e.iter()
            .any(|e| e.from == "a" && e.to == "b" && e.reason == Reason::Link)
    );
    assert!(
        !e.iter()
            .any(|e| e.from == "a" && e.to == "c" && e.port.is_some())
    );
    // icc on: everyone reaches everyone, on the listening port.
    let on = DaemonNet::default();
    let t = Topology::new(&nets, &nodes, &on);
    let e = edges(&t);
    assert!(
        e.iter()
            .any(|e| e.from == "c" && e.to == "b" && e.port.map(|p| p.port) == Some(5432))
    );
    let f = moat_netseg::rules::check(&t, &e, None);
    assert!(f.iter().any(|f| f.rule() == "NS004"));
    assert_eq!(f.iter().filter(|f| f.rule() == "NS002").count(), 3);
}
