//! Incident response (`moat respond`): every action taken on a container is one
//! [`ActionRecord`] (who, when, why, the container's state before and after, each step and
//! its result); an isolation keeps what it changed as an [`IsolationRecord`] so that
//! `release` can put it back; an evidence bundle lists its files in a [`BundleManifest`]
//! whose hashes are chained; `moat respond verify` answers with a [`BundleCheck`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the records and manifests below (bumped on an incompatible change).
pub const RESPONSE_SCHEMA: u32 = 1;

/// What was done to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Isolate,
    Release,
    Pause,
    Unpause,
    Stop,
    Kill,
    Snapshot,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Isolate,
        ActionKind::Release,
        ActionKind::Pause,
        ActionKind::Unpause,
        ActionKind::Stop,
        ActionKind::Kill,
        ActionKind::Snapshot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Isolate => "isolate",
            ActionKind::Release => "release",
            ActionKind::Pause => "pause",
            ActionKind::Unpause => "unpause",
            ActionKind::Stop => "stop",
            ActionKind::Kill => "kill",
            ActionKind::Snapshot => "snapshot",
        }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ActionKind {
    type Err = UnknownAction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionKind::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_string()))
    }
}

/// A name that is not an [`ActionKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown response action {0:?} (expected isolate, release, pause, unpause, stop, kill or snapshot)"
)]
pub struct UnknownAction(pub String);

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Done as asked.
    Done,
    /// The container was already in the asked state: nothing changed (see the notes).
    NoOp,
    /// `--dry-run`: the steps are the plan; nothing changed.
    Planned,
    /// A step failed; `error` says which and the notes say the state the container is in.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::NoOp => "no-op",
            Outcome::Planned => "planned",
            Outcome::Failed => "failed",
        }
    }
}

/// Who asked for the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ActionSource {
    /// A person at the command line (`moat respond`).
    #[default]
    Cli,
    /// A monitor rule with an `action:` (`moat monitor --respond`); `alert` is the id of
    /// the alert in the store that triggered it.
    Monitor {
        rule: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alert: Option<String>,
    },
}

/// The container an action is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContainerRef {
    /// The full id (64 hex digits) once resolved; the name as asked before that.
    pub id: String,
    /// The name without the leading `/`.
    pub name: String,
    /// The image reference and its id.
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub image_id: String,
}

/// One network endpoint of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Endpoint {
    pub network_id: String,
    /// Aliases the container answers to on this network (the engine's own short-id
    /// alias left out).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipv4: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipv6: String,
    /// The addresses asked for when the endpoint was made (`--ip`, `--ip6`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipam_ipv4: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ipam_ipv6: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// A published port (`-p HOST_IP:HOST_PORT:PORT/PROTO`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublishedPort {
    /// `80/tcp`.
    pub container_port: String,
    #[serde(default)]
    pub host_ip: String,
    #[serde(default)]
    pub host_port: String,
}

/// What an action may change about a container, read from the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ContainerState {
    /// `running`, `paused`, `exited`, `created`, `restarting`, `dead`.
    pub status: String,
    /// `HostConfig.NetworkMode`: `bridge`, `host`, `none`, `container:ID`, a network name.
    pub network_mode: String,
    /// Network name → endpoint.
    #[serde(default)]
    pub networks: BTreeMap<String, Endpoint>,
    #[serde(default)]
    pub ports: Vec<PublishedPort>,
    /// The host PID of the container's first process (0 when not running).
    #[serde(default)]
    pub pid: u32,
}

/// One step of an action: what was (or, in a dry run, would be) done, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub description: String,
    /// `ok`, `planned`, `skipped`, `failed: REASON`, `rolled back`.
    pub result: String,
}

/// The evidence an action produced (a snapshot bundle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub path: String,
    /// SHA-256 of the whole bundle file.
    pub sha256: String,
    /// The last link of the manifest's hash chain.
    pub chain_head: String,
    pub files: u64,
    pub bytes: u64,
}

