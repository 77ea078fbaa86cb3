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
        data_root: None,
        audit_rules: None,
        audit_targets: vec![],
        image_history: BTreeMap::new(),
        engine_sockets: vec![],
        mount_sources: BTreeMap::new(),
        swarm_port_on_all_interfaces: None,
    }
}

/// Options with content trust on (CIS 4.5 is about the environment, not the snapshot).
fn opts() -> AuditOptions {
    AuditOptions {
        content_trust: Some("1".into()),
        ..Default::default()
    }
}

fn codes(s: &Snapshot) -> Vec<String> {
    let mut c: Vec<String> = check(s, &opts())
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
            "NetworkMode": "appnet", "Memory": 67108864, "NanoCpus": 500000000, "CpuShares": 512,
            "PidsLimit": 64, "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges"],
            "CapDrop": ["ALL"], "CapAdd": ["NET_BIND_SERVICE", "CAP_CHOWN"],
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
            "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}
        },
        "Mounts": [{"Type": "bind", "Source": "/etc/localtime", "Destination": "/etc/localtime",
                    "RW": false, "Propagation": "rprivate"}]
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
        "DD101", "DD102", "DD104", "DD105", "DD108", "DD110", "DD111", "DD115", "DD116", "DD117",
    ] {
        assert!(c.contains(&want.to_string()), "{want} missing: {c:?}");
    }
    // Live restore is off, but dockerd refuses it on a swarm node: 2.15 passes.
    assert!(!c.contains(&"DD113".to_string()), "{c:?}");
    let f = check(&s, &opts());
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
    let f = check(&s, &opts());
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
    let f = check(&snapshot(info, containers), &opts());
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
    let f = check(&s, &opts());
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

fn running(name: &str, id: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut c = hardened_container(extra);
    c["Name"] = json!(name);
    c["Id"] = json!(id);
    c["State"] = json!({"Running": true, "Pid": 4242});
    c
}

fn proof(shared: &[&str]) -> moat_audit::proof::Proof {
    let ns = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"]
        .into_iter()
        .map(|k| {
            let s = shared.contains(&k);
            (
                k.to_string(),
                moat_model::audit::NsView {
                    container: if s {
                        format!("{k}:[1]")
                    } else {
                        format!("{k}:[2]")
                    },
                    host: format!("{k}:[1]"),
                    reference: "/proc/1".into(),
                    shared: s,
                },
            )
        })
        .collect();
    moat_audit::proof::Proof {
        pid: 4242,
        namespaces: ns,
        cap_eff: "0".into(),
        cap_eff_names: vec![],
        cap_eff_beyond_default: vec![],
        seccomp: Some(2),
        no_new_privs: Some(true),
        cgroup_version: Some(1),
        memory: None,
        cpu: None,
        pids: None,
    }
}

