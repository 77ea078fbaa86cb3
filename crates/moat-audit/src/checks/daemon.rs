//! Daemon checks (CIS 2): `DD1xx`.

use super::Sink;
use crate::Snapshot;
use crate::finding::{AuditFinding, AuditObject};
use crate::rules::*;
use moat_engine::{HostAddr, models::LocalNodeState};
use moat_lint::rules::{dd004_no_new_privileges, dd008_userland_proxy, dd009_iptables_disabled};

pub(crate) fn daemon(snap: &Snapshot, out: &mut Sink) {
    let info = &snap.info;
    let d = &snap.daemon;
    // The settings daemon.json lint checks too: one implementation, moat-lint's.
    let spec = crate::spec::daemon_spec(d);
    let obj = AuditObject::daemon;
    if !d.known() {
        for n in ["2.8", "2.10", "2.11", "2.14", "2.16"] {
            out.skip(
                n,
                "dockerd's command line and daemon.json could not be read",
            );
        }
    }
    if !snap
        .networks
        .iter()
        .any(|n| n.name.as_deref() == Some("bridge") && n.driver.as_deref() == Some("bridge"))
    {
        out.context("2.2", "no default bridge network (--bridge=none)");
    }
    let tcp = d
        .setting(&["-H", "--host"], "hosts")
        .iter()
        .any(|s| !s.value.starts_with("unix://") && !s.value.starts_with("fd://"))
        || matches!(
            HostAddr::parse(&snap.host),
            Ok(HostAddr::Tcp(_) | HostAddr::Https(_))
        );
    if !tcp && d.known() {
        out.context("2.7", "the daemon does not listen on TCP");
    }
    // 2.15: dockerd refuses live restore on a swarm node ("--live-restore daemon
    // configuration is incompatible with swarm mode"), so a swarm node passes.
    let swarm_active = info
        .swarm
        .as_ref()
        .and_then(|s| s.local_node_state)
        .is_some_and(|s| s == LocalNodeState::ACTIVE);
    if swarm_active && info.live_restore_enabled != Some(true) {
        out.context(
            "2.15",
            "swarm mode is active: dockerd does not allow live restore with it",
        );
    }
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
    // 2.3 log level: anything but info (debug leaks and floods, the others lose events).
    let level = d.setting(&["-l", "--log-level"], "log-level").pop();
    let debug_flag = d.bool_setting(&["-D", "--debug"], "debug");
    let debug = info.debug == Some(true) || debug_flag.as_ref().is_some_and(|(v, _)| *v);
    let off_level = level.as_ref().filter(|l| l.value != "info");
    if debug || off_level.is_some() {
        let shown = off_level
            .map(|l| l.value.clone())
            .unwrap_or_else(|| "debug".to_string());
        let mut ev = vec![format!("/info Debug={}", info.debug.unwrap_or(false))];
        ev.extend(level.map(|l| l.source));
        ev.extend(debug_flag.map(|(_, s)| s));
        add(
            &DD102,
            format!("the daemon logs at level {shown} (CIS 2.3 asks for info)"),
            ev,
        );
    }
    // 2.4 iptables
    if dd009_iptables_disabled::check(&spec).is_some()
        && let Some((_, src)) = d.bool_setting(&["--iptables"], "iptables")
    {
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
    // 2.6 aufs; devicemapper is deprecated too but no v1.6.0 item.
    if let Some(drv) = info.driver.as_deref() {
        let rule = match drv {
            "aufs" => Some(&DD105),
            "devicemapper" => Some(&DD118),
            _ => None,
        };
        if let Some(rule) = rule {
            add(
                rule,
                format!("storage driver {drv} is deprecated"),
                vec![format!("/info Driver={drv}")],
            );
        }
    }
    // 2.7 TCP without TLS
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
        // 2.8 default ulimits
        if d.setting(&["--default-ulimit"], "default-ulimits")
            .is_empty()
        {
            add(
                &DD107,
                "no daemon-wide default ulimits".into(),
                vec!["no --default-ulimit flag or \"default-ulimits\" key".into()],
            );
        }
        // 2.11 base device size (devicemapper's dm.basesize)
        let basesize: Vec<String> = d
            .setting(&["--storage-opt"], "storage-opts")
            .into_iter()
            .filter(|s| s.value.contains("dm.basesize"))
            .map(|s| s.source)
            .collect();
        if !basesize.is_empty() {
            add(
                &DD119,
                "the base device size is changed (dm.basesize)".into(),
                basesize,
            );
        }
        // 2.10 cgroup parent
        if let Some(s) = d.setting(&["--cgroup-parent"], "cgroup-parent").pop() {
            add(
                &DD109,
                format!("containers are placed under cgroup parent {}", s.value),
                vec![s.source],
            );
        }
        // 2.14 no-new-privileges
        if dd004_no_new_privileges::check(&spec) {
            add(
                &DD112,
                "containers may gain new privileges unless each opts out".into(),
                vec!["no --no-new-privileges flag or \"no-new-privileges\": true".into()],
            );
        }
        // 2.16 userland proxy
        let proxy = d.bool_setting(&["--userland-proxy"], "userland-proxy");
        if dd008_userland_proxy::check(&spec) {
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
    // 2.9 userns
    let secopts = info.security_options.clone().unwrap_or_default();
    if !secopts.iter().any(|o| o.contains("name=userns")) {
        add(
            &DD108,
            "user namespace remapping is off: root in a container is root on the host".into(),
            vec![format!("/info SecurityOptions={secopts:?}")],
        );
    }
    // 2.12 authorization plugin
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
    // 2.13 logging
    if let Some(drv) = info.logging_driver.as_deref()
        && matches!(drv, "json-file" | "local" | "none")
    {
        add(
            &DD111,
            format!("container logs stay on the host (log driver {drv})"),
            vec![format!("/info LoggingDriver={drv}")],
        );
    }
    // 2.15 live restore (a swarm node passes: see above)
    if info.live_restore_enabled != Some(true) && !swarm_active {
        add(
            &DD113,
            "live restore is off: restarting dockerd stops every container".into(),
            vec![format!(
                "/info LiveRestoreEnabled={}",
                info.live_restore_enabled.unwrap_or(false)
            )],
        );
    }
    // 2.17 seccomp
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
    // 2.18 experimental
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
