//! The rules' logic: pure functions from a [`Snapshot`] to findings (plus the two
//! collectors that need the host: image layers and component binaries).

use crate::finding::{AuditFinding, AuditObject, ObjectKind};
use crate::rules::*;
use crate::sys::HostPaths;
use crate::{AuditOptions, Component, ImageFiles, Snapshot, buildinfo, upstream_version};
use moat_engine::models::{
    ContainerInspectResponse, ImageInspect, RestartPolicyNameEnum, SystemInfo, SystemVersion,
};
use moat_engine::{HostAddr, models::LocalNodeState};
use std::path::Path;

/// Most setuid files listed in one finding's evidence.
const MAX_LISTED: usize = 20;
/// Most entries walked per image layer.
const MAX_WALK: usize = 500_000;

pub(crate) fn container_object(c: &ContainerInspectResponse) -> AuditObject {
    AuditObject {
        kind: ObjectKind::Container,
        name: c.name.clone(),
        id: c.id.clone(),
        image: c.image.clone(),
    }
}

fn image_object(id: &str, img: &ImageInspect) -> AuditObject {
    AuditObject {
        kind: ObjectKind::Image,
        name: img.repo_tags.as_ref().and_then(|t| t.iter().min().cloned()),
        id: Some(id.to_string()),
        image: None,
    }
}

// ---------------------------------------------------------------- daemon (CIS 2)

