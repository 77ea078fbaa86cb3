//! DC005 — a sensitive host path is mounted.
//!
//! **What it does:** reports bind mounts of the Docker or containerd socket, `/`,
//! `/proc`, `/sys`, `/etc`, `/boot`, `/dev`, `/root`, `/var/lib/docker`, `/run`,
//! `/var/run` (short `src:dst[:mode]` and long `{type: bind, source}` syntax).
//!
//! **Why is this bad?** the Docker socket is root on the host; the other paths let the
//! container read secrets or change the host (a read-only mount still leaks secrets).
//!
//! **Example:** `volumes: ["/var/run/docker.sock:/var/run/docker.sock"]`
//!
//! **Use instead:** mount only the data directory the service needs; use a socket
//! proxy with an allow-list if the Docker API is really needed.
//!
//! **References:** CIS Docker 5.5, 5.31.
use super::prelude::*;
use crate::compose::{Compose, Node};

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC005",
    title: "Sensitive host path or Docker socket mounted",
    severity: Severity::Critical,
    target: RuleTarget::Compose,
    references: &["CIS-5.5", "CIS-5.31"],
    aliases: &[],
};

/// Why mounting this host path is dangerous, if it is.
pub fn sensitive_source(src: &str) -> Option<&'static str> {
    let p = src.trim_end_matches('/');
    let p = if p.is_empty() && src.starts_with('/') { "/" } else { p };
    if p.ends_with("docker.sock") || p.ends_with("containerd.sock") || p.ends_with("podman.sock") || p.ends_with("crio.sock") {
        return Some("the container engine socket (root on the host)");
    }
    match p {
        "/" => Some("the host root filesystem"),
        "/proc" | "/sys" | "/dev" | "/boot" | "/etc" | "/root" | "/var/lib/docker" | "/run" | "/var/run" | "/lib/modules" | "/usr" | "/bin" | "/sbin" | "/lib" => {
            Some("a host system directory")
        }
        _ if p.starts_with("/proc/")
            || p.starts_with("/sys/")
            || ["/etc/shadow", "/etc/passwd", "/etc/sudoers", "/etc/ssh", "/etc/docker", "/etc/kubernetes", "/etc/ssl/private", "/root/.ssh"]
                .iter()
                .any(|s| p == *s || p.starts_with(&format!("{s}/"))) =>
        {
            Some("a sensitive host path")
        }
        _ => None,
    }
}

fn source(n: &Node) -> Option<String> {
    match n.as_str() {
        Some(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            (parts.len() >= 2).then(|| parts[0].to_string())
        }
        None => {
            let t = n.get("type").and_then(Node::as_str);
            (t.as_deref().is_none_or(|t| t == "bind")).then(|| n.get("source").and_then(Node::as_str)).flatten()
        }
    }
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in &c.services {
            let Some(vols) = s.get("volumes") else { continue };
            for n in vols.seq() {
                let Some(src) = source(n) else { continue };
                if let Some(why) = sensitive_source(&src) {
                    out.report(n.line, n.column, format!("service {} mounts {src}: {why}", s.name));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sources() {
        use super::sensitive_source as s;
        assert!(s("/var/run/docker.sock").is_some() && s("/").is_some() && s("/etc/").is_some() && s("/proc/1/ns").is_some() && s("/etc/ssh/").is_some());
        assert!(s("./data").is_none() && s("/etc/localtime").is_none() && s("/srv/app").is_none() && s("/etc/pihole").is_none());
    }
}
