//! Container checks (CIS 4, 5): `CC1xx`; and the isolation proof: `IP1xx`.

use super::{Sink, container_object};
use crate::Snapshot;
use crate::finding::{AuditFinding, AuditObject};
use crate::rules::*;
use moat_engine::models::{ContainerInspectResponse, RestartPolicyNameEnum};
use moat_lint::rules::{
    dc001_privileged, dc002_dangerous_cap_add, dc004_host_namespaces, dc007_no_user,
    dc009_no_memory_limit, dc011_no_pids_limit, dc012_writable_rootfs, dc013_no_new_privileges,
    dc017_host_devices,
};
use moat_model::container::Namespace;
use std::path::Path;

/// Host directories that must not be mounted (CIS 5.6), exact or as a parent.
const SENSITIVE_DIRS: &[&str] = &["/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr"];

/// Whether a bind mount of `src` exposes a sensitive host directory (CIS 5.6): one of
/// them (read-only too: the benchmark says not to mount them, "especially" read-write),
/// or anything below one read-write. A read-only file or directory below one
/// (`/etc/localtime:ro`, `/etc/ssl/certs:ro`) is not reported.
fn is_sensitive_source(src: &str, rw: bool) -> bool {
    let src = src.trim_end_matches('/');
    src.is_empty()
        || SENSITIVE_DIRS
            .iter()
            .any(|d| src == *d || (rw && src.starts_with(&format!("{d}/"))))
}

/// Root, or no user at all (a live container's empty `Config.User` is root).
pub(super) fn is_root_user(user: Option<&str>) -> bool {
    let u = user.unwrap_or("").trim();
    u.split(':').next().unwrap_or("").is_empty() || moat_model::container::is_root_user(u)
}

fn secopt_value<'a>(opts: &'a [String], key: &str) -> Option<&'a str> {
    opts.iter().find_map(|o| {
        o.strip_prefix(key)
            .and_then(|r| r.strip_prefix('=').or_else(|| r.strip_prefix(':')))
    })
}