pub(crate) fn daemon(snap: &Snapshot, out: &mut Vec<AuditFinding>) {
    let info = &snap.info;
    let d = &snap.daemon;
    let obj = AuditObject::daemon;
    let mut add = |rule: &moat_model::lint::RuleMeta, msg: String, ev: Vec<String>| {
        out.push(AuditFinding::new(rule, obj(), msg, ev));
    };

    // 2.2 icc: the default bridge network's option is what is in force.
    if let Some(bridge) = snap
        .networks
        .iter()
        .find(|n| n.name.as_deref() == Some("bridge") && n.driver.as_deref() == Some("bridge"))
    {
        let icc = bridge
            .options
            .as_ref()
            .and_then(|o| o.get("com.docker.network.bridge.enable_icc"))
            .cloned();
        if icc.as_deref() != Some("false") {
            add(
                &DD101,
                "containers on the default bridge can reach each other (set \"icc\": false)".into(),
                vec![format!(
                    "network bridge option com.docker.network.bridge.enable_icc={}",
                    icc.unwrap_or_else(|| "(unset)".into())
                )],
            );
        }
    }
    // 2.3 log level
    let level = d.setting(&["-l", "--log-level"], "log-level").pop();
    let debug_flag = d.bool_setting(&["-D", "--debug"], "debug");
    if info.debug == Some(true)
        || level.as_ref().is_some_and(|l| l.value == "debug")
        || debug_flag.as_ref().is_some_and(|(v, _)| *v)
    {
        let mut ev = vec![format!("/info Debug={}", info.debug.unwrap_or(false))];
        ev.extend(level.map(|l| l.source));
        ev.extend(debug_flag.map(|(_, s)| s));
        add(&DD102, "the daemon logs at debug level".into(), ev);
    }
    // 2.4 iptables
    if let Some((false, src)) = d.bool_setting(&["--iptables"], "iptables") {
        add(
            &DD103,
            "Docker may not manage iptables rules".into(),
            vec![src],
        );
    }
    // 2.5 insecure registries
    let mut insecure: Vec<String> = info
        .registry_config
        .as_ref()
        .map(|r| {
            let mut v: Vec<String> = r
                .insecure_registry_cidrs
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c != "127.0.0.0/8" && c != "::1/128")
                .collect();
            if let Some(idx) = &r.index_configs {
                v.extend(
                    idx.iter()
                        .filter(|(_, i)| i.secure == Some(false))
                        .map(|(k, _)| k.clone()),
                );
            }
            v
        })
        .unwrap_or_default();
    insecure.sort();
    insecure.dedup();
    if !insecure.is_empty() {
        add(
            &DD104,
            format!("insecure registries: {}", insecure.join(", ")),
            vec![format!(
                "/info RegistryConfig insecure: {}",
                insecure.join(", ")
            )],
        );
    }
    // 2.6/2.7 storage driver
    if let Some(drv) = info.driver.as_deref()
        && (drv == "aufs" || drv == "devicemapper")
    {
        add(
            &DD105,
            format!("storage driver {drv} is deprecated"),
            vec![format!("/info Driver={drv}")],
        );
    }
    // 2.8 TCP without TLS
    let tlsverify = d
        .bool_setting(&["--tlsverify"], "tlsverify")
        .is_some_and(|(v, _)| v);
    let mut tcp_ev: Vec<String> = if tlsverify {
        Vec::new()
    } else {
        d.setting(&["-H", "--host"], "hosts")
            .into_iter()
            .filter(|s| s.value.starts_with("tcp://") || s.value.starts_with("http://"))
            .map(|s| s.source)
            .collect()
    };
    if let Ok(HostAddr::Tcp(a)) = HostAddr::parse(&snap.host) {
        tcp_ev.push(format!(
            "moat reached the Engine API over plain TCP at tcp://{a}"
        ));
    }
    if !tcp_ev.is_empty() {
        add(
            &DD106,
            "the Engine API is served over TCP without TLS client verification".into(),
            tcp_ev,
        );
    }
    if d.known() {
        // 2.9 default ulimits
        if d.setting(&["--default-ulimit"], "default-ulimits")
            .is_empty()
        {
            add(
                &DD107,
                "no daemon-wide default ulimits".into(),
                vec!["no --default-ulimit flag or \"default-ulimits\" key".into()],
            );
        }
        // 2.11 cgroup parent
        if let Some(s) = d.setting(&["--cgroup-parent"], "cgroup-parent").pop() {
            add(
                &DD109,
                format!("containers are placed under cgroup parent {}", s.value),
                vec![s.source],
            );
        }
        // 2.15 no-new-privileges
        if !d
            .bool_setting(&["--no-new-privileges"], "no-new-privileges")
            .is_some_and(|(v, _)| v)
        {
            add(
                &DD112,
                "containers may gain new privileges unless each opts out".into(),
                vec!["no --no-new-privileges flag or \"no-new-privileges\": true".into()],
            );
        }
        // 2.17 userland proxy
        let proxy = d.bool_setting(&["--userland-proxy"], "userland-proxy");
        if !matches!(proxy, Some((false, _))) {
            add(
                &DD114,
                "the userland proxy is enabled".into(),
                vec![
                    proxy
                        .map(|(_, s)| s)
                        .unwrap_or_else(|| "userland-proxy not set (default true)".into()),
                ],
            );
        }
    }
    // 2.10 userns
    let secopts = info.security_options.clone().unwrap_or_default();
    if !secopts.iter().any(|o| o.contains("name=userns")) {
        add(
            &DD108,
            "user namespace remapping is off: root in a container is root on the host".into(),
            vec![format!("/info SecurityOptions={secopts:?}")],
        );
    }
    // 2.13 authorization plugin
    let authz = info
        .plugins
        .as_ref()
        .and_then(|p| p.authorization.clone())
        .unwrap_or_default();
    if authz.is_empty() {
        add(
            &DD110,
            "no authorization plugin: every socket client may do everything".into(),
            vec!["/info Plugins.Authorization=[]".into()],
        );
    }
    // 2.14 logging
    if let Some(drv) = info.logging_driver.as_deref()
        && matches!(drv, "json-file" | "local" | "none")
    {
        add(
            &DD111,
            format!("container logs stay on the host (log driver {drv})"),
            vec![format!("/info LoggingDriver={drv}")],
        );
    }
    // 2.16 live restore
    if info.live_restore_enabled != Some(true) {
        add(
            &DD113,
            "live restore is off: restarting dockerd stops every container".into(),
            vec![format!(
                "/info LiveRestoreEnabled={}",
                info.live_restore_enabled.unwrap_or(false)
            )],
        );
    }
    // 2.18 seccomp
    match secopts.iter().find(|o| o.contains("name=seccomp")) {
        None => add(
            &DD115,
            "the daemon applies no seccomp profile".into(),
            vec![format!("/info SecurityOptions={secopts:?}")],
        ),
        Some(o) if o.contains("profile=unconfined") => add(
            &DD115,
            "the daemon's default seccomp profile is unconfined".into(),
            vec![format!("/info SecurityOptions contains {o}")],
        ),
        Some(_) => {}
    }
    // 2.19 experimental
    if info.experimental_build == Some(true) {
        add(
            &DD116,
            "experimental features are enabled".into(),
            vec!["/info ExperimentalBuild=true".into()],
        );
    }
    // 5.1 swarm
    if let Some(state) = info.swarm.as_ref().and_then(|s| s.local_node_state)
        && state == LocalNodeState::ACTIVE
    {
        add(
            &DD117,
            "swarm mode is active".into(),
            vec!["/info Swarm.LocalNodeState=active".into()],
        );
    }
}

