//! What a compose service and a live container have in common: the runtime
//! configuration that least-privilege rules judge. Compose lint (`DC` rules) and the
//! live audit (`CC` rules) both map their input to a [`ContainerSpec`], so a property
//! checked in both places has one implementation.
//!
//! Every property remembers where it was written ([`Pos`]: a compose file's line and
//! column) or has no position (a live container's inspect data).

use serde::{Deserialize, Serialize};

/// Where a property is written: the value's line and column, and the line of its key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub key_line: u32,
}

/// A value and where it was written (`None` for a live container).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct At<T> {
    pub value: T,
    pub pos: Option<Pos>,
}

impl<T> At<T> {
    /// A value without a position (a live container's).
    pub fn live(value: T) -> At<T> {
        At { value, pos: None }
    }
}

/// The namespaces a container can share with the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Pid,
    Network,
    Ipc,
    Uts,
    User,
}

impl Namespace {
    pub const ALL: [Namespace; 5] = [
        Namespace::Pid,
        Namespace::Network,
        Namespace::Ipc,
        Namespace::Uts,
        Namespace::User,
    ];
}

/// Resource limits; `None` when none is set (a live container's `0` is none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub memory: Option<At<String>>,
    pub cpu: Option<At<String>>,
    pub pids: Option<At<String>>,
}

/// A mount of a host path or volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Host path (bind) or volume name; empty when unknown.
    pub source: String,
    pub target: String,
    /// `bind`, `volume`, `tmpfs`, … (`bind` when a compose short form names a path).
    pub kind: String,
    pub read_only: bool,
    pub propagation: Option<String>,
    pub pos: Option<Pos>,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    /// Host address; empty for all interfaces.
    pub host_ip: String,
    pub host_port: String,
    /// `80/tcp`.
    pub container_port: String,
    pub pos: Option<Pos>,
}

/// A restart policy (`always`, `unless-stopped`, `on-failure`, `no`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    pub name: String,
    pub max_retries: i64,
}

/// The runtime configuration of one container or compose service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Service or container name.
    pub name: String,
    /// Where the service is defined (its key).
    pub pos: Option<Pos>,
    pub image: Option<At<String>>,
    /// `None` when not set (the image's user applies).
    pub user: Option<At<String>>,
    pub privileged: Option<At<bool>>,
    pub cap_add: Vec<At<String>>,
    pub cap_drop: Vec<At<String>>,
    /// `host` (or another mode) per namespace, as written.
    pub namespaces: Vec<(Namespace, At<String>)>,
    pub mounts: Vec<Mount>,
    pub read_only_rootfs: Option<At<bool>>,
    /// `security_opt` entries as written (`no-new-privileges:true`, `seccomp=unconfined`).
    pub security_opt: Vec<At<String>>,
    pub ports: Vec<PortBinding>,
    pub limits: Limits,
    pub restart: Option<At<RestartPolicy>>,
    /// The health check test; `None` when none is set.
    pub healthcheck: Option<At<Vec<String>>>,
    pub networks: Vec<String>,
    /// Host devices (`/dev/x:/dev/y:rwm`).
    pub devices: Vec<At<String>>,
}

impl ContainerSpec {
    /// The namespaces shared with the host (`host` mode).
    pub fn host_namespaces(&self) -> impl Iterator<Item = (Namespace, &At<String>)> + '_ {
        self.namespaces
            .iter()
            .filter(|(_, v)| v.value == "host")
            .map(|(n, v)| (*n, v))
    }
    /// Is no-new-privileges set through `security_opt` (`no-new-privileges`,
    /// `no-new-privileges:true` or `=true`, any case)?
    pub fn no_new_privileges(&self) -> bool {
        self.security_opt.iter().any(|o| {
            let v = o.value.to_ascii_lowercase().replace('=', ":");
            v == "no-new-privileges" || v == "no-new-privileges:true"
        })
    }
}

/// Is this user root (`root`, `0`, `root:grp`, `0:0`)? A user that is not set is not
/// decided here (the image's user applies).
pub fn is_root_user(user: &str) -> bool {
    let u = user.trim().split(':').next().unwrap_or("");
    u == "root" || u == "0"
}

/// Capabilities whose addition is a container escape or close to it.
pub const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "SYS_BOOT",
    "SYS_TIME",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
];

/// Is this capability (`SYS_ADMIN`, `cap_sys_admin`) escape-grade?
pub fn is_dangerous_cap(cap: &str) -> bool {
    let u = cap.to_ascii_uppercase();
    DANGEROUS_CAPS.contains(&u.trim_start_matches("CAP_"))
}

/// Engine (dockerd) settings that daemon.json lint (`DD0xx`) and the live audit
/// (`DD1xx`, from the command line and daemon.json in force) both judge. `None` when
/// the setting is not given (the engine's default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonSpec {
    pub iptables: Option<At<bool>>,
    pub no_new_privileges: Option<At<bool>>,
    pub userland_proxy: Option<At<bool>>,
}
