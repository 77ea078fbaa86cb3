//! A live engine → the model: networks (`GET /networks`), every container
//! (`GET /containers/json?all=true` and each one's inspect: endpoints, addresses,
//! aliases, `NetworkMode`, published and exposed ports, links, mounts, init PID), what
//! each running container listens on (/proc/PID/net), the daemon's isolation settings
//! and the host firewall.

use crate::host::{self, HostOptions};
use crate::{NetsegError, compose, ports};
use moat_engine::Engine;
use moat_engine::models::{ContainerInspectResponse, Network};
use moat_model::network::{
    DaemonNet, Endpoint, ModelSource, NetMode, NetworkInfo, NetworkReport, NodeInfo, Published,
};
use std::collections::BTreeMap;

/// Containers inspected at most.
pub const MAX_CONTAINERS: usize = 2000;
/// Networks read at most.
pub const MAX_NETWORKS: usize = 2000;

/// The host bridge interface of a bridge network.
fn bridge_of(n: &Network) -> Option<String> {
    if n.driver.as_deref() != Some("bridge") {
        return None;
    }
    if let Some(b) = n
        .options
        .as_ref()
        .and_then(|o| o.get("com.docker.network.bridge.name"))
    {
        return Some(b.clone());
    }
    let id = n.id.as_deref()?;
    Some(format!("br-{}", id.get(..12)?))
}

fn network(n: &Network) -> NetworkInfo {
    let name = n.name.clone().unwrap_or_default();
    NetworkInfo {
        default_bridge: name == "bridge",
        key: None,
        driver: n.driver.clone().unwrap_or_default(),
        internal: n.internal.unwrap_or(false),
        subnets: n
            .ipam
            .as_ref()
            .and_then(|i| i.config.as_ref())
            .map(|c| c.iter().filter_map(|x| x.subnet.clone()).collect())
            .unwrap_or_default(),
        icc: n
            .options
            .as_ref()
            .and_then(|o| o.get("com.docker.network.bridge.enable_icc"))
            .map(|v| v == "true"),
        attachable: n.attachable.unwrap_or(false),
        external: false,
        bridge: bridge_of(n),
        gateways: n
            .ipam
            .as_ref()
            .and_then(|i| i.config.as_ref())
            .map(|c| c.iter().filter_map(|x| x.gateway.clone()).collect())
            .unwrap_or_default(),
        name,
    }
}