// ---------------------------------------------------------------- host files (CIS 1, 3)

pub(crate) fn host_files(snap: &Snapshot, out: &mut Vec<AuditFinding>) {
    if let Some(s) = &snap.socket {
        let group_ok = s.gid == 0 || snap.docker_group.as_ref().is_some_and(|g| g.gid == s.gid);
        if s.uid != 0 || !group_ok {
            out.push(AuditFinding::new(
                &DH101,
                AuditObject::host(&s.path),
                format!("socket is owned by {} (want root:docker)", s.owner_str()),
                vec![format!("stat {}: uid={} gid={}", s.path, s.uid, s.gid)],
            ));
        }
        if s.mode & !0o660 & 0o777 != 0 {
            out.push(AuditFinding::new(
                &DH102,
                AuditObject::host(&s.path),
                format!("socket mode is {} (want 660 or stricter)", s.mode_str()),
                vec![format!("stat {}: mode={}", s.path, s.mode_str())],
            ));
        }
    }
    if let Some(f) = &snap.daemon_json {
        if f.uid != 0 || f.gid != 0 {
            out.push(AuditFinding::new(
                &DH103,
                AuditObject::host(&f.path),
                format!("daemon.json is owned by {} (want root:root)", f.owner_str()),
                vec![format!("stat {}: uid={} gid={}", f.path, f.uid, f.gid)],
            ));
        }
        if f.mode & !0o644 & 0o777 != 0 {
            out.push(AuditFinding::new(
                &DH104,
                AuditObject::host(&f.path),
                format!(
                    "daemon.json mode is {} (want 644 or stricter)",
                    f.mode_str()
                ),
                vec![format!("stat {}: mode={}", f.path, f.mode_str())],
            ));
        }
    }
    for f in &snap.docker_files {
        let x = &f.facts;
        if x.uid != 0 || x.gid != 0 {
            out.push(AuditFinding::new(
                &DH106,
                AuditObject::host(&x.path),
                format!(
                    "owned by {} (want root:root, CIS {})",
                    x.owner_str(),
                    f.cis_owner
                ),
                vec![format!("stat {}: uid={} gid={}", x.path, x.uid, x.gid)],
            ));
        }
        if x.mode & !f.max_mode & 0o7777 != 0 {
            out.push(AuditFinding::new(
                &DH107,
                AuditObject::host(&x.path),
                format!(
                    "mode {} (want {:o} or stricter, CIS {})",
                    x.mode_str(),
                    f.max_mode,
                    f.cis_mode
                ),
                vec![format!("stat {}: mode={}", x.path, x.mode_str())],
            ));
        }
    }
    if let Some(g) = &snap.docker_group
        && !g.members.is_empty()
    {
        out.push(AuditFinding::new(
            &DH105,
            AuditObject::host(format!("group {}", g.name)),
            format!(
                "{} user(s) in group {} control the daemon: {}",
                g.members.len(),
                g.name,
                g.members.join(", ")
            ),
            vec![format!(
                "/etc/group {}:{}: {}",
                g.name,
                g.gid,
                g.members.join(",")
            )],
        ));
    }
}

// ---------------------------------------------------------------- containers (CIS 4, 5)

/// Host directories that must not be mounted (CIS 5.6), exact or as a parent.
const SENSITIVE_DIRS: &[&str] = &["/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr"];
/// Capabilities whose addition is a container escape or close to it.
const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "SYS_BOOT",
    "SYS_TIME",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
];

