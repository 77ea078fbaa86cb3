//! The rules on snapshots built from Engine API JSON (the shapes a real dockerd 20.10
//! returns; the live engine is exercised by crates/moat/tests/audit.rs). These cover
//! the cases the test engine cannot show: the default bridge, AppArmor, swarm, aufs,
//! TCP hosts in daemon.json, group members, file ownership.

#![allow(clippy::unwrap_used)] // tests

use moat_audit::daemon::DaemonConfig;
use moat_audit::sys::{FileFacts, Group, ProcessInfo};
use moat_audit::{AuditOptions, Snapshot, check};
use serde_json::json;
use std::collections::BTreeMap;

fn snapshot(info: serde_json::Value, containers: Vec<serde_json::Value>) -> Snapshot {
    Snapshot {
        host: "unix:///run/docker.sock".into(),
        info: serde_json::from_value(info).unwrap(),
        version: serde_json::from_value(json!({"Version": "20.10.24", "ApiVersion": "1.41"})).unwrap(),
        networks: serde_json::from_value(json!([
            {"Name": "bridge", "Driver": "bridge", "Options": {"com.docker.network.bridge.enable_icc": "true"}},
            {"Name": "host", "Driver": "host"}
        ]))
        .unwrap(),
        containers: containers
            .into_iter()
            .map(|c| serde_json::from_value(c).unwrap())
            .collect(),
        images: BTreeMap::new(),
        image_files: BTreeMap::new(),
        daemon: DaemonConfig::default(),
        socket: None,
        daemon_json: None,
        docker_group: None,
        docker_files: vec![],
        proofs: BTreeMap::new(),
        sshd: BTreeMap::new(),
        components: vec![],
        notes: vec![],
    }
}

fn codes(s: &Snapshot) -> Vec<String> {
    let mut c: Vec<String> = check(s, &AuditOptions::default())
        .into_iter()
        .map(|f| f.finding.rule)
        .collect();
    c.dedup();
    c
}

fn hardened_container(extra: serde_json::Value) -> serde_json::Value {
    let mut c = json!({
        "Id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "Name": "/web",
        "Image": "sha256:aaaa",
        "AppArmorProfile": "docker-default",
        "State": {"Running": false, "Pid": 0},
        "Config": {"User": "1000", "Healthcheck": {"Test": ["CMD", "true"]}},
        "HostConfig": {
            "NetworkMode": "appnet", "Memory": 67108864, "NanoCpus": 500000000, "PidsLimit": 64,
            "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges"],
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}
        },
        "Mounts": []
    });
    if let (Some(hc), Some(extra)) = (c["HostConfig"].as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            hc.insert(k.clone(), v.clone());
        }
    }
    c
}

#[test]
fn hardened_container_on_a_hardened_daemon_is_clean() {
    let info = json!({
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=default", "name=userns"],
        "LiveRestoreEnabled": true, "LoggingDriver": "syslog",
        "Plugins": {"Authorization": ["opa-docker-authz"]}, "Driver": "overlay2"
    });
    let mut s = snapshot(info, vec![hardened_container(json!({}))]);
    s.networks[0].options = Some(
        [(
            "com.docker.network.bridge.enable_icc".to_string(),
            "false".to_string(),
        )]
        .into(),
    );
    assert_eq!(codes(&s), Vec::<String>::new());
}

#[test]
fn daemon_rules_from_info() {
    let info = json!({
        "SecurityOptions": [], "Driver": "aufs", "ExperimentalBuild": true, "Debug": true,
        "LoggingDriver": "json-file", "LiveRestoreEnabled": false,
        "Swarm": {"LocalNodeState": "active"},
        "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8", "10.0.0.0/8"],
                           "IndexConfigs": {"reg.local:5000": {"Name": "reg.local:5000", "Secure": false}}}
    });
    let s = snapshot(info, vec![]);
    let c = codes(&s);
    for want in [
        "DD101", "DD102", "DD104", "DD105", "DD108", "DD110", "DD111", "DD113", "DD115", "DD116",
        "DD117",
    ] {
        assert!(c.contains(&want.to_string()), "{want} missing: {c:?}");
    }
    let f = check(&s, &AuditOptions::default());
    let dd104 = f.iter().find(|f| f.rule() == "DD104").unwrap();
    assert!(dd104.message().contains("10.0.0.0/8") && dd104.message().contains("reg.local:5000"));
    assert!(!dd104.message().contains("127.0.0.0/8"));
}

