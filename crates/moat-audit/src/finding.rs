//! Audit findings: the lint finding shape plus the audited object and the evidence seen.

use moat_model::Severity;
use moat_model::lint::{ConfigFinding, RuleMeta};
use serde::{Deserialize, Serialize};

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