fn is_sensitive_source(src: &str) -> bool {
    let src = src.trim_end_matches('/');
    src.is_empty()
        || SENSITIVE_DIRS
            .iter()
            .any(|d| src == *d || src.starts_with(&format!("{d}/")))
}

fn is_root_user(user: Option<&str>) -> bool {
    let u = user.unwrap_or("").trim();
    let name = u.split(':').next().unwrap_or("");
    name.is_empty() || name == "root" || name == "0"
}

fn secopt_value<'a>(opts: &'a [String], key: &str) -> Option<&'a str> {
    opts.iter().find_map(|o| {
        o.strip_prefix(key)
            .and_then(|r| r.strip_prefix('=').or_else(|| r.strip_prefix(':')))
    })
}

pub(crate) fn container(
    snap: &Snapshot,
    c: &ContainerInspectResponse,
    out: &mut Vec<AuditFinding>,
) {
    let obj = container_object(c);
    let mut add = |rule: &moat_model::lint::RuleMeta, msg: String, ev: Vec<String>| {
        out.push(AuditFinding::new(rule, obj.clone(), msg, ev));
    };
    let hc = c.host_config.clone().unwrap_or_default();
    let cfg = c.config.clone().unwrap_or_default();
    let secopts = hc.security_opt.clone().unwrap_or_default();

    if hc.privileged == Some(true) {
        add(
            &CC101,
            "container is privileged: all capabilities and devices of the host".into(),
            vec!["HostConfig.Privileged=true".into()],
        );
    }
    let caps: Vec<String> = hc
        .cap_add
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !caps.is_empty() {
        let dangerous: Vec<&String> = caps
            .iter()
            .filter(|c| DANGEROUS_CAPS.contains(&c.trim_start_matches("CAP_")))
            .collect();
        let msg = if dangerous.is_empty() {
            format!("adds capabilities {}", caps.join(", "))
        } else {
            format!(
                "adds capabilities {} (escape-grade: {})",
                caps.join(", "),
                dangerous
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        add(&CC102, msg, vec![format!("HostConfig.CapAdd={caps:?}")]);
    }
    let modes = [
        (&CC103, "PidMode", hc.pid_mode.as_deref(), "PID"),
        (&CC104, "NetworkMode", hc.network_mode.as_deref(), "network"),
        (&CC105, "IpcMode", hc.ipc_mode.as_deref(), "IPC"),
        (&CC106, "UTSMode", hc.uts_mode.as_deref(), "UTS"),
        (&CC107, "UsernsMode", hc.userns_mode.as_deref(), "user"),
    ];
    for (rule, field, value, what) in modes {
        if value == Some("host") {
            add(
                rule,
                format!("shares the host's {what} namespace"),
                vec![format!("HostConfig.{field}=host")],
            );
        }
    }
    for m in c.mounts.clone().unwrap_or_default() {
        let src = m.source.clone().unwrap_or_default();
        let dst = m.destination.clone().unwrap_or_default();
        let rw = m.rw.unwrap_or(true);
        let bind = m.typ.as_deref().map(|t| t == "bind").unwrap_or(true);
        let ev = format!(
            "Mounts: {src} -> {dst} ({}{})",
            if rw { "rw" } else { "ro" },
            m.propagation
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| format!(", propagation {p}"))
                .unwrap_or_default()
        );
        let name_is_sock = |p: &str| Path::new(p).file_name().is_some_and(|n| n == "docker.sock");
        if bind && (name_is_sock(&src) || name_is_sock(&dst)) {
            add(
                &CC109,
                format!("Docker socket {src} is mounted at {dst}"),
                vec![ev.clone()],
            );
        } else if bind && is_sensitive_source(&src) {
            add(
                &CC108,
                format!(
                    "host directory {} is mounted at {dst}{}",
                    if src.is_empty() { "/" } else { &src },
                    if rw { " read-write" } else { " read-only" }
                ),
                vec![ev.clone()],
            );
        }
        if matches!(m.propagation.as_deref(), Some("shared" | "rshared")) {
            add(
                &CC110,
                format!(
                    "mount {dst} has {} propagation",
                    m.propagation.clone().unwrap_or_default()
                ),
                vec![ev],
            );
        }
    }
    if hc.memory.unwrap_or(0) == 0 {
        add(
            &CC111,
            "no memory limit".into(),
            vec!["HostConfig.Memory=0".into()],
        );
    }
    if hc.cpu_shares.unwrap_or(0) == 0
        && hc.nano_cpus.unwrap_or(0) == 0
        && hc.cpu_quota.unwrap_or(0) <= 0
        && hc.cpuset_cpus.as_deref().unwrap_or("").is_empty()
    {
        add(
            &CC112,
            "no CPU limit or priority".into(),
            vec!["HostConfig.CpuShares=0, NanoCpus=0, CpuQuota=0, CpusetCpus=\"\"".into()],
        );
    }
    if hc.pids_limit.unwrap_or(0) <= 0 {
        add(
            &CC113,
            "no PIDs limit".into(),
            vec![format!("HostConfig.PidsLimit={:?}", hc.pids_limit)],
        );
    }
    if is_root_user(cfg.user.as_deref()) {
        add(
            &CC114,
            "runs as root".into(),
            vec![format!(
                "Config.User={:?}",
                cfg.user.clone().unwrap_or_default()
            )],
        );
    }
    if hc.readonly_rootfs != Some(true) {
        add(
            &CC115,
            "root filesystem is writable".into(),
            vec!["HostConfig.ReadonlyRootfs=false".into()],
        );
    }
    let daemon_nnp = snap
        .daemon
        .bool_setting(&["--no-new-privileges"], "no-new-privileges")
        .is_some_and(|(v, _)| v);
    let nnp = secopts.iter().any(|o| {
        matches!(
            o.as_str(),
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
        )
    });
    if !nnp && !daemon_nnp {
        add(
            &CC116,
            "no-new-privileges is not set".into(),
            vec![format!("HostConfig.SecurityOpt={secopts:?}")],
        );
    }
    if secopt_value(&secopts, "seccomp") == Some("unconfined") {
        add(
            &CC117,
            "seccomp is unconfined".into(),
            vec![format!("HostConfig.SecurityOpt={secopts:?}")],
        );
    }
    let apparmor_on = snap
        .info
        .security_options
        .as_ref()
        .is_some_and(|o| o.iter().any(|x| x.contains("name=apparmor")));
    let profile = c.app_armor_profile.clone().unwrap_or_default();
    if secopt_value(&secopts, "apparmor") == Some("unconfined")
        || (apparmor_on
            && hc.privileged != Some(true)
            && (profile.is_empty() || profile == "unconfined"))
    {
        add(
            &CC118,
            "AppArmor is unconfined".into(),
            vec![format!(
                "AppArmorProfile={profile:?}, HostConfig.SecurityOpt={secopts:?}"
            )],
        );
    }
    let mut bindings: Vec<(String, String, String)> = Vec::new();
    for (port, binds) in hc.port_bindings.clone().unwrap_or_default() {
        for b in binds.unwrap_or_default() {
            bindings.push((
                port.clone(),
                b.host_ip.unwrap_or_default(),
                b.host_port.unwrap_or_default(),
            ));
        }
    }
    bindings.sort();
    for (port, ip, hport) in &bindings {
        let ev = format!(
            "HostConfig.PortBindings {port} -> {}:{hport}",
            if ip.is_empty() { "0.0.0.0" } else { ip }
        );
        if ip.is_empty() || ip == "0.0.0.0" || ip == "::" {
            add(
                &CC119,
                format!("port {port} is published on all host interfaces (host port {hport})"),
                vec![ev.clone()],
            );
        }
        if let Ok(p) = hport.parse::<u32>()
            && p > 0
            && p < 1024
        {
            add(
                &CC120,
                format!("privileged host port {p} is mapped to {port}"),
                vec![ev],
            );
        }
    }
    if hc.publish_all_ports == Some(true) {
        add(
            &CC126,
            "every exposed port is published (--publish-all)".into(),
            vec!["HostConfig.PublishAllPorts=true".into()],
        );
    }
    if let Some(rp) = &hc.restart_policy {
        let n = rp.maximum_retry_count.unwrap_or(0);
        let bad = match rp.name {
            Some(RestartPolicyNameEnum::ALWAYS) | Some(RestartPolicyNameEnum::UNLESS_STOPPED) => {
                true
            }
            Some(RestartPolicyNameEnum::ON_FAILURE) => n <= 0 || n > 5,
            _ => false,
        };
        if bad {
            let name = rp.name.map(|n| n.to_string()).unwrap_or_default();
            add(
                &CC121,
                format!("restart policy {name} (max retries {n})"),
                vec![format!(
                    "HostConfig.RestartPolicy={{Name:{name}, MaximumRetryCount:{n}}}"
                )],
            );
        }
    }
    let devices: Vec<String> = hc
        .devices
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            format!(
                "{}:{}:{}",
                d.path_on_host.unwrap_or_default(),
                d.path_in_container.unwrap_or_default(),
                d.cgroup_permissions.unwrap_or_default()
            )
        })
        .collect();
    if !devices.is_empty() {
        add(
            &CC122,
            format!("host devices exposed: {}", devices.join(", ")),
            vec![format!("HostConfig.Devices={devices:?}")],
        );
    }
    let net = hc.network_mode.clone().unwrap_or_default();
    let bridge_exists = snap
        .networks
        .iter()
        .any(|n| n.name.as_deref() == Some("bridge"));
    if (net == "bridge" || (net == "default" && bridge_exists)) || (net.is_empty() && bridge_exists)
    {
        add(
            &CC123,
            "attached to the default bridge network".into(),
            vec![format!("HostConfig.NetworkMode={net:?}")],
        );
    }
    let hc_test = cfg.healthcheck.as_ref().and_then(|h| h.test.clone());
    let no_health = match hc_test.as_deref() {
        None | Some([]) => true,
        Some([first, ..]) => first == "NONE",
    };
    if no_health {
        add(
            &CC124,
            "no health check".into(),
            vec![format!("Config.Healthcheck.Test={hc_test:?}")],
        );
    }
    if let Some(parent) = hc.cgroup_parent.as_deref().filter(|p| !p.is_empty()) {
        add(
            &CC125,
            format!("custom cgroup parent {parent}"),
            vec![format!("HostConfig.CgroupParent={parent:?}")],
        );
    }

    // The kernel's view.
    let Some(id) = c.id.as_deref() else { return };
    if let Some(pids) = snap.sshd.get(id) {
        add(
            &CC127,
            format!("sshd runs in the container (host pid {})", pids[0]),
            pids.iter()
                .map(|p| format!("/proc/{p}/comm=sshd, /proc/{p}/cgroup names the container"))
                .collect(),
        );
    }
    let Some(p) = snap.proofs.get(id) else { return };
    let ns_rules = [
        ("pid", &CC151),
        ("net", &CC152),
        ("mnt", &CC153),
        ("ipc", &CC154),
        ("uts", &CC155),
        ("user", &CC156),
        ("cgroup", &CC157),
    ];
    for (kind, rule) in ns_rules {
        if let Some(ns) = p.namespaces.get(kind)
            && ns.shared
        {
            add(
                rule,
                format!("init process {} is in the host's {kind} namespace", p.pid),
                vec![format!(
                    "/proc/{}/ns/{kind} -> {} = {} -> {}",
                    p.pid, ns.container, ns.reference, ns.host
                )],
            );
        }
    }
    if !p.cap_eff_beyond_default.is_empty() {
        add(
            &CC160,
            format!(
                "effective capabilities beyond Docker's default: {}",
                p.cap_eff_beyond_default.join(", ")
            ),
            vec![format!("/proc/{}/status CapEff={}", p.pid, p.cap_eff)],
        );
    }
    if p.seccomp == Some(0) {
        add(
            &CC161,
            "no seccomp filter on the init process".into(),
            vec![format!("/proc/{}/status Seccomp=0", p.pid)],
        );
    }
    if p.no_new_privs == Some(false) {
        add(
            &CC165,
            "the kernel's no_new_privs flag is off".into(),
            vec![format!("/proc/{}/status NoNewPrivs=0", p.pid)],
        );
    }
    let limits = [
        (&CC162, "memory", &p.memory, hc.memory.unwrap_or(0) != 0),
        (&CC163, "CPU", &p.cpu, false),
        (&CC164, "PIDs", &p.pids, hc.pids_limit.unwrap_or(0) > 0),
    ];
    for (rule, what, view, configured) in limits {
        if let Some(v) = view
            && !v.limited
        {
            let msg = if configured {
                format!("a {what} limit is configured but the cgroup enforces none")
            } else {
                format!("no {what} limit in force in the container's cgroup")
            };
            add(rule, msg, vec![v.evidence()]);
        }
    }
}

