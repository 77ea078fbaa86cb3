//! IC006 — Sensitive port exposed by the image.
//!
//! **What it does:** reports `ExposedPorts` of SSH, telnet, the Docker API, etcd or the kubelet.
//!
//! **Why is this bad?** remote shells and engine APIs are direct routes into the container or the host.
//!
//! **Example:** an image built without the fix.
//!
//! **Use instead:** do not run those services in an application image.
//!
//! **References:** CWE-284.
use super::prelude::*;
use crate::image_input::ImageInput;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "IC006",
    title: "Sensitive port exposed by the image",
    severity: Severity::High,
    target: RuleTarget::ImageConfig,
    references: &["CWE-284"],
    aliases: &["DS004"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn image(&self, i: &ImageInput<'_>, out: &mut Sink<'_>) {
        for p in &i.meta.config.exposed_ports {
            let Some((a, b)) = super::df024_sensitive_port::port_range(p) else { continue };
            if let Some((port, what)) = [22, 23, 2375, 2376, 2379, 2380, 10250]
                .into_iter()
                .find(|x| (a..=b).contains(x))
                .and_then(|x| super::df024_sensitive_port::sensitive_port(x).map(|w| (x, w)))
            {
                out.report(0, 0, format!("the image exposes port {port} ({what})"));
            }
        }
    }
}
