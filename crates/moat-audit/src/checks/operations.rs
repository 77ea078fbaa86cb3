//! Security operations (CIS 6): `DO1xx`; swarm configuration (CIS 7): `SW1xx`.

use super::Sink;
use crate::Snapshot;
use crate::benchmark;
use crate::finding::{AuditFinding, AuditObject};
use crate::rules::*;
use moat_engine::models::LocalNodeState;

/// More stopped containers than this is sprawl (docker-bench-security's threshold).
pub(crate) const MAX_STOPPED: i64 = 25;

pub(crate) fn operations(snap: &Snapshot, out: &mut Sink) {
    let info = &snap.info;
    // 6.1: fewer than half of the images are in use (docker-bench's measure).
    match info.images {
        Some(total) if total > 0 => {
            let used = snap.images.len() as i64;
            if used * 2 < total {
                out.push(AuditFinding::new(
                    &DO101,
                    AuditObject::daemon(),
                    format!("only {used} of {total} images are used by a container"),
                    vec![format!(
                        "/info Images={total}; images of the {} container(s): {used}",
                        snap.containers.len()
                    )],
                ));
            }
        }
        Some(_) => out.context("6.1", "no images"),
        None => out.skip("6.1", "the engine did not report its image count"),
    }
    // 6.2: many stopped containers.
    let total = info.containers.unwrap_or(snap.containers.len() as i64);
    let running = info.containers_running.unwrap_or(0);
    let stopped = total - running;
    if stopped > MAX_STOPPED {
        out.push(AuditFinding::new(
            &DO102,
            AuditObject::daemon(),
            format!("{stopped} of {total} containers are not running (more than {MAX_STOPPED})"),
            vec![format!(
                "/info Containers={total}, ContainersRunning={running}"
            )],
        ));
    } else {
        out.context("6.2", format!("{total} container(s), {running} running"));
    }
}

pub(crate) fn swarm(snap: &Snapshot, out: &mut Sink) {
    let sw = snap.info.swarm.as_ref();
    let active = sw
        .and_then(|s| s.local_node_state)
        .is_some_and(|s| s == LocalNodeState::ACTIVE);
    // 7.3 holds whatever the swarm state: overlay networks the engine knows.
    let mut overlay = false;
    for n in &snap.networks {
        if n.driver.as_deref() != Some("overlay") {
            continue;
        }
        overlay = true;
        let name = n.name.clone().unwrap_or_default();
        let encrypted = n
            .options
            .as_ref()
            .is_some_and(|o| o.contains_key("encrypted"));
        // The ingress network (the routing mesh of published ports) counts too, as in the
        // benchmark's audit command: it can be recreated with `--ingress --opt encrypted`.
        if !encrypted {
            let what = if n.ingress == Some(true) {
                format!("the ingress network {name} (routing mesh) is not encrypted")
            } else {
                format!("overlay network {name} is not encrypted")
            };
            out.push(AuditFinding::new(
                &SW103,
                AuditObject::host(format!("network {name}")),
                what,
                vec![format!("network {name} Options={:?}", n.options)],
            ));
        }
    }
    if !active {
        for i in benchmark::ITEMS.iter().filter(|i| i.section() == "7") {
            if i.number != "7.3" || !overlay {
                out.context(i.number, "swarm mode not enabled");
            }
        }
        return;
    }
    let Some(sw) = sw else { return };
    let manager = sw.control_available == Some(true);
    // 7.1: managers.
    if let Some(m) = sw.managers
        && (m > 7 || (m > 1 && m % 2 == 0))
    {
        out.push(AuditFinding::new(
            &SW101,
            AuditObject::daemon(),
            format!("the swarm has {m} managers (want an odd number, at most 7)"),
            vec![format!("/info Swarm.Managers={m}")],
        ));
    }
    // 7.2: the management port on every interface.
    match snap.swarm_port_on_all_interfaces {
        Some(true) => out.push(AuditFinding::new(
            &SW102,
            AuditObject::daemon(),
            "the swarm management port 2377 listens on every interface".to_string(),
            vec![format!(
                "/proc/net/tcp*: 2377 bound to 0.0.0.0 or [::] (node address {})",
                sw.node_addr.clone().unwrap_or_default()
            )],
        )),
        Some(false) => {}
        None => out.skip("7.2", "the host's TCP table could not be read"),
    }
    // 7.5: auto-lock (the cluster spec is visible on managers only).
    if manager {
        let autolock = sw
            .cluster
            .as_ref()
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.encryption_config.as_ref())
            .and_then(|e| e.auto_lock_managers);
        if autolock != Some(true) {
            out.push(AuditFinding::new(
                &SW104,
                AuditObject::daemon(),
                "the swarm manager is not auto-locked".to_string(),
                vec![format!(
                    "/info Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers={}",
                    autolock.unwrap_or(false)
                )],
            ));
        }
    } else {
        out.skip("7.5", "this node is not a swarm manager");
    }
    if let Some(expiry) = sw
        .cluster
        .as_ref()
        .and_then(|c| c.spec.as_ref())
        .and_then(|s| s.ca_config.as_ref())
        .and_then(|c| c.node_cert_expiry)
    {
        let hours = expiry / 3_600_000_000_000;
        out.context("7.7", format!("node certificates expire after {hours} h"));
    }
}