// ---------------------------------------------------------------- images (CIS 4)

pub(crate) fn image(
    snap: &Snapshot,
    id: &str,
    img: &ImageInspect,
    opts: &AuditOptions,
    out: &mut Vec<AuditFinding>,
) {
    let obj = image_object(id, img);
    let cfg = img.config.clone().unwrap_or_default();
    if is_root_user(cfg.user.as_deref()) {
        out.push(AuditFinding::new(
            &IC101,
            obj.clone(),
            "image runs as root (no USER)".to_string(),
            vec![format!(
                "Config.User={:?}",
                cfg.user.clone().unwrap_or_default()
            )],
        ));
    }
    let test = cfg.healthcheck.as_ref().and_then(|h| h.test.clone());
    if matches!(test.as_deref(), None | Some([]))
        || test
            .as_ref()
            .and_then(|t| t.first())
            .is_some_and(|t| t == "NONE")
    {
        out.push(AuditFinding::new(
            &IC102,
            obj.clone(),
            "image has no HEALTHCHECK".to_string(),
            vec![format!("Config.Healthcheck.Test={test:?}")],
        ));
    }
    if let Some(files) = snap.image_files.get(id)
        && !files.setuid.is_empty()
    {
        let mut ev: Vec<String> = files.setuid.iter().take(MAX_LISTED).cloned().collect();
        if files.setuid.len() > MAX_LISTED {
            ev.push(format!("... and {} more", files.setuid.len() - MAX_LISTED));
        }
        out.push(AuditFinding::new(
            &IC103,
            obj.clone(),
            format!("{} setuid/setgid file(s) in the image", files.setuid.len()),
            ev,
        ));
    }
    if let Some(created) = img.created.as_deref()
        && let Ok(t) =
            time::OffsetDateTime::parse(created, &time::format_description::well_known::Rfc3339)
    {
        let days = (opts.now - t).whole_days();
        if days > opts.max_image_age_days {
            out.push(AuditFinding::new(
                &IC104,
                obj,
                format!(
                    "image was created {days} days ago (limit {})",
                    opts.max_image_age_days
                ),
                vec![format!("Created={created}")],
            ));
        }
    }
}

