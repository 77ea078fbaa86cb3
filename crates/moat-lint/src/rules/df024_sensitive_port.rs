//! DF024 — a sensitive port is exposed.
//!
//! **What it does:** reports `EXPOSE` of 22 (SSH), 23 (telnet), 2375/2376 (Docker
//! API), 2379/2380 (etcd), 10250 (kubelet).
//!
//! **Why is this bad?** remote shells and engine APIs inside a container are a direct
//! route to the container or the host.
//!
//! **Example:** `EXPOSE 22`
//!
//! **Use instead:** use `docker exec` for access; never expose the Docker API.
//!
//! **References:** CIS Docker 4.1 (least privilege), 5.7, Trivy DS004.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF024",
    title: "Sensitive port exposed (SSH, telnet, Docker API)",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CIS-5.7", "CWE-284"],
    aliases: &["DS004"],
};

/// Ports that should never be published by an application image, with their use.
pub fn sensitive_port(p: u32) -> Option<&'static str> {
    match p {
        22 => Some("SSH"),
        23 => Some("telnet"),
        2375 => Some("the unencrypted Docker API"),
        2376 => Some("the Docker API"),
        2379 | 2380 => Some("etcd"),
        10250 => Some("the kubelet API"),
        _ => None,
    }
}

/// Parse `80`, `80/tcp`, `8000-8010/udp` into a port range.
pub fn port_range(s: &str) -> Option<(u32, u32)> {
    let p = s.split('/').next()?;
    match p.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => p.parse().ok().map(|x| (x, x)),
    }
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("EXPOSE")) {
            let words = match &ins.expanded {
                Some(e) => crate::dockerfile::split_words(e),
                None => ins.words(),
            };
            for w in words {
                let Some((a, b)) = port_range(&w) else { continue };
                if let Some((p, what)) = [22, 23, 2375, 2376, 2379, 2380, 10250]
                    .into_iter()
                    .find(|p| (a..=b).contains(p))
                    .and_then(|p| sensitive_port(p).map(|w| (p, w)))
                {
                    out.at(ins, format!("EXPOSE {w} publishes port {p} ({what})"));
                }
            }
        }
    }
}
