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

fn with_ip(mut n: NodeInfo, net: &str, ip: &str) -> NodeInfo {
    for e in &mut n.endpoints {
        if e.network == net {
            e.ipv4 = Some(ip.into());
        }
    }
    n
}

#[test]
fn published_ports_are_reached_through_the_gateway_across_isolated_networks() {
    use moat_model::network::Published;
    let nets = [net("front", "br-f"), net("back", "br-b")];
    let mut web = node("web", &["front"], 80);
    web.published = vec![Published {
        host_ip: String::new(),
        host_port: Some(8080),
        container: PortProto {
            port: 80,
            proto: Proto::Tcp,
        },
    }];
    let mut admin = node("admin", &["front"], 9000);
    admin.published = vec![Published {
        host_ip: "127.0.0.1".into(),
        host_port: Some(9000),
        container: PortProto {
            port: 9000,
            proto: Proto::Tcp,
        },
    }];
    let db = node("db", &["back"], 5432);
    let nodes = [web, admin, db];
    let d = DaemonNet {
        iptables: Some(true),
        firewall_read: true,
        isolated_bridges: vec!["br-b".into(), "br-f".into()],
        ..Default::default()
    };
    let t = Topology::new(&nets, &nodes, &d);
    let e = edges(&t);
    // db is isolated from front, yet reaches web's published port via its gateway.
    assert!(!e.iter().any(|e| e.from == "db"
        && e.to == "web"
        && matches!(
            e.reason,
            Reason::SameNetwork { .. } | Reason::MissingIsolation { .. }
        )));
    let via = e
        .iter()
        .find(|e| e.from == "db" && e.to == "web")
        .unwrap_or_else(|| panic!("no db -> web: {e:#?}"));
    assert_eq!(
        via.reason,
        Reason::PublishedViaHost {
            binding: "0.0.0.0:8080->80/tcp".into(),
            network: "back".into()
        }
    );
    assert!(via.reason.describe().starts_with("published port via host"));
    // Loopback publications are not reachable from containers.
    assert!(!e.iter().any(|e| e.from == "db" && e.to == "admin"));
    // Without the userland proxy the DNAT'ed flow is forwarded and isolation applies.
    let no_proxy = DaemonNet {
        userland_proxy: Some(false),
        ..d.clone()
    };
    let t = Topology::new(&nets, &nodes, &no_proxy);
    assert!(!edges(&t).iter().any(|e| e.from == "db" && e.to == "web"));
}