#[test]
fn daemon_rules_from_command_line_and_daemon_json() {
    let mut s = snapshot(
        json!({"SecurityOptions": ["name=seccomp,profile=unconfined"]}),
        vec![],
    );
    s.daemon = DaemonConfig {
        process: Some(ProcessInfo {
            pid: 42,
            args: ["dockerd", "--cgroup-parent=/custom", "--iptables=false"]
                .map(String::from)
                .to_vec(),
            exe: None,
        }),
        config_file: Some("/etc/docker/daemon.json".into()),
        config: Some(json!({"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]})),
        config_error: None,
    };
    let f = check(&s, &AuditOptions::default());
    let get = |code: &str| {
        f.iter()
            .find(|x| x.rule() == code)
            .unwrap_or_else(|| panic!("{code}: {f:#?}"))
    };
    assert!(get("DD106").evidence[0].contains("tcp://0.0.0.0:2375"));
    assert!(get("DD109").message().contains("/custom"));
    assert!(get("DD103").evidence[0].contains("--iptables=false"));
    assert!(get("DD115").message().contains("unconfined"));
    get("DD107");
    get("DD112");
    get("DD114");

    // With TLS verification the TCP host is fine.
    s.daemon.config = Some(json!({"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": true}));
    assert!(!codes(&s).contains(&"DD106".to_string()));
}

#[test]
fn container_rules_not_seen_on_the_test_engine() {
    let info = json!({"SecurityOptions": ["name=apparmor", "name=seccomp,profile=default", "name=userns"]});
    let containers = vec![
        hardened_container(json!({"NetworkMode": "default"})),
        {
            let mut c = hardened_container(json!({
                "CgroupParent": "/special", "PublishAllPorts": true,
                "SecurityOpt": ["no-new-privileges", "apparmor=unconfined"],
                "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 0}
            }));
            c["Name"] = json!("/odd");
            c["Id"] = json!("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
            c
        },
        {
            let mut c = hardened_container(json!({}));
            c["Name"] = json!("/noarmor");
            c["Id"] = json!("1111111111111111111111111111111111111111111111111111111111111111");
            c["AppArmorProfile"] = json!("");
            c
        },
    ];
    let f = check(&snapshot(info, containers), &AuditOptions::default());
    let rules_of = |name: &str| -> Vec<&str> {
        f.iter()
            .filter(|x| x.object.name.as_deref() == Some(name))
            .map(|x| x.rule())
            .collect()
    };
    assert_eq!(rules_of("/web"), vec!["CC123"]);
    assert_eq!(rules_of("/odd"), vec!["CC118", "CC121", "CC125", "CC126"]);
    assert_eq!(rules_of("/noarmor"), vec!["CC118"]);
    let web = f.iter().find(|x| x.rule() == "CC123").unwrap();
    assert_eq!(web.path(), "container:/web (0123456789ab)");
}

#[test]
fn host_file_rules() {
    let mut s = snapshot(
        json!({"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]}),
        vec![],
    );
    s.docker_group = Some(Group {
        name: "docker".into(),
        gid: 999,
        members: vec!["alice".into(), "bob".into()],
    });
    s.socket = Some(FileFacts {
        path: "/run/docker.sock".into(),
        uid: 1000,
        gid: 999,
        owner: Some("alice".into()),
        group: Some("docker".into()),
        mode: 0o660,
    });
    s.daemon_json = Some(FileFacts {
        path: "/etc/docker/daemon.json".into(),
        uid: 0,
        gid: 50,
        owner: Some("root".into()),
        group: Some("staff".into()),
        mode: 0o664,
    });
    let f = check(&s, &AuditOptions::default());
    let get = |code: &str| {
        f.iter()
            .find(|x| x.rule() == code)
            .unwrap_or_else(|| panic!("{code}"))
    };
    assert!(get("DH101").message().contains("alice:docker"));
    assert!(f.iter().all(|x| x.rule() != "DH102"), "660 is fine");
    assert!(get("DH103").message().contains("root:staff"));
    assert!(get("DH104").message().contains("664"));
    assert!(get("DH105").message().contains("alice, bob"));
    assert_eq!(get("DH105").path(), "host:group docker");
}

#[test]
fn image_age_uses_the_given_clock() {
    let mut s = snapshot(
        json!({"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]}),
        vec![],
    );
    s.images.insert(
        "sha256:abc".into(),
        serde_json::from_value(json!({
            "Id": "sha256:abc", "RepoTags": ["app:1"], "Created": "2020-01-01T00:00:00Z",
            "Config": {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]}}
        }))
        .unwrap(),
    );
    let at = |date: &str| AuditOptions {
        now: time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
            .unwrap(),
        ..Default::default()
    };
    let image_findings = |o: &AuditOptions| -> Vec<moat_audit::AuditFinding> {
        check(&s, o)
            .into_iter()
            .filter(|f| f.object.kind == moat_audit::ObjectKind::Image)
            .collect()
    };
    assert_eq!(image_findings(&at("2020-06-01T00:00:00Z")), vec![]);
    let late = image_findings(&at("2022-01-01T00:00:00Z"));
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].rule(), "IC104");
    assert_eq!(late[0].path(), "image:sha256:abc (app:1)");
    assert!(late[0].message().contains("731 days"));
}
