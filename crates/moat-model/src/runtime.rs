//! Runtime events and alerts (`moat monitor`): what the sources saw and what the rules
//! flagged. Every field has a default so rule conditions can read any field of any event.

use crate::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where an event came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum EventSource {
    /// The Docker Engine's event stream.
    #[default]
    Docker,
    /// The kernel's process-events connector.
    Proc,
    /// Sockets sampled from /proc/PID/net in a container's network namespace.
    Net,
    /// Cgroup files (memory.events, memory.oom_control, usage).
    Cgroup,
    /// inotify on a container's writable (overlay upper) layer.
    File,
    /// The monitor itself (dropped events, source errors).
    Monitor,
}

impl EventSource {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Docker => "docker",
            EventSource::Proc => "proc",
            EventSource::Net => "net",
            EventSource::Cgroup => "cgroup",
            EventSource::File => "file",
            EventSource::Monitor => "monitor",
        }
    }
}

/// The container an event concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ContainerInfo {
    /// Full id (64 hex).
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Image as the container was created from (`busybox:latest`).
    pub image: String,
    /// `HostConfig.Privileged`.
    pub privileged: bool,
    /// Host paths mounted into the container (bind mounts and volumes).
    pub mounts: Vec<String>,
    /// Where those mounts appear inside the container, in the same order.
    pub mount_targets: Vec<String>,
    /// Ports the image or container declares (`EXPOSE`), numbers only.
    pub exposed_ports: Vec<u16>,
    /// `start` events of this container in the last 60 s (restart loops).
    pub recent_starts: u32,
    /// Memory limit in bytes (0: none).
    pub memory_limit: u64,
}

/// A process, as read from /proc when the event arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProcessInfo {
    /// PID (host namespace).
    pub pid: i64,
    /// Parent PID (host namespace).
    pub ppid: i64,
    /// PID inside the container's PID namespace (1: the container's init).
    pub vpid: i64,
    /// `comm`, or the executable's file name.
    pub name: String,
    /// The executable's path as the container sees it.
    pub exe: String,
    /// Arguments joined by spaces.
    pub cmdline: String,
    /// Real uid (in the container's user namespace as the kernel reports it to the host).
    pub uid: i64,
    /// Parent's name.
    pub pname: String,
    /// Parent's command line.
    pub pcmdline: String,
    /// Ancestors' names, parent first, up to the container's init (at most 8).
    pub ancestors: Vec<String>,
}

/// A socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NetInfo {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    pub proto: String,
    /// `listen` or `outbound`.
    pub direction: String,
    /// Local address.
    pub sip: String,
    /// Local port.
    pub sport: u16,
    /// Remote address (outbound).
    pub dip: String,
    /// Remote port (outbound).
    pub dport: u16,
}

/// A file written in a container's writable layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FileInfo {
    /// The path inside the container (`/etc/passwd`).
    pub path: String,
    /// `create`, `write`, `rename`, `delete`, `mkdir`.
    pub op: String,
}

/// A Docker Engine event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DockerEventInfo {
    /// `container`, `network`, `image`, `volume`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// `start`, `die`, `exec_create: sh`, `oom`, `connect`, …
    pub action: String,
    /// The actor's id.
    pub actor: String,
    /// The actor's attributes (name, image, exit code, exec command…).
    pub attributes: BTreeMap<String, String>,
    /// The engine's own time, unix nanoseconds.
    pub time_nano: i64,
}

/// Resource use of a container's cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ResourceInfo {
    /// Memory in use, bytes.
    pub memory_bytes: u64,
    /// Memory limit, bytes (0: none).
    pub memory_limit: u64,
    /// OOM kills so far in this cgroup.
    pub oom_kills: u64,
    /// CPU use over the last sample, percent of one core.
    pub cpu_percent: u64,
    /// Processes in the cgroup.
    pub pids: u64,
}

/// One runtime event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RuntimeEvent {
    /// When it happened, unix nanoseconds.
    pub time_ns: i64,
    /// Which source saw it.
    pub source: EventSource,
    /// What happened (`evt.type`): `container_start`, `exec_start`, `execve`, `setuid`,
    /// `listen`, `connect`, `oom_kill`, `memory_high`, `cpu_high`, `file_write`,
    /// `dropped`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The container, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// The process, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessInfo>,
    /// The socket (net events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<NetInfo>,
    /// The file (file events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInfo>,
    /// The engine event (docker events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerEventInfo>,
    /// Resource use (cgroup events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceInfo>,
    /// Events lost (`dropped` events: netlink buffer overruns and the like).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
    /// A human note (source errors, reconnects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// When the event happened, unix nanoseconds.
    pub time_ns: i64,
    /// The rule's name.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's output line, its fields filled in.
    pub output: String,
    /// The container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerInfo>,
    /// The process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessInfo>,
    /// The event that matched, whole.
    pub evidence: RuntimeEvent,
    /// Tags of the rule (MITRE ATT&CK ids and the like).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The response the rule names (`action: isolate`), carried out by
    /// `moat monitor --respond`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<crate::response::ActionKind>,
}

/// One stored record as `moat monitor query` shows it (the store's row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRow {
    /// Position in the store.
    pub seq: i64,
    /// Unix nanoseconds.
    pub time_ns: i64,
    /// `event` or `alert` (or another producer's kind).
    pub kind: String,
    /// Container id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Rule (alerts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Severity (alerts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The record's body: a [`RuntimeEvent`] or an [`Alert`] for the monitor's records.
    pub body: serde_json::Value,
}