/// Walks an image's layer directories on the host (overlay2 `LowerDir`/`UpperDir`) for
/// setuid/setgid regular files.
pub(crate) fn scan_image_layers(
    paths: &HostPaths,
    img: &ImageInspect,
) -> Result<ImageFiles, String> {
    use std::os::unix::fs::PermissionsExt;
    let gd = img
        .graph_driver
        .as_ref()
        .ok_or_else(|| "no GraphDriver data".to_string())?;
    let mut dirs: Vec<String> = Vec::new();
    for key in ["LowerDir", "UpperDir"] {
        if let Some(v) = gd.data.get(key) {
            dirs.extend(v.split(':').filter(|s| !s.is_empty()).map(String::from));
        }
    }
    if dirs.is_empty() {
        return Err(format!(
            "storage driver {} exposes no layer directories",
            gd.name
        ));
    }
    let mut files = ImageFiles::default();
    for dir in &dirs {
        let root = paths.host(Path::new(dir));
        if !root.is_dir() {
            return Err(format!("layer directory {dir} is not readable here"));
        }
        for entry in walkdir::WalkDir::new(&root)
            .follow_links(false)
            .into_iter()
            .take(MAX_WALK)
            .filter_map(|e| e.ok())
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(md) = entry.metadata() else { continue };
            let mode = md.permissions().mode();
            if mode & 0o6000 != 0 {
                let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
                files
                    .setuid
                    .push(format!("/{} ({:o})", rel.display(), mode & 0o7777));
            }
        }
        files.layers.push(dir.clone());
    }
    files.setuid.sort();
    files.setuid.dedup();
    Ok(files)
}

