//! The audit's report (`moat audit`): findings on the engine, the host, containers and
//! images, with the object and the evidence seen; the isolation proofs read from the
//! kernel; the engine components and their versions. moat-audit produces it,
//! moat-report renders it.

use crate::Severity;
use crate::lint::{ConfigFinding, RuleMeta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of object a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectKind {
    Daemon,
    Host,
    Container,
    Image,
    Component,
}

/// The audited object: the daemon, a host file, a container, an image, an engine component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AuditObject {
    pub kind: ObjectKind,
    /// Container name (`/web`), host path, image tag or component name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Full container or image id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For a container: the image id it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl AuditObject {
    pub fn daemon() -> AuditObject {
        AuditObject {
            kind: ObjectKind::Daemon,
            name: None,
            id: None,
            image: None,
        }
    }

    pub fn host(path: impl Into<String>) -> AuditObject {
        AuditObject {
            kind: ObjectKind::Host,
            name: Some(path.into()),
            id: None,
            image: None,
        }
    }

    pub fn component(name: impl Into<String>) -> AuditObject {
        AuditObject {
            kind: ObjectKind::Component,
            name: Some(name.into()),
            id: None,
            image: None,
        }
    }

    /// `daemon`, `host`, `container`, `image`, `component`.
    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            ObjectKind::Daemon => "daemon",
            ObjectKind::Host => "host",
            ObjectKind::Container => "container",
            ObjectKind::Image => "image",
            ObjectKind::Component => "component",
        }
    }

    /// The one-line label used as the finding's `path`:
    /// `daemon`, `host:/run/docker.sock`, `container:/web (0123456789ab)`,
    /// `image:sha256:0123456789ab (nginx:1)`, `component:runc`.
    pub fn label(&self) -> String {
        let short = |id: &str| -> String {
            let hex = id.strip_prefix("sha256:").unwrap_or(id);
            hex.chars().take(12).collect()
        };
        match self.kind {
            ObjectKind::Daemon => "daemon".to_string(),
            ObjectKind::Host => format!("host:{}", self.name.as_deref().unwrap_or("")),
            ObjectKind::Component => format!("component:{}", self.name.as_deref().unwrap_or("")),
            ObjectKind::Container => format!(
                "container:{} ({})",
                self.name.as_deref().unwrap_or("?"),
                short(self.id.as_deref().unwrap_or(""))
            ),
            ObjectKind::Image => {
                let id = format!("image:sha256:{}", short(self.id.as_deref().unwrap_or("")));
                match &self.name {
                    Some(n) => format!("{id} ({n})"),
                    None => id,
                }
            }
        }
    }
}

/// One audit finding. Serializes as the lint finding (`path`, `line`, `column`, `rule`,
/// `aliases`, `severity`, `message`) plus `object`, `evidence` and `references`;
/// `path` is the object's label and `line`/`column` are 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFinding {
    #[serde(flatten)]
    pub finding: ConfigFinding,
    pub object: AuditObject,
    /// What was seen, one fact per entry (`HostConfig.Privileged=true`, `/proc/42/status CapEff=...`).
    pub evidence: Vec<String>,
    pub references: Vec<String>,
}

impl AuditFinding {
    pub fn new(
        rule: &RuleMeta,
        object: AuditObject,
        message: impl Into<String>,
        evidence: Vec<String>,
    ) -> AuditFinding {
        AuditFinding {
            finding: rule.finding(&object.label(), 0, 0, message),
            object,
            evidence,
            references: rule.references.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn rule(&self) -> &str {
        &self.finding.rule
    }

    pub fn severity(&self) -> Severity {
        self.finding.severity
    }

    pub fn path(&self) -> &str {
        &self.finding.path
    }

    pub fn message(&self) -> &str {
        &self.finding.message
    }

    /// Deterministic order: object, rule, message.
    pub fn sort_key(&self) -> (&str, &str, &str) {
        (self.path(), self.rule(), self.message())
    }
}

/// One namespace of the container compared with the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsView {
    /// `pid:[4026531836]`
    pub container: String,
    pub host: String,
    /// Where the host's namespace was read (`/proc/1/ns/pid`; dockerd's or moat's own
    /// process when PID 1 cannot be read).
    pub reference: String,
    pub shared: bool,
}

/// A cgroup limit as the kernel has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitView {
    /// The cgroup file(s) read, host paths.
    pub files: Vec<String>,
    /// Their contents, trimmed, in the same order.
    pub values: Vec<String>,
    /// Whether a limit is in force.
    pub limited: bool,
}

impl LimitView {
    pub fn evidence(&self) -> String {
        self.files
            .iter()
            .zip(&self.values)
            .map(|(f, v)| format!("{f}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The kernel's view of one running container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub pid: i64,
    pub namespaces: BTreeMap<String, NsView>,
    /// CapEff from /proc/PID/status, hex as the kernel prints it.
    pub cap_eff: String,
    pub cap_eff_names: Vec<String>,
    /// Capabilities in CapEff outside Docker's default set.
    pub cap_eff_beyond_default: Vec<String>,
    /// 0 disabled, 1 strict, 2 filter.
    pub seccomp: Option<u8>,
    pub no_new_privs: Option<bool>,
    /// 1 or 2: the cgroup version the limits were read from.
    pub cgroup_version: Option<u8>,
    pub memory: Option<LimitView>,
    pub cpu: Option<LimitView>,
    pub pids: Option<LimitView>,
}

/// An installed distribution package that owns a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsPackage {
    /// `dpkg`
    pub manager: String,
    pub name: String,
    pub version: String,
    /// Source package and its version (advisories are filed by source).
    pub source: String,
    pub source_version: String,
    /// OSV ecosystem of the distribution release (`Debian:12`), when known.
    pub ecosystem: Option<String>,
}

/// One engine component's version, from the API and from its binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// `dockerd`, `containerd`, `runc`.
    pub name: String,
    /// The Go module advisories are filed under (`github.com/docker/docker`).
    pub module: String,
    /// Version reported by the Engine API `/version` (`1.1.5+ds1`).
    pub api_version: Option<String>,
    /// Binary examined for Go build info.
    pub binary: Option<String>,
    /// Version found in the binary (module version or `-X ...Version=` ldflag).
    pub binary_version: Option<String>,
    /// Go toolchain that built the binary (`go1.19.8`).
    pub go_version: Option<String>,
    /// Upstream version used for matching (distribution suffixes like `+dfsg1`, `~ds1` removed).
    pub version: Option<String>,
    /// The distribution package that installed the binary, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<OsPackage>,
}

/// The audit's result.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub host: String,
    pub engine_version: Option<String>,
    pub api_version: Option<String>,
    pub containers: usize,
    pub images: usize,
    pub components: Vec<Component>,
    /// Isolation proofs of running containers, by container label.
    pub isolation: BTreeMap<String, Proof>,
    pub findings: Vec<AuditFinding>,
    pub notes: Vec<String>,
}

impl AuditReport {
    /// Findings at or above `severity`.
    pub fn count_at_least(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() >= severity)
            .count()
    }
}