pub(crate) fn container(snap: &Snapshot, c: &ContainerInspectResponse, out: &mut Sink) {
    let obj = container_object(c);
    let mut add = |rule: &moat_model::lint::RuleMeta, msg: String, ev: Vec<String>| {
        out.push(AuditFinding::new(rule, obj.clone(), msg, ev));
    };
    let hc = c.host_config.clone().unwrap_or_default();
    let cfg = c.config.clone().unwrap_or_default();
    let secopts = hc.security_opt.clone().unwrap_or_default();
    // The properties compose lint checks too: one implementation, moat-lint's.
    let spec = crate::spec::container_spec(c);

    if dc001_privileged::check(&spec).is_some() {
        add(
            &CC101,
            "container is privileged: all capabilities and devices of the host".into(),
            vec!["HostConfig.Privileged=true".into()],
        );
    }
    // Adding back one of Docker's default capabilities (`--cap-drop ALL --cap-add
    // NET_BIND_SERVICE`, the benchmark's own remediation) restricts, not extends.
    let caps: Vec<String> = spec
        .cap_add
        .iter()
        .map(|c| c.value.to_ascii_uppercase())
        .filter(|c| {
            let full = if c.starts_with("CAP_") {
                c.clone()
            } else {
                format!("CAP_{c}")
            };
            !crate::proof::DOCKER_DEFAULT_CAPS.contains(&full.as_str())
        })
        .collect();
    if !caps.is_empty() {
        let dangerous: Vec<String> = dc002_dangerous_cap_add::check(&spec)
            .map(|c| c.value.to_ascii_uppercase())
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
    for (ns, _) in dc004_host_namespaces::check(&spec) {
        let (rule, field, what) = match ns {
            Namespace::Pid => (&CC103, "PidMode", "PID"),
            Namespace::Network => (&CC104, "NetworkMode", "network"),
            Namespace::Ipc => (&CC105, "IpcMode", "IPC"),
            Namespace::Uts => (&CC106, "UTSMode", "UTS"),
            Namespace::User => (&CC107, "UsernsMode", "user"),
        };
        add(
            rule,
            format!("shares the host's {what} namespace"),
            vec![format!("HostConfig.{field}=host")],
        );
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
        let engine_socket = if bind {
            engine_socket_in(snap, &src, &dst)
        } else {
            None
        };
        if let Some((what, why)) = engine_socket {
            add(
                &CC109,
                format!("{what} is exposed: {src} is mounted at {dst}"),
                vec![ev.clone(), why],
            );
        }
        if bind && is_sensitive_source(&src, rw) {
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
    if dc009_no_memory_limit::check(&spec) {
        add(
            &CC111,
            "no memory limit".into(),
            vec!["HostConfig.Memory=0".into()],
        );
    }
    // 5.12 is about priority: CPU shares, unset (0) or Docker's default 1024 (CIS 5.12's
    // audit). A quota or cpuset limits CPU (the isolation proof shows it) but sets none.
    let shares = hc.cpu_shares.unwrap_or(0);
    if shares == 0 || shares == 1024 {
        let limit = hc.nano_cpus.unwrap_or(0) != 0
            || hc.cpu_quota.unwrap_or(0) > 0
            || !hc.cpuset_cpus.as_deref().unwrap_or("").is_empty();
        add(
            &CC112,
            format!(
                "no CPU priority: CPU shares {}{}",
                if shares == 0 {
                    "unset"
                } else {
                    "at the default 1024"
                },
                if limit {
                    " (a CPU limit is set, but no priority)"
                } else {
                    ""
                }
            ),
            vec![format!(
                "HostConfig.CpuShares={shares}, NanoCpus={}, CpuQuota={}, CpusetCpus={:?}",
                hc.nano_cpus.unwrap_or(0),
                hc.cpu_quota.unwrap_or(0),
                hc.cpuset_cpus.as_deref().unwrap_or("")
            )],
        );
    }
    if dc011_no_pids_limit::check(&spec) {
        add(
            &CC113,
            "no PIDs limit".into(),
            vec![format!("HostConfig.PidsLimit={:?}", hc.pids_limit)],
        );
    }
    if dc007_no_user::check(&spec).is_some() {
        add(
            &CC114,
            "runs as root".into(),
            vec![format!(
                "Config.User={:?}",
                cfg.user.clone().unwrap_or_default()
            )],
        );
    }
    if dc012_writable_rootfs::check(&spec) {
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
    if dc013_no_new_privileges::check(&spec) && !daemon_nnp {
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
    let devices: Vec<String> = dc017_host_devices::check(&spec)
        .map(|(d, _)| d.value.clone())
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

    // 5.3 SELinux: only where the daemon enforces it; `label=disable` opts out.
    let selinux = snap
        .info
        .security_options
        .as_ref()
        .is_some_and(|o| o.iter().any(|x| x.contains("name=selinux")));
    if selinux
        && (secopt_value(&secopts, "label") == Some("disable")
            || secopts.iter().any(|o| o == "label:disable"))
    {
        add(
            &CC128,
            "SELinux labelling is disabled (label=disable)".into(),
            vec![format!("HostConfig.SecurityOpt={secopts:?}")],
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
        ("pid", &IP101),
        ("net", &IP102),
        ("mnt", &IP103),
        ("ipc", &IP104),
        ("uts", &IP105),
        ("user", &IP106),
        ("cgroup", &IP107),
    ];
    for (kind, rule) in ns_rules {
        // A daemon-wide default is reported once, on the daemon (IP120, IP121).
        if (kind == "user" && !explicit_host_userns(c))
            || (kind == "cgroup" && !explicit_host_cgroupns(snap, c))
        {
            continue;
        }
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
            &IP110,
            format!(
                "effective capabilities beyond Docker's default: {}",
                p.cap_eff_beyond_default.join(", ")
            ),
            vec![format!("/proc/{}/status CapEff={}", p.pid, p.cap_eff)],
        );
    }
    if p.seccomp == Some(0) {
        add(
            &IP111,
            "no seccomp filter on the init process".into(),
            vec![format!("/proc/{}/status Seccomp=0", p.pid)],
        );
    }
    if p.no_new_privs == Some(false) {
        add(
            &IP115,
            "the kernel's no_new_privs flag is off".into(),
            vec![format!("/proc/{}/status NoNewPrivs=0", p.pid)],
        );
    }
    let limits = [
        (&IP112, "memory", &p.memory, hc.memory.unwrap_or(0) != 0),
        (&IP113, "CPU", &p.cpu, false),
        (&IP114, "PIDs", &p.pids, hc.pids_limit.unwrap_or(0) > 0),
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

/// The engine socket a bind mount exposes, matched by identity (device and inode)
/// and real path, whatever the mount's names: the socket itself, or a directory that
/// holds it. Falls back to the name `docker.sock` when the source cannot be examined.
fn engine_socket_in(snap: &Snapshot, src: &str, dst: &str) -> Option<(String, String)> {
    if let Some(id) = snap.mount_sources.get(src) {
        for s in &snap.engine_sockets {
            if id.dev == s.id.dev && id.ino == s.id.ino {
                return Some((
                    format!("the {} ({})", s.what, s.path),
                    format!(
                        "{src} is {} (device {}, inode {})",
                        s.id.real, s.id.dev, s.id.ino
                    ),
                ));
            }
            let dir = id.real.trim_end_matches('/');
            if id.is_dir && !dir.is_empty() && s.id.real.starts_with(&format!("{dir}/")) {
                return Some((
                    format!("the {} ({})", s.what, s.path),
                    format!("{src} is the directory {} holding {}", id.real, s.id.real),
                ));
            }
            if id.is_dir && dir.is_empty() {
                return Some((
                    format!("the {} ({})", s.what, s.path),
                    format!("{src} is the host's root, holding {}", s.id.real),
                ));
            }
        }
        return None;
    }
    let name_is_sock = |p: &str| Path::new(p).file_name().is_some_and(|n| n == "docker.sock");
    (name_is_sock(src) || name_is_sock(dst)).then(|| {
        (
            "the Docker socket".to_string(),
            format!("{src} is named docker.sock (not examined on this host)"),
        )
    })
}

/// `--userns=host` asked for explicitly (else a shared user namespace is the daemon's
/// default: no remapping).
fn explicit_host_userns(c: &ContainerInspectResponse) -> bool {
    c.host_config
        .as_ref()
        .and_then(|h| h.userns_mode.as_deref())
        == Some("host")
}

/// The daemon's default cgroup namespace mode: `default-cgroupns-mode`, else `host` on
/// cgroup v1 and `private` on v2 (Docker's defaults).
fn daemon_cgroupns_default(snap: &Snapshot) -> String {
    if let Some(s) = snap
        .daemon
        .setting(&["--default-cgroupns-mode"], "default-cgroupns-mode")
        .pop()
    {
        return s.value;
    }
    match snap.info.cgroup_version.as_ref().map(|v| v.to_string()) {
        Some(v) if v == "2" => "private".into(),
        _ => "host".into(),
    }
}

/// `--cgroupns host` asked for where the daemon's default is private.
fn explicit_host_cgroupns(snap: &Snapshot, c: &ContainerInspectResponse) -> bool {
    let mode = c
        .host_config
        .as_ref()
        .and_then(|h| h.cgroupns_mode.as_ref())
        .map(|m| m.to_string());
    mode.as_deref() == Some("host") && daemon_cgroupns_default(snap) != "host"
}

/// CIS 5.19, reported once: the containers to which no ulimit applies (no `--ulimit`
/// and no daemon-wide `default-ulimits`). With daemon defaults nothing is reported: a
/// container need not override them.
pub(crate) fn daemon_wide_ulimits(snap: &Snapshot, out: &mut Sink) {
    let daemon_ulimits = snap
        .daemon
        .setting(&["--default-ulimit"], "default-ulimits")
        .iter()
        .any(|s| s.value != "{}");
    if daemon_ulimits {
        return;
    }
    let bare: Vec<String> = snap
        .containers
        .iter()
        .filter(|c| {
            c.host_config
                .as_ref()
                .and_then(|h| h.ulimits.as_ref())
                .is_none_or(|u| u.is_empty())
        })
        .map(|c| container_object(c).label())
        .collect();
    if !bare.is_empty() {
        out.push(AuditFinding::new(
            &CC129,
            AuditObject::daemon(),
            format!(
                "no ulimit applies to {} container(s): no --ulimit and no daemon default-ulimits",
                bare.len()
            ),
            bare,
        ));
    }
}

/// Daemon-wide isolation facts, reported once: the running containers that share the
/// host's user namespace for want of remapping (IP120) and the host's cgroup namespace
/// by the daemon's default (IP121).
pub(crate) fn daemon_wide_proof(snap: &Snapshot, out: &mut Sink) {
    let mut user = Vec::new();
    let mut cgroup = Vec::new();
    for c in &snap.containers {
        let Some(p) = c.id.as_deref().and_then(|id| snap.proofs.get(id)) else {
            continue;
        };
        let shared = |k: &str| p.namespaces.get(k).is_some_and(|n| n.shared);
        let label = container_object(c).label();
        if shared("user") && !explicit_host_userns(c) {
            user.push(label.clone());
        }
        if shared("cgroup") && !explicit_host_cgroupns(snap, c) {
            cgroup.push(label);
        }
    }
    if !user.is_empty() {
        out.push(AuditFinding::new(
            &IP120,
            AuditObject::daemon(),
            format!(
                "{} running container(s) share the host's user namespace: the daemon does not remap users",
                user.len()
            ),
            user,
        ));
    }
    if !cgroup.is_empty() {
        out.push(AuditFinding::new(
            &IP121,
            AuditObject::daemon(),
            format!(
                "{} running container(s) share the host's cgroup namespace: the daemon's default cgroupns mode is {}",
                cgroup.len(),
                daemon_cgroupns_default(snap)
            ),
            cgroup,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_sources() {
        for rw in [true, false] {
            assert!(is_sensitive_source("/", rw));
            assert!(is_sensitive_source("/etc", rw));
            assert!(is_sensitive_source("/proc/", rw));
            assert!(!is_sensitive_source("/etcetera", rw));
            assert!(!is_sensitive_source("/srv/data", rw));
        }
        assert!(is_sensitive_source("/etc/ssl/", true));
        assert!(!is_sensitive_source("/etc/ssl/", false));
        assert!(!is_sensitive_source("/etc/localtime", false));
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