const ID_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ID_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Issue 22: a container configured by the book on a daemon without remapping (cgroup
/// v1) gets no finding of its own; the daemon-wide facts are reported once.
#[test]
fn daemon_wide_namespaces_are_reported_once() {
    let info = json!({"SecurityOptions": ["name=seccomp,profile=default"], "CgroupVersion": "1"});
    let mut s = snapshot(
        info,
        vec![
            running("/a", ID_A, json!({})),
            running("/b", ID_B, json!({"UsernsMode": "host"})),
        ],
    );
    s.proofs.insert(ID_A.into(), proof(&["user", "cgroup"]));
    s.proofs.insert(ID_B.into(), proof(&["user", "cgroup"]));
    let f = check(&s, &opts());
    let of = |name: &str| -> Vec<&str> {
        f.iter()
            .filter(|x| x.object.name.as_deref() == Some(name))
            .map(|x| x.rule())
            .collect()
    };
    assert_eq!(of("/a"), Vec::<&str>::new(), "{f:#?}");
    // --userns=host asked for: the configuration rule (5.31) and the proof.
    assert_eq!(of("/b"), vec!["CC107", "IP106"]);
    let daemon: Vec<&moat_audit::AuditFinding> =
        f.iter().filter(|x| x.path() == "daemon").collect();
    let ip120: Vec<_> = daemon.iter().filter(|x| x.rule() == "IP120").collect();
    assert_eq!(ip120.len(), 1);
    assert_eq!(ip120[0].evidence.len(), 1, "only /a: /b asked for it");
    assert!(ip120[0].references.is_empty(), "not a benchmark item");
    let ip121: Vec<_> = daemon.iter().filter(|x| x.rule() == "IP121").collect();
    assert_eq!(ip121.len(), 1);
    assert_eq!(ip121[0].evidence.len(), 2);
    assert!(ip121[0].message().contains("default cgroupns mode is host"));
}

/// Issue 22: the Docker socket is found by identity whatever the mount is called, and
/// a directory holding it exposes it too; containerd's socket likewise.
#[test]
fn engine_sockets_are_matched_by_identity() {
    use moat_audit::sys::FileId;
    let info = json!({"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]});
    let c = |name: &str, id: &str, src: &str, dst: &str| {
        let mut c = hardened_container(json!({}));
        c["Name"] = json!(name);
        c["Id"] = json!(id);
        c["Mounts"] = json!([{"Type": "bind", "Source": src, "Destination": dst, "RW": true}]);
        c
    };
    let mut s = snapshot(
        info,
        vec![
            c("/renamed", ID_A, "/srv/ctl.sock", "/run/api.sock"),
            c("/dir", ID_B, "/run", "/hostrun"),
            c(
                "/cd",
                "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
                "/run/containerd/containerd.sock",
                "/c.sock",
            ),
            c(
                "/data",
                "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
                "/srv/data",
                "/data",
            ),
            c(
                "/named",
                "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
                "/elsewhere/docker.sock",
                "/x",
            ),
        ],
    );
    let id = |real: &str, ino: u64, is_dir: bool| FileId {
        real: real.into(),
        dev: 7,
        ino,
        is_dir,
    };
    s.engine_sockets = vec![
        moat_audit::EngineSocket {
            what: "Docker socket".into(),
            path: "/var/run/docker.sock".into(),
            id: id("/run/docker.sock", 42, false),
        },
        moat_audit::EngineSocket {
            what: "containerd socket".into(),
            path: "/run/containerd/containerd.sock".into(),
            id: id("/run/containerd/containerd.sock", 43, false),
        },
    ];
    s.mount_sources
        .insert("/srv/ctl.sock".into(), id("/srv/ctl.sock", 42, false));
    s.mount_sources.insert("/run".into(), id("/run", 2, true));
    s.mount_sources.insert(
        "/run/containerd/containerd.sock".into(),
        id("/run/containerd/containerd.sock", 43, false),
    );
    s.mount_sources
        .insert("/srv/data".into(), id("/srv/data", 9, true));
    let f = check(&s, &opts());
    let cc109 = |name: &str| -> Vec<&moat_audit::AuditFinding> {
        f.iter()
            .filter(|x| x.object.name.as_deref() == Some(name) && x.rule() == "CC109")
            .collect()
    };
    let renamed = cc109("/renamed");
    assert_eq!(renamed.len(), 1, "{f:#?}");
    assert!(
        renamed[0]
            .message()
            .contains("Docker socket (/var/run/docker.sock)")
    );
    assert!(renamed[0].evidence[1].contains("inode 42"));
    assert!(cc109("/dir")[0].evidence[1].contains("holding /run/docker.sock"));
    assert!(cc109("/cd")[0].message().contains("containerd socket"));
    assert!(cc109("/data").is_empty());
    // Unexamined source: the name still counts.
    assert_eq!(cc109("/named").len(), 1);
    assert_eq!(renamed[0].references, vec!["CIS-Docker-1.6.0-5.32"]);
}

#[test]
fn audit_rules_partition_and_registry_certificates() {
    use moat_audit::sys::{AuditRules, DockerFile, FileFacts};
    let mut s = snapshot(json!({"SecurityOptions": ["name=userns"]}), vec![]);
    s.audit_rules = Some(AuditRules {
        source: "auditctl -l".into(),
        rules: vec!["-w /usr/sbin/dockerd -p rwxa -k docker".into()],
    });
    let t = |cis: &str, path: &str, exists: bool, real: Option<&str>| moat_audit::AuditTarget {
        cis: cis.into(),
        path: path.into(),
        exists,
        real: real.map(String::from),
    };
    s.audit_targets = vec![
        t("1.1.3", "/usr/bin/dockerd", true, Some("/usr/sbin/dockerd")),
        t("1.1.6", "/etc/docker", true, None),
        t("1.1.13", "/etc/sysconfig/docker", false, None),
    ];
    s.data_root = Some(moat_audit::DataRoot {
        path: "/var/lib/docker".into(),
        mountpoint: Some(false),
        evidence: "/proc/self/mountinfo has no mount at /var/lib/docker".into(),
    });
    s.docker_files = vec![DockerFile {
        facts: FileFacts {
            path: "/etc/docker/certs.d/reg:5000/ca.crt".into(),
            uid: 0,
            gid: 0,
            owner: None,
            group: None,
            mode: 0o644,
        },
        max_mode: 0o444,
        cis_owner: "3.7".into(),
        cis_mode: "3.8".into(),
    }];
    let (f, cov) = moat_audit::evaluate(&s, &opts());
    let dh108: Vec<_> = f.iter().filter(|x| x.rule() == "DH108").collect();
    assert_eq!(dh108.len(), 1, "{dh108:#?}");
    assert_eq!(dh108[0].path(), "host:/etc/docker");
    assert_eq!(dh108[0].references, vec!["CIS-Docker-1.6.0-1.1.6"]);
    assert_eq!(cov.skipped["1.1.13"], "/etc/sysconfig/docker not found");
    assert!(f.iter().any(|x| x.rule() == "DH109"));
    let dh107 = f.iter().find(|x| x.rule() == "DH107").unwrap();
    assert_eq!(dh107.references, vec!["CIS-Docker-1.6.0-3.8"]);
    assert!(!cov.skipped.contains_key("3.7") && cov.skipped.contains_key("3.1"));
}

#[test]
fn daemon_items_base_size_devicemapper_content_trust() {
    let mut s = snapshot(
        json!({"SecurityOptions": ["name=userns"], "Driver": "devicemapper"}),
        vec![],
    );
    s.daemon = DaemonConfig {
        process: Some(ProcessInfo {
            pid: 42,
            args: ["dockerd", "--storage-opt", "dm.basesize=20G"]
                .map(String::from)
                .to_vec(),
            exe: None,
        }),
        ..Default::default()
    };
    let c = codes(&s);
    assert!(
        c.contains(&"DD119".to_string()) && c.contains(&"DD118".to_string()),
        "{c:?}"
    );
    assert!(
        !c.contains(&"DD105".to_string()),
        "devicemapper is not aufs"
    );
    let without = AuditOptions {
        content_trust: None,
        ..Default::default()
    };
    let f = check(&s, &without);
    let dd120 = f.iter().find(|x| x.rule() == "DD120").unwrap();
    assert_eq!(dd120.path(), "host:environment");
    assert!(
        !codes(&s).contains(&"DD120".to_string()),
        "DOCKER_CONTENT_TRUST=1"
    );
}

#[test]
fn image_history_ulimits_and_sprawl() {
    let info = json!({"SecurityOptions": ["name=userns"], "Images": 9, "Containers": 30, "ContainersRunning": 1});
    let mut no_ulimit = hardened_container(json!({}));
    no_ulimit["HostConfig"]["Ulimits"] = json!([]);
    let mut s = snapshot(info, vec![no_ulimit]);
    s.images.insert(
        "sha256:abc".into(),
        serde_json::from_value(json!({"Id": "sha256:abc", "RepoTags": ["app:1"],
            "Config": {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]}}}))
        .unwrap(),
    );
    s.image_history.insert(
        "sha256:abc".into(),
        vec![
            "/bin/sh -c #(nop) ADD file:0123 in / ".into(),
            "/bin/sh -c apt-get update".into(),
            "/bin/sh -c apt-get update && apt-get install -y curl".into(),
            "ADD app.tgz /opt/ # buildkit".into(),
        ],
    );
    let f = check(&s, &opts());
    let get = |code: &str| {
        f.iter()
            .find(|x| x.rule() == code)
            .unwrap_or_else(|| panic!("{code}: {f:#?}"))
    };
    assert_eq!(get("IC105").evidence, vec!["/bin/sh -c apt-get update"]);
    assert_eq!(get("IC106").evidence, vec!["ADD app.tgz /opt/ # buildkit"]);
    let cc129 = get("CC129");
    assert_eq!(cc129.path(), "daemon", "once, on the daemon");
    assert_eq!(cc129.evidence, vec!["container:/web (0123456789ab)"]);
    assert!(get("DO101").message().contains("only 1 of 9"));
    assert!(get("DO102").message().contains("29 of 30"));
    // Daemon-wide default ulimits apply: no 5.19 finding.
    s.daemon.config = Some(
        json!({"default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}}),
    );
    assert!(!codes(&s).contains(&"CC129".to_string()));
}

#[test]
fn swarm_items() {
    let info = json!({
        "SecurityOptions": ["name=userns"],
        "Swarm": {"LocalNodeState": "active", "ControlAvailable": true, "Managers": 2, "NodeAddr": "10.0.0.1",
                  "Cluster": {"Spec": {"EncryptionConfig": {"AutoLockManagers": false},
                                       "CAConfig": {"NodeCertExpiry": 7776000000000000i64}}}}
    });
    let mut s = snapshot(info, vec![]);
    s.networks.push(
        serde_json::from_value(json!({"Name": "appnet", "Driver": "overlay", "Options": {}}))
            .unwrap(),
    );
    s.networks.push(
        serde_json::from_value(
            json!({"Name": "secret", "Driver": "overlay", "Options": {"encrypted": ""}}),
        )
        .unwrap(),
    );
    s.networks.push(
        serde_json::from_value(json!({"Name": "ingress", "Driver": "overlay", "Ingress": true}))
            .unwrap(),
    );
    s.swarm_port_on_all_interfaces = Some(true);
    let (f, cov) = moat_audit::evaluate(&s, &opts());
    let codes: Vec<&str> = f.iter().map(|x| x.rule()).collect();
    for c in ["DD117", "SW101", "SW102", "SW103", "SW104"] {
        assert!(codes.contains(&c), "{c}: {codes:?}");
    }
    // appnet and the ingress network (the benchmark's audit lists every overlay
    // network); not the encrypted one.
    let sw103: Vec<&str> = f
        .iter()
        .filter(|x| x.rule() == "SW103")
        .map(|x| x.message())
        .collect();
    assert_eq!(sw103.len(), 2, "{sw103:?}");
    assert!(
        sw103
            .iter()
            .any(|m| m.contains("ingress network ingress (routing mesh)"))
    );
    assert_eq!(cov.context["7.7"], "node certificates expire after 2160 h");

    // No swarm: section 7 passes with the reason.
    let s = snapshot(json!({"SecurityOptions": ["name=userns"]}), vec![]);
    let (f, cov) = moat_audit::evaluate(&s, &opts());
    assert!(f.iter().all(|x| !x.rule().starts_with("SW")));
    assert_eq!(cov.context["7.5"], "swarm mode not enabled");
}

/// The CIS-report view: every item once, in its section, with the verdict the
/// benchmark gives; counts add up.
#[test]
fn cis_view_verdicts_and_counts() {
    use moat_audit::cis::{CisStatus, view};
    let info = json!({"SecurityOptions": ["name=seccomp,profile=default"], "Driver": "overlay2", "LiveRestoreEnabled": true});
    let mut priv_c = hardened_container(json!({"Privileged": true}));
    priv_c["Name"] = json!("/priv");
    let s = snapshot(info, vec![hardened_container(json!({})), priv_c]);
    let (report, cov) = moat_audit::report_with_coverage(&s, &opts(), None);
    let v = view(&report, &cov, &Default::default());
    let item = |n: &str| {
        v.sections
            .iter()
            .flat_map(|s| &s.items)
            .find(|i| i.number == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(item("5.5").status, CisStatus::Warn);
    assert_eq!(
        item("5.5").findings[0].object,
        "container:/priv (0123456789ab)"
    );
    assert_eq!(item("5.4").status, CisStatus::Pass);
    assert_eq!(item("2.9").status, CisStatus::Warn, "no userns-remap");
    assert_eq!(item("2.15").status, CisStatus::Pass);
    assert_eq!(item("4.3").status, CisStatus::Manual);
    assert!(
        item("4.3")
            .command
            .as_deref()
            .unwrap()
            .contains("moat sbom")
    );
    // The docker exec items need the monitor's history: not evaluated without it.
    for n in ["5.23", "5.24"] {
        assert_eq!(item(n).status, CisStatus::Info, "{n}");
        assert!(item(n).note.as_deref().unwrap().contains("--store"), "{n}");
    }
    assert_eq!(
        item("1.2.2").status,
        CisStatus::Info,
        "no advisory database"
    );
    assert_eq!(
        item("2.8").status,
        CisStatus::Info,
        "INFO where docker-bench informs"
    );
    assert_eq!(
        item("2.10").note.as_deref(),
        Some("not evaluated: dockerd's command line and daemon.json could not be read")
    );
    assert_eq!(item("7.6").status, CisStatus::Pass, "no swarm");
    let n: usize = v.sections.iter().map(|s| s.items.len()).sum();
    assert_eq!(n, moat_audit::benchmark::ITEMS.len());
    let t = v.totals;
    assert_eq!(t.pass + t.warn + t.info + t.manual, n);
    let sections: Vec<&str> = v.sections.iter().map(|s| s.number.as_str()).collect();
    assert_eq!(sections, vec!["1.1", "1.2", "2", "3", "4", "5", "6", "7"]);
    for s in &v.sections {
        let c = s.counts;
        assert_eq!(c.pass + c.warn + c.info + c.manual, s.items.len());
    }
    // Excluding every rule of an item makes it "not selected", not a pass.
    let excluded = ["CC101".to_string()].into_iter().collect();
    let v = view(&report, &cov, &excluded);
    let i = v
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .find(|i| i.number == "5.5")
        .unwrap();
    assert_eq!(i.status, CisStatus::Info);
}

/// docs/audit.md's item and rule tables are generated from the benchmark table and the
/// registry (`MOAT_BLESS=1` rewrites them).
#[test]
fn docs_tables_are_in_sync() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut want = doc.clone();
    for (name, table) in [
        ("cis-items", moat_audit::cis::markdown_items()),
        ("audit-rules", moat_audit::cis::markdown_rules()),
    ] {
        let begin = format!("<!-- BEGIN GENERATED {name} -->\n");
        let end = format!("<!-- END GENERATED {name} -->");
        let a = want.find(&begin).unwrap_or_else(|| panic!("no {begin}")) + begin.len();
        let b = want.find(&end).unwrap_or_else(|| panic!("no {end}"));
        want.replace_range(a..b, &table);
    }
    if want != doc {
        if std::env::var_os("MOAT_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        } else {
            panic!(
                "docs/audit.md is out of date: run MOAT_BLESS=1 cargo test -p moat-audit --test rules"
            );
        }
    }
}

/// Issue 22's parity fixes, on data: CIS 2.3 is "info" and nothing else, 5.4 counts only
/// capabilities beyond Docker's default set, 5.6 spares read-only files below a
/// sensitive directory but not the directory itself, 5.12 is about CPU shares.
#[test]
fn parity_semantics() {
    let info = json!({"SecurityOptions": ["name=seccomp,profile=default", "name=userns"]});
    let mut s = snapshot(
        info.clone(),
        vec![
            hardened_container(json!({"CapAdd": ["SYS_ADMIN", "NET_RAW"]})),
            hardened_container(json!({"CpuShares": 0})),
            hardened_container(json!({"CpuShares": 1024, "NanoCpus": 0})),
        ],
    );
    s.containers[1].name = Some("/nanocpus-only".into());
    s.containers[2].name = Some("/default-shares".into());
    s.containers[2].mounts = Some(vec![
        serde_json::from_value(
            json!({"Type": "bind", "Source": "/etc", "Destination": "/host-etc", "RW": false}),
        )
        .unwrap(),
        serde_json::from_value(
            json!({"Type": "bind", "Source": "/etc/ssl", "Destination": "/ssl", "RW": true}),
        )
        .unwrap(),
    ]);
    let f = check(&s, &opts());
    let of = |name: &str, rule: &str| -> Vec<String> {
        f.iter()
            .filter(|x| x.rule() == rule && x.path().contains(name))
            .map(|x| x.message().to_string())
            .collect()
    };
    assert_eq!(
        of("/web", "CC102"),
        vec!["adds capabilities SYS_ADMIN (escape-grade: SYS_ADMIN)"]
    );
    assert!(of("/web", "CC112").is_empty());
    assert_eq!(
        of("/nanocpus-only", "CC112"),
        vec!["no CPU priority: CPU shares unset (a CPU limit is set, but no priority)"]
    );
    assert_eq!(
        of("/default-shares", "CC112"),
        vec!["no CPU priority: CPU shares at the default 1024"]
    );
    let cc108 = of("/default-shares", "CC108");
    assert_eq!(cc108.len(), 2, "{cc108:?}");
    assert!(
        of("/web", "CC108").is_empty(),
        "/etc/localtime read-only is fine"
    );

    // Live restore off without swarm: 2.15 is not met.
    let s = snapshot(json!({"LiveRestoreEnabled": false}), vec![]);
    assert!(codes(&s).contains(&"DD113".to_string()));

    for (level, flagged) in [
        ("info", false),
        ("debug", true),
        ("warn", true),
        ("error", true),
    ] {
        let mut s = snapshot(info.clone(), vec![]);
        s.daemon.config = Some(json!({ "log-level": level }));
        let dd102: Vec<String> = check(&s, &opts())
            .iter()
            .filter(|x| x.rule() == "DD102")
            .map(|x| x.message().to_string())
            .collect();
        assert_eq!(!dd102.is_empty(), flagged, "{level}: {dd102:?}");
        if flagged {
            assert_eq!(
                dd102[0],
                format!("the daemon logs at level {level} (CIS 2.3 asks for info)")
            );
        }
    }
}

/// CIS 5.23 and 5.24 from a `docker exec` history (as `moat monitor` stores it): one
/// finding per container and item; an exec with another user, or none, is fine.
#[test]
fn exec_history_gives_cis_5_23_and_5_24() {
    use moat_audit::ExecRecord;
    let s = snapshot(
        json!({"SecurityOptions": ["name=seccomp,profile=default"]}),
        vec![],
    );
    let exec = |t: i64, c: &str, privileged: bool, user: &str| ExecRecord {
        time_ns: t * 1_000_000_000,
        container: c.repeat(64),
        name: format!("/{c}"),
        command: "sh".into(),
        privileged,
        user: user.into(),
    };
    let mut o = opts();
    o.execs = Some(vec![
        exec(1_764_000_000, "a", true, ""),
        exec(1_764_000_100, "a", true, "root"),
        exec(1_764_000_200, "b", false, "0:0"),
        exec(1_764_000_300, "b", false, "root:wheel"),
        exec(1_764_000_400, "c", false, "1000"),
        exec(1_764_000_500, "c", false, ""),
        exec(1_764_000_600, "c", false, "rooted"),
    ]);
    let (f, cov) = moat_audit::evaluate(&s, &o);
    let got: Vec<(&str, String, &str)> = f
        .iter()
        .filter(|x| matches!(x.rule(), "CC130" | "CC131"))
        .map(|x| (x.rule(), x.object.label(), x.message()))
        .collect();
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got.iter()
            .any(|(r, o, m)| *r == "CC130" && o.contains("/a") && m.contains("2 time"))
    );
    assert!(
        got.iter()
            .any(|(r, o, m)| *r == "CC131" && o.contains("/a") && m.contains("1 time"))
    );
    assert!(
        got.iter()
            .any(|(r, o, m)| *r == "CC131" && o.contains("/b") && m.contains("2 time"))
    );
    assert!(!cov.skipped.contains_key("5.23") && !cov.skipped.contains_key("5.24"));
    let ev = &f.iter().find(|x| x.rule() == "CC130").unwrap().evidence;
    assert!(
        ev[0].starts_with("2025-11-24T") && ev[0].contains("--privileged"),
        "{ev:?}"
    );
}
