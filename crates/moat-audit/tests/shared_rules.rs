//! One rule, one implementation: a compose service and a live container that ask for
//! the same runtime configuration map to equal `ContainerSpec` properties, and
//! moat-lint's shared `check` functions (compose DC rules, live CC rules) judge both
//! alike.

#![allow(clippy::unwrap_used)] // tests

use moat_lint::rules::{
    dc001_privileged, dc002_dangerous_cap_add, dc004_host_namespaces, dc007_no_user,
    dc009_no_memory_limit, dc010_no_cpu_limit, dc011_no_pids_limit, dc012_writable_rootfs,
    dc013_no_new_privileges, dc017_host_devices,
};
use moat_model::ContainerSpec;
use serde_json::json;

/// The verdict of every shared check on one spec.
fn verdicts(s: &ContainerSpec) -> Vec<String> {
    let mut v = Vec::new();
    if dc001_privileged::check(s).is_some() {
        v.push("privileged".to_string());
    }
    for c in dc002_dangerous_cap_add::check(s) {
        v.push(format!("cap {}", c.value.to_ascii_uppercase()));
    }
    for (ns, _) in dc004_host_namespaces::check(s) {
        v.push(format!("host {ns:?}"));
    }
    if dc007_no_user::check(s).is_some() {
        v.push("root".to_string());
    }
    for (name, hit) in [
        ("no memory limit", dc009_no_memory_limit::check(s)),
        ("no cpu limit", dc010_no_cpu_limit::check(s)),
        ("no pids limit", dc011_no_pids_limit::check(s)),
        ("writable rootfs", dc012_writable_rootfs::check(s)),
        ("no nnp", dc013_no_new_privileges::check(s)),
    ] {
        if hit {
            v.push(name.to_string());
        }
    }
    for (_, src) in dc017_host_devices::check(s) {
        v.push(format!("device {src}"));
    }
    v.sort();
    v
}

fn compose_spec(yaml: &str) -> ContainerSpec {
    let c = moat_lint::compose::parse(yaml, &Default::default()).unwrap();
    c.specs()[0].clone()
}

fn live_spec(v: serde_json::Value) -> ContainerSpec {
    moat_audit::spec::container_spec(&serde_json::from_value(v).unwrap())
}

#[test]
fn a_risky_service_and_the_same_live_container_get_the_same_verdicts() {
    let compose = compose_spec(
        "services:\n  web:\n    image: app:1\n    privileged: true\n    cap_add: [SYS_ADMIN, CHOWN]\n    pid: host\n    network_mode: host\n    user: root\n    devices: [\"/dev/sda:/dev/sda\"]\n",
    );
    let live = live_spec(json!({
        "Name": "/web",
        "Config": {"User": "root", "Image": "app:1"},
        "HostConfig": {
            "Privileged": true, "CapAdd": ["SYS_ADMIN", "CHOWN"], "PidMode": "host",
            "NetworkMode": "host", "Memory": 0, "PidsLimit": 0, "ReadonlyRootfs": false,
            "Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda", "CgroupPermissions": "rwm"}]
        }
    }));
    let want = vec![
        "cap SYS_ADMIN",
        "device /dev/sda",
        "host Network",
        "host Pid",
        "no cpu limit",
        "no memory limit",
        "no nnp",
        "no pids limit",
        "privileged",
        "root",
        "writable rootfs",
    ];
    assert_eq!(verdicts(&compose), want);
    assert_eq!(verdicts(&live), want);
}

#[test]
fn a_hardened_service_and_the_same_live_container_pass_alike() {
    let compose = compose_spec(
        "services:\n  web:\n    image: app:1\n    user: \"1000\"\n    read_only: true\n    mem_limit: 64m\n    cpus: 0.5\n    pids_limit: 64\n    security_opt: [\"no-new-privileges:true\"]\n",
    );
    let live = live_spec(json!({
        "Name": "/web",
        "Config": {"User": "1000"},
        "HostConfig": {
            "Memory": 67108864, "NanoCpus": 500000000, "PidsLimit": 64,
            "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges=true"],
            "NetworkMode": "appnet"
        }
    }));
    assert_eq!(verdicts(&compose), Vec::<String>::new());
    assert_eq!(verdicts(&live), Vec::<String>::new());
    // An empty live `Config.User` is "not set" (the image's user), as in compose.
    let unset = live_spec(json!({"Config": {"User": ""}, "HostConfig": {}}));
    assert!(matches!(
        dc007_no_user::check(&unset),
        Some(dc007_no_user::RootUser::Unset)
    ));
}