fn node(
    c: &ContainerInspectResponse,
    names_by_id: &BTreeMap<String, String>,
    local: Option<&HostOptions>,
) -> NodeInfo {
    let name = c
        .name
        .as_deref()
        .unwrap_or("")
        .trim_start_matches('/')
        .to_string();
    let labels: BTreeMap<String, String> = c
        .config
        .as_ref()
        .and_then(|x| x.labels.clone())
        .map(|l| l.into_iter().collect())
        .unwrap_or_default();
    let hc = c.host_config.as_ref();
    let mode_s = hc.and_then(|h| h.network_mode.clone()).unwrap_or_default();
    let mode = match mode_s.as_str() {
        "host" => NetMode::Host,
        "none" => NetMode::None,
        m if m.starts_with("container:") => {
            let id = &m["container:".len()..];
            let target = names_by_id
                .iter()
                .find(|(k, _)| k.starts_with(id) || id.starts_with(k.as_str()))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| id.to_string());
            NetMode::Container(target)
        }
        _ => NetMode::Bridge,
    };
    let endpoints = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|nets| {
            nets.iter()
                .map(|(net, e)| Endpoint {
                    network: net.clone(),
                    ipv4: e.ip_address.clone().filter(|s| !s.is_empty()),
                    ipv6: e.global_ipv6_address.clone().filter(|s| !s.is_empty()),
                    aliases: {
                        let mut a = e.aliases.clone().unwrap_or_default();
                        a.extend(e.dns_names.clone().unwrap_or_default());
                        a.sort();
                        a.dedup();
                        a
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let mut published = Vec::new();
    // What is bound now (NetworkSettings.Ports), else what is asked for (PortBindings).
    let bound = c
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.clone())
        .filter(|p| p.values().any(Option::is_some))
        .or_else(|| hc.and_then(|h| h.port_bindings.clone()));
    for (k, v) in bound.unwrap_or_default() {
        let Ok(cports) = ports::expose(&k) else {
            continue;
        };
        for b in v.unwrap_or_default() {
            for cp in &cports {
                published.push(Published {
                    host_ip: b.host_ip.clone().unwrap_or_default(),
                    host_port: b.host_port.as_deref().and_then(|p| p.parse().ok()),
                    container: *cp,
                });
            }
        }
    }
    // One binding per address family (0.0.0.0 and ::) is one publication.
    published.sort();
    published.dedup_by(|a, b| {
        a.container == b.container
            && a.host_port == b.host_port
            && a.all_interfaces()
            && b.all_interfaces()
    });
    let exposed = c
        .config
        .as_ref()
        .and_then(|x| x.exposed_ports.clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|k| ports::expose(k).ok())
        .flatten()
        .collect();
    let running = c.state.as_ref().and_then(|s| s.running).unwrap_or(false);
    let pid = c
        .state
        .as_ref()
        .and_then(|s| s.pid)
        .filter(|p| *p > 0 && running)
        .and_then(|p| u32::try_from(p).ok());
    let listening = pid.and_then(|p| local.and_then(|o| host::listeners(&o.proc, p)));
    NodeInfo {
        service: labels.get("com.docker.compose.service").cloned(),
        project: labels.get("com.docker.compose.project").cloned(),
        image: c.config.as_ref().and_then(|x| x.image.clone()),
        labels,
        mode,
        endpoints,
        links: hc.and_then(|h| h.links.clone()).unwrap_or_default(),
        published,
        exposed,
        listening,
        docker_socket: c.mounts.as_ref().is_some_and(|m| {
            m.iter().any(|m| {
                m.source.as_deref().is_some_and(compose::is_docker_socket)
                    || m.destination
                        .as_deref()
                        .is_some_and(compose::is_docker_socket)
            })
        }),
        pid,
        running,
        defined_at: None,
        zone: None,
        name,
    }
}

/// Everything the engine and the host say about the deployment (no edges yet).
pub fn collect(engine: &dyn Engine, opts: &HostOptions) -> Result<NetworkReport, NetsegError> {
    let nets = engine.networks()?;
    if nets.len() > MAX_NETWORKS {
        return Err(NetsegError::TooMany {
            what: "networks",
            count: nets.len(),
            limit: MAX_NETWORKS,
        });
    }
    let networks: Vec<NetworkInfo> = nets
        .iter()
        .map(network)
        // The `host` and `none` networks are modes, not networks.
        .filter(|n| !matches!(n.driver.as_str(), "host" | "null"))
        .collect();
    let summaries = engine.containers()?;
    if summaries.len() > MAX_CONTAINERS {
        return Err(NetsegError::TooMany {
            what: "containers",
            count: summaries.len(),
            limit: MAX_CONTAINERS,
        });
    }
    let mut inspected = Vec::new();
    let mut warnings = Vec::new();
    for s in &summaries {
        let Some(id) = s.id.as_deref() else { continue };
        match engine.inspect_container(id) {
            Ok(c) => inspected.push(c),
            // Removed between the list and the inspect: not part of the deployment.
            Err(e) => warnings.push(format!("container {id}: {e}")),
        }
    }
    // The host's /proc and firewall describe the engine only when it runs here.
    let addr = moat_engine::HostAddr::parse(engine.host()).ok();
    let local = match &addr {
        Some(moat_engine::HostAddr::Unix(_)) => true,
        Some(moat_engine::HostAddr::Tcp(a)) | Some(moat_engine::HostAddr::Https(a)) => {
            a.starts_with("127.") || a.starts_with("localhost:") || a.starts_with("[::1]")
        }
        None => false,
    };
    let host_opts = local.then_some(opts);
    let names_by_id: BTreeMap<String, String> = inspected
        .iter()
        .filter_map(|c| {
            Some((
                c.id.clone()?,
                c.name.as_deref()?.trim_start_matches('/').to_string(),
            ))
        })
        .collect();
    let nodes: Vec<NodeInfo> = inspected
        .iter()
        .map(|c| node(c, &names_by_id, host_opts))
        .collect();
    for n in &nodes {
        if n.running && n.listening.is_none() && n.pid.is_some() {
            warnings.push(format!(
                "{}: /proc/{}/net not readable: listening ports unknown",
                n.name,
                n.pid.unwrap_or(0)
            ));
        }
    }
    // The daemon's settings.
    let socket = match &addr {
        Some(moat_engine::HostAddr::Unix(p)) => Some(p.clone()),
        _ => None,
    };
    let s = if local {
        host::daemon_settings(&opts.proc, socket.as_deref())
    } else {
        host::DaemonSettings {
            notes: vec![format!(
                "{} is not on this host: dockerd's settings, the firewall and listening ports are not read",
                engine.host()
            )],
            ..Default::default()
        }
    };
    let mut daemon = DaemonNet {
        iptables: s.iptables,
        icc: s.icc,
        userland_proxy: s.userland_proxy,
        ip_forward: s.ip_forward,
        ip6tables: s.ip6tables,
        ip6_forward: s.ip6_forward,
        bridge_nf_call_iptables: s.bridge_nf_call_iptables,
        sources: s.sources,
        notes: s.notes,
        ..Default::default()
    };
    if let Ok(info) = engine.info() {
        if daemon.ip_forward.is_none() {
            daemon.ip_forward = info.ipv4_forwarding;
            if let Some(v) = info.ipv4_forwarding {
                daemon
                    .sources
                    .push(format!("docker info IPv4Forwarding={v}"));
            }
        }
        // ip6tables' default: on from Docker 27, off before.
        if daemon.ip6tables.is_none()
            && local
            && let Some(v) = info.server_version.as_deref()
        {
            let major: u32 = v
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            daemon.ip6tables = Some(major >= 27 && daemon.iptables != Some(false));
            daemon.sources.push(format!(
                "dockerd --ip6tables not set (default {} for Docker {v})",
                major >= 27
            ));
        }
    }
    if let Some(prog) = opts.iptables_save.as_ref().filter(|_| local) {
        match host::read_firewall(prog, opts.firewall_timeout) {
            Ok(fw) => {
                daemon.firewall_read = true;
                daemon.chains = fw.chains;
                daemon.forward_policy = fw.forward_policy;
                daemon.isolated_bridges = fw.isolated_bridges;
                daemon.isolation_stage1 = fw.isolation_stage1;
                daemon.isolation_stage2 = fw.isolation_stage2;
                daemon.docker_user = crate::firewall::Chain::parse(&fw.docker_user).listing();
                for r in daemon.docker_user.iter().filter(|r| !r.evaluated) {
                    daemon
                        .notes
                        .push(format!("DOCKER-USER rule {} {}", r.text, r.note));
                }
            }
            Err(e) => daemon.notes.push(format!(
                "host firewall not read ({e}): isolation assumed from the settings"
            )),
        }
    }
    if let Some(prog) = opts.ip6tables_save.as_ref().filter(|_| local) {
        match host::read_firewall(prog, opts.firewall_timeout) {
            Ok(fw) => daemon.forward_policy_v6 = fw.forward_policy,
            Err(e) => daemon.notes.push(format!("IPv6 firewall not read ({e})")),
        }
    }
    Ok(NetworkReport {
        source: ModelSource::Engine,
        inputs: vec![engine.host().to_string()],
        daemon,
        networks,
        nodes,
        edges: Vec::new(),
        findings: Vec::new(),
        policy: None,
        probes: None,
        blocked: Vec::new(),
        observed: None,
        warnings,
        summary: Default::default(),
    })
}
