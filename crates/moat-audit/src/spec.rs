//! The collector's half of the audit split: a live container's inspect data as a
//! [`ContainerSpec`], the model compose lint builds from a service, so that one rule
//! implementation (moat-lint's shared `check` functions) judges both.

use moat_engine::models::ContainerInspectResponse;
use moat_model::DaemonSpec;
use moat_model::container::{
    At, ContainerSpec, Limits, Mount, Namespace, PortBinding, RestartPolicy,
};

fn live(s: Option<&str>) -> Option<At<String>> {
    s.filter(|v| !v.trim().is_empty())
        .map(|v| At::live(v.to_string()))
}

/// The runtime configuration of a live container. Unset values (`0`, empty strings)
/// are `None`, as in a compose service that does not set them.
pub fn container_spec(c: &ContainerInspectResponse) -> ContainerSpec {
    let hc = c.host_config.clone().unwrap_or_default();
    let cfg = c.config.clone().unwrap_or_default();
    let namespaces = [
        (Namespace::Pid, hc.pid_mode.as_deref()),
        (Namespace::Network, hc.network_mode.as_deref()),
        (Namespace::Ipc, hc.ipc_mode.as_deref()),
        (Namespace::Uts, hc.uts_mode.as_deref()),
        (Namespace::User, hc.userns_mode.as_deref()),
    ]
    .into_iter()
    .filter_map(|(ns, v)| Some((ns, live(v)?)))
    .collect();
    let cpu_set = hc.cpu_shares.unwrap_or(0) != 0
        || hc.nano_cpus.unwrap_or(0) != 0
        || hc.cpu_quota.unwrap_or(0) > 0
        || !hc.cpuset_cpus.as_deref().unwrap_or("").is_empty();
    let mut ports = Vec::new();
    for (port, binds) in hc.port_bindings.clone().unwrap_or_default() {
        for b in binds.unwrap_or_default() {
            ports.push(PortBinding {
                host_ip: b.host_ip.unwrap_or_default(),
                host_port: b.host_port.unwrap_or_default(),
                container_port: port.clone(),
                pos: None,
            });
        }
    }
    ports.sort_by(|a, b| {
        (&a.container_port, &a.host_ip, &a.host_port).cmp(&(
            &b.container_port,
            &b.host_ip,
            &b.host_port,
        ))
    });
    let mounts = c
        .mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mount {
            source: m.source.unwrap_or_default(),
            target: m.destination.unwrap_or_default(),
            kind: m
                .typ
                .map(|t| t.to_string())
                .unwrap_or_else(|| "bind".to_string()),
            read_only: !m.rw.unwrap_or(true),
            propagation: m.propagation.filter(|p| !p.is_empty()),
            pos: None,
        })
        .collect();
    let mut networks: Vec<String> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    ContainerSpec {
        name: c.name.clone().unwrap_or_default(),
        pos: None,
        image: live(cfg.image.as_deref()),
        user: live(cfg.user.as_deref()),
        privileged: hc.privileged.map(At::live),
        cap_add: hc
            .cap_add
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(At::live)
            .collect(),
        cap_drop: hc
            .cap_drop
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(At::live)
            .collect(),
        namespaces,
        mounts,
        read_only_rootfs: hc.readonly_rootfs.map(At::live),
        security_opt: hc
            .security_opt
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(At::live)
            .collect(),
        ports,
        limits: Limits {
            memory: hc
                .memory
                .filter(|m| *m != 0)
                .map(|m| At::live(m.to_string())),
            cpu: cpu_set.then(|| At::live("set".to_string())),
            pids: hc
                .pids_limit
                .filter(|p| *p > 0)
                .map(|p| At::live(p.to_string())),
        },
        restart: hc.restart_policy.as_ref().map(|rp| {
            At::live(RestartPolicy {
                name: rp.name.map(|n| n.to_string()).unwrap_or_default(),
                max_retries: rp.maximum_retry_count.unwrap_or(0),
            })
        }),
        healthcheck: cfg
            .healthcheck
            .as_ref()
            .and_then(|h| h.test.clone())
            .map(At::live),
        networks,
        devices: hc
            .devices
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|d| {
                At::live(format!(
                    "{}:{}:{}",
                    d.path_on_host.unwrap_or_default(),
                    d.path_in_container.unwrap_or_default(),
                    d.cgroup_permissions.unwrap_or_default()
                ))
            })
            .collect(),
    }
}

/// The engine settings in force (command line, then daemon.json) as a [`DaemonSpec`],
/// the model daemon.json lint builds too.
pub fn daemon_spec(d: &crate::daemon::DaemonConfig) -> DaemonSpec {
    let b = |flag: &str, key: &str| d.bool_setting(&[flag], key).map(|(v, _)| At::live(v));
    DaemonSpec {
        iptables: b("--iptables", "iptables"),
        no_new_privileges: b("--no-new-privileges", "no-new-privileges"),
        userland_proxy: b("--userland-proxy", "userland-proxy"),
    }
}