#[test]
fn docker_user_rules_block_edges_and_say_which() {
    use moat_model::network::FirewallRule;
    use moat_netseg::graph::apply_docker_user;
    let nets = [net("front", "br-f"), net("back", "br-b")];
    let nodes = [
        with_ip(node("web", &["front"], 80), "front", "10.1.0.2"),
        with_ip(node("api", &["front"], 8080), "front", "10.1.0.3"),
        with_ip(node("db", &["back"], 5432), "back", "10.2.0.2"),
    ];
    let rule = |t: &str| FirewallRule {
        text: t.into(),
        evaluated: true,
        note: String::new(),
    };
    let d = DaemonNet {
        iptables: Some(true),
        firewall_read: true,
        // back's isolation rule is missing: web and api reach db across bridges...
        isolated_bridges: vec!["br-f".into()],
        bridge_nf_call_iptables: Some(true),
        docker_user: vec![
            rule("-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
            // ...except where DOCKER-USER drops it: web only.
            rule("-A DOCKER-USER -s 10.1.0.2/32 -d 10.2.0.0/24 -p tcp -m tcp --dport 5432 -j DROP"),
            // Inside front, api:8080 is rejected.
            rule(
                "-A DOCKER-USER -i br-f -o br-f -p tcp -m multiport --dports 8000:8100 -j REJECT --reject-with icmp-port-unreachable",
            ),
            rule("-A DOCKER-USER -m set --match-set x src -j DROP"),
            rule("-A DOCKER-USER -j RETURN"),
        ],
        ..Default::default()
    };
    let t = Topology::new(&nets, &nodes, &d);
    let all = edges(&t);
    assert!(all.iter().any(|e| e.from == "web" && e.to == "db"));
    let (kept, blocked) = apply_docker_user(&t, all);
    assert!(!kept.iter().any(|e| e.from == "web" && e.to == "db"));
    assert!(
        kept.iter().any(|e| e.from == "api" && e.to == "db"),
        "api is not web"
    );
    let b = blocked
        .iter()
        .find(|b| b.edge.from == "web" && b.edge.to == "db")
        .unwrap();
    assert!(b.rule.contains("--dport 5432 -j DROP"), "{}", b.rule);
    assert!(
        blocked
            .iter()
            .any(|b| b.edge.from == "web" && b.edge.to == "api" && b.rule.contains("REJECT"))
    );
    assert!(
        kept.iter().any(|e| e.from == "api" && e.to == "web"),
        "80 is outside 8000:8100"
    );
    // Without br_netfilter, traffic inside one bridge never sees DOCKER-USER.
    let d2 = DaemonNet {
        bridge_nf_call_iptables: Some(false),
        ..d.clone()
    };
    let t = Topology::new(&nets, &nodes, &d2);
    let (kept, blocked) = apply_docker_user(&t, edges(&t));
    assert!(kept.iter().any(|e| e.from == "web" && e.to == "api"));
    assert!(blocked.iter().all(|b| b.edge.to == "db"));
}

#[test]
fn policy_flows_may_name_single_services() {
    use moat_netseg::Policy;
    let p = Policy::parse(
        "p.yaml",
        "zones:\n  front: {services: [web, www]}\n  back: {services: [api, worker]}\nallow:\n  - web -> api:8080/tcp\n  - front -> worker\n",
    )
    .unwrap();
    let nodes = [
        node("web", &["n"], 80),
        node("www", &["n"], 80),
        node("api", &["n"], 8080),
        node("worker", &["n"], 1),
    ];
    let z = moat_netseg::policy::zones(&p, &nodes);
    let allowed = |from: &str, to: &str, port: u16| {
        moat_netseg::policy::edge_allowed(
            &p,
            &moat_model::network::Edge {
                from: from.into(),
                to: to.into(),
                port: Some(PortProto {
                    port,
                    proto: Proto::Tcp,
                }),
                reason: Reason::SameNetwork {
                    network: "n".into(),
                },
            },
            &nodes,
            &z,
        )
    };
    assert!(allowed("web", "api", 8080), "the service flow");
    assert!(
        !allowed("www", "api", 8080),
        "www is in web's zone, not web"
    );
    assert!(!allowed("web", "api", 8081));
    assert!(allowed("www", "worker", 1), "zone -> service by zone");
    assert!(p.unknown_names(&nodes).is_empty());
    let typo = Policy::parse("p.yaml", "zones: {a: {}}\nallow: [a -> apu:80]\n").unwrap();
    assert_eq!(typo.unknown_names(&nodes)[0].0, "apu");
}

#[test]
fn ipv6_is_not_isolated_without_ip6tables() {
    use moat_netseg::graph::covers_family;
    let mut a = net("v6a", "br-a");
    a.subnets = vec!["10.3.0.0/24".into(), "fd00:a::/64".into()];
    let mut b = net("v6b", "br-b");
    b.subnets = vec!["10.4.0.0/24".into(), "fd00:b::/64".into()];
    let nets = [a, b];
    let nodes = [node("cli", &["v6b"], 1), node("srv", &["v6a"], 8080)];
    let port = PortProto {
        port: 8080,
        proto: Proto::Tcp,
    };
    // Docker 20.10's default: IPv4 isolated by iptables, IPv6 left to the kernel.
    let d = DaemonNet {
        iptables: Some(true),
        ip6tables: Some(false),
        ip6_forward: Some(true),
        firewall_read: true,
        isolated_bridges: vec!["br-a".into(), "br-b".into()],
        ..Default::default()
    };
    let t = Topology::new(&nets, &nodes, &d);
    let e = edges(&t);
    assert!(e.iter().any(|e| e.from == "cli"
        && e.to == "srv"
        && matches!(e.reason, Reason::MissingIsolationV6 { .. })));
    assert!(!covers_family(&e, "cli", "srv", Some("v6a"), port, false));
    assert!(covers_family(&e, "cli", "srv", Some("v6a"), port, true));
    let f = moat_netseg::rules::check(&t, &e, None);
    assert!(
        f.iter()
            .any(|f| f.rule() == "NS007" && f.finding.message.contains("IPv6")),
        "{f:#?}"
    );
    // ip6tables on, or the host not forwarding IPv6: isolated.
    for d in [
        DaemonNet {
            ip6tables: Some(true),
            ..d.clone()
        },
        DaemonNet {
            ip6_forward: Some(false),
            ..d.clone()
        },
    ] {
        let t = Topology::new(&nets, &nodes, &d);
        assert!(!edges(&t).iter().any(|e| e.from == "cli" && e.to == "srv"));
    }
}

#[test]
fn isolation_is_per_stage_and_needs_the_replies() {
    use moat_model::network::FirewallRule;
    // back's stage-2 rule removed: new connections into back are no longer dropped
    // (from front), but the replies out of back still are (stage 1 of back, stage 2 of
    // front), so no connection is made...
    let mut d = DaemonNet {
        iptables: Some(true),
        firewall_read: true,
        isolated_bridges: vec!["br-f".into()],
        isolation_stage1: vec!["br-b".into(), "br-f".into()],
        isolation_stage2: vec!["br-f".into()],
        ..Default::default()
    };
    let nets = [net("front", "br-f"), net("back", "br-b")];
    let nodes = [node("web", &["front"], 80), node("db", &["back"], 5432)];
    let t = Topology::new(&nets, &nodes, &d);
    assert!(!edges(&t).iter().any(|e| e.from == "web" && e.to == "db"));
    // ...until DOCKER-USER accepts established traffic first (the common first rule):
    // then web reaches db, and db still does not reach web.
    d.docker_user = vec![FirewallRule {
        text: "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT".into(),
        evaluated: true,
        note: String::new(),
    }];
    let t = Topology::new(&nets, &nodes, &d);
    let e = edges(&t);
    assert!(e.iter().any(|e| e.from == "web"
        && e.to == "db"
        && matches!(e.reason, Reason::MissingIsolation { .. })));
    assert!(!e.iter().any(|e| e.from == "db" && e.to == "web"));
}