// ---------------------------------------------------------------- components

fn api_component(version: &SystemVersion, name: &str) -> Option<String> {
    version
        .components
        .as_ref()?
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.version.clone())
}

fn which(paths: &HostPaths, prog: &str) -> Option<String> {
    if prog.starts_with('/') {
        return Some(prog.to_string());
    }
    [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ]
    .iter()
    .map(|d| format!("{d}/{prog}"))
    .find(|p| paths.host(Path::new(p)).is_file())
}

/// dockerd, containerd and runc versions, from `/version` and from the binaries.
pub(crate) fn components(
    paths: &HostPaths,
    info: &SystemInfo,
    version: &SystemVersion,
    daemon: &crate::daemon::DaemonConfig,
    notes: &mut Vec<String>,
) -> Vec<Component> {
    let dockerd_pid = daemon.process.as_ref().map(|p| p.pid);
    // (shown path, path to read): a running binary is read through /proc/PID/exe, which
    // works even when the file was replaced on disk since the process started.
    let via_proc = |p: &crate::sys::ProcessInfo| {
        let read = paths.pid(p.pid).join("exe").to_string_lossy().into_owned();
        (p.exe.clone().unwrap_or_else(|| read.clone()), read)
    };
    let dockerd_bin = daemon.process.as_ref().map(via_proc);
    let containerd_bin =
        crate::sys::find_child_or_only(paths, dockerd_pid, "containerd").map(|p| via_proc(&p));
    let runc_prog = info
        .runtimes
        .as_ref()
        .and_then(|r| r.get("runc"))
        .and_then(|r| r.path.clone())
        .unwrap_or_else(|| "runc".into());
    let runc_bin = which(paths, &runc_prog).map(|p| {
        (
            p.clone(),
            paths.host(Path::new(&p)).to_string_lossy().into_owned(),
        )
    });

    let specs = [
        (
            "dockerd",
            "github.com/docker/docker",
            api_component(version, "Engine").or_else(|| version.version.clone()),
            dockerd_bin,
            "github.com/docker/docker/dockerversion.Version",
        ),
        (
            "containerd",
            "github.com/containerd/containerd",
            api_component(version, "containerd"),
            containerd_bin,
            "github.com/containerd/containerd/version.Version",
        ),
        (
            "runc",
            "github.com/opencontainers/runc",
            api_component(version, "runc"),
            runc_bin,
            "main.version",
        ),
    ];
    let mut out = Vec::new();
    for (name, module, api_version, binary, ldvar) in specs {
        let mut comp = Component {
            name: name.into(),
            module: module.into(),
            api_version,
            binary: binary.as_ref().map(|(shown, _)| shown.clone()),
            binary_version: None,
            go_version: None,
            version: None,
            package: binary
                .as_ref()
                .and_then(|(shown, _)| crate::sys::dpkg_owner(paths, Path::new(shown))),
        };
        if let Some((_, bin)) = &binary {
            match buildinfo::read_file(Path::new(bin)) {
                Ok(bi) => {
                    comp.go_version = Some(bi.go_version.clone());
                    comp.binary_version = bi
                        .main_module
                        .as_ref()
                        .filter(|(p, v)| p == module && v != "(devel)")
                        .map(|(_, v)| v.clone())
                        .or_else(|| bi.ldflag_var(ldvar));
                }
                Err(e) => notes.push(format!("{name}: Go build info not read: {e}")),
            }
        }
        comp.version = comp
            .binary_version
            .as_deref()
            .or(comp.api_version.as_deref())
            .map(upstream_version);
        out.push(comp);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_sources() {
        assert!(is_sensitive_source("/"));
        assert!(is_sensitive_source("/etc"));
        assert!(is_sensitive_source("/etc/ssl/"));
        assert!(is_sensitive_source("/proc"));
        assert!(!is_sensitive_source("/etcetera"));
        assert!(!is_sensitive_source("/srv/data"));
    }

    #[test]
    fn root_users() {
        assert!(is_root_user(None));
        assert!(is_root_user(Some("")));
        assert!(is_root_user(Some("0:0")));
        assert!(is_root_user(Some("root")));
        assert!(!is_root_user(Some("1000:1000")));
        assert!(!is_root_user(Some("app")));
    }
}
