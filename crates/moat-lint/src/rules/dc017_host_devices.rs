//! DC017 — host devices passed into the container.
//!
//! **What it does:** reports `devices` entries (short `/dev/x:/dev/y` or long syntax)
//! and `device_cgroup_rules`, and marks raw-memory and disk devices as worse.
//!
//! **Why is this bad?** a device node gives direct access to host hardware: a block
//! device is the host's disk, `/dev/mem` is its memory.
//!
//! **Example:** `devices: ["/dev/sda:/dev/sda"]`
//!
//! **Use instead:** pass only the device the service needs, read-only where possible
//! (`/dev/ttyUSB0:/dev/ttyUSB0:r`).
//!
//! **References:** CIS Docker 5.18.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC017",
    title: "Host device exposed to the container",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CIS-5.18"],
    aliases: &[],
};

/// The shared check (compose DC017, live audit CC122): host devices given to the
/// container, each with its host path.
pub fn check(spec: &ContainerSpec) -> impl Iterator<Item = (&At<String>, &str)> {
    spec.devices.iter().map(|d| (d, d.value.split(':').next().unwrap_or("")))
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for (s, spec) in c.services.iter().zip(c.specs()) {
            for (d, src) in check(spec) {
                let worse = ["/dev/mem", "/dev/kmem", "/dev/port", "/dev/sd", "/dev/nvme", "/dev/xvd", "/dev/vd", "/dev/dm-"]
                    .iter()
                    .any(|p| src.starts_with(p));
                let what = if worse { "raw host memory or disk" } else { "a host device" };
                let (l, col) = d.pos.map(|p| (p.line, p.column)).unwrap_or_default();
                out.report(l, col, format!("service {} gets {src}: {what}", s.name));
            }
            if let Some(n) = s.get("device_cgroup_rules") {
                out.report(n.line, n.column, format!("service {} sets device_cgroup_rules", s.name));
            }
        }
    }
}