/// One action on one container: the durable record (the action log holds one per line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub schema: u32,
    /// Unique within a host: `rsp-<unix nanos>-<pid>-<n>`.
    pub id: String,
    pub action: ActionKind,
    pub container: ContainerRef,
    /// The user who ran it (`$SUDO_USER`, `$USER`, or `uid N`).
    pub operator: String,
    /// The host moat ran on.
    pub host: String,
    /// The engine acted on (`unix:///run/docker.sock`).
    pub engine: String,
    pub moat_version: String,
    #[serde(default)]
    pub source: ActionSource,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<ContainerState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<ContainerState>,
    pub outcome: Outcome,
    pub steps: Vec<Step>,
    /// Why a no-op, why a pause instead of an isolation, the state after a failure...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceRef>,
}

/// How a container was contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IsolationMode {
    /// Moved from its networks to a quarantine network of its own.
    Network,
    /// Paused: its network cannot be detached (`host`, `container:ID`).
    Paused,
}

/// What `isolate` changed, kept (in the state directory and on the quarantine network's
/// labels) until `release` restores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsolationRecord {
    pub schema: u32,
    pub container: ContainerRef,
    pub mode: IsolationMode,
    /// The quarantine network (empty for a pause).
    #[serde(default)]
    pub quarantine_network: String,
    /// The state before isolation: what release restores.
    pub original: ContainerState,
    /// The action record that isolated it.
    pub action_id: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One file of an evidence bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// `sha256(previous link ‖ path ‖ NUL ‖ sha256 ‖ NUL ‖ size)` in hex.
    pub chain: String,
    /// What the file holds (`inspect`, `diff`, `changed-file`, `logs`...).
    pub kind: String,
}

/// The manifest of an evidence bundle (`manifest.json`, its last member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    pub schema: u32,
    pub container: ContainerRef,
    pub host: String,
    pub engine: String,
    pub operator: String,
    pub moat_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub started: String,
    pub finished: String,
    /// Whether the container was paused while it was read (consistent evidence).
    pub read_paused: bool,
    /// The first link of the chain (`sha256("moat-evidence-v1")`).
    pub chain_seed: String,
    pub chain_head: String,
    pub files: Vec<ManifestEntry>,
    /// What could not be collected, and why.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The answer of `moat respond verify BUNDLE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BundleCheck {
    pub bundle: String,
    pub ok: bool,
    /// Files whose bytes match the manifest.
    pub verified: u64,
    pub bytes: u64,
    /// SHA-256 of the bundle file.
    #[serde(default)]
    pub file_sha256: String,
    /// The SHA-256 the action log recorded for this bundle when it was written, if the
    /// log was found (a mismatch is a problem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_sha256: Option<String>,
    /// The SHA-256 in the `BUNDLE.sha256` file written beside it, if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<BundleManifest>,
    /// Every difference found (changed, added, removed files; a broken chain; a damaged
    /// archive).
    #[serde(default)]
    pub problems: Vec<String>,
}

/// The result of one `moat respond` run: one record per container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RespondReport {
    pub actions: Vec<ActionRecord>,
    /// Where the records were logged.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log: String,
}

impl RespondReport {
    /// No action failed.
    pub fn ok(&self) -> bool {
        self.actions.iter().all(|a| a.outcome != Outcome::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        for a in ActionKind::ALL {
            assert_eq!(a.as_str().parse::<ActionKind>(), Ok(a));
            assert_eq!(
                serde_json::to_string(&a).ok(),
                Some(format!("\"{}\"", a.as_str()))
            );
        }
        assert!("reboot".parse::<ActionKind>().is_err());
    }

    #[test]
    fn source_is_tagged() {
        let s = ActionSource::Monitor {
            rule: "shell-spawned".into(),
            alert: None,
        };
        let j = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(j, r#"{"kind":"monitor","rule":"shell-spawned"}"#);
    }
}
