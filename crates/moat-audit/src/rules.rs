//! The audit rules: one static registry, stable codes. Each rule names the CIS Docker
//! Benchmark v1.6.0 items it checks as `(number, title)` pairs; a test checks every pair
//! against [`crate::benchmark::ITEMS`] (so a number off by one is caught by its title),
//! and the rule's references (`CIS-Docker-1.6.0-N`) and docker-bench aliases
//! (`docker-bench-N`) are built from those numbers, never typed twice.
//!
//! Codes: `DD1xx` daemon (CIS 2, 5.1), `DH1xx` host files and environment (CIS 1, 3,
//! 4.5), `CC1xx` container configuration (CIS 4, 5), `IC1xx` images in use (CIS 4),
//! `DO1xx` security operations (CIS 6), `SW1xx` swarm (CIS 7), `DV1xx` patch level
//! (CIS 1.2.2), and `IP1xx` the isolation proof (the kernel's view of running
//! containers: not benchmark items, so no CIS number; their former codes CC151–CC165
//! are kept as aliases). The `1xx` range keeps clear of the lint rules' codes.

use moat_model::Severity;
use moat_model::lint::{RuleMeta, RuleTarget};

/// An audit rule: its metadata and the benchmark items it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRule {
    pub meta: RuleMeta,
    /// `(CIS v1.6.0 number, its title)` of each item the rule checks.
    pub cis: &'static [(&'static str, &'static str)],
}

impl std::ops::Deref for AuditRule {
    type Target = RuleMeta;
    fn deref(&self) -> &RuleMeta {
        &self.meta
    }
}

macro_rules! rule {
    ($(#[$doc:meta])* $name:ident, $code:literal, $sev:ident, $target:ident, $title:literal,
     cis [$(($n:literal, $t:literal)),*], aliases [$($a:literal),*]) => {
        $(#[$doc])*
        pub const $name: AuditRule = AuditRule {
            meta: RuleMeta {
                code: $code,
                title: $title,
                severity: Severity::$sev,
                target: RuleTarget::$target,
                references: &[$(concat!("CIS-Docker-1.6.0-", $n)),*],
                aliases: &[$(concat!("docker-bench-", $n),)* $($a),*],
            },
            cis: &[$(($n, $t)),*],
        };
    };
}

macro_rules! registry {
    ($($name:ident),* $(,)?) => {
        /// Every audit rule with its benchmark items, in code order.
        pub static AUDIT_RULES: &[AuditRule] = &[$($name),*];
        /// Every audit rule's metadata, in code order (for `moat rules` and SARIF).
        pub static RULES: &[RuleMeta] = &[$($name.meta),*];
    };
}

// ---- daemon (CIS 2, 5.1) ----
rule!(
    /// Containers on the default bridge can talk to each other freely (`icc` not false).
    DD101, "DD101", Medium, Daemon, "inter-container communication on the default bridge is not restricted",
    cis [("2.2", "Ensure network traffic is restricted between containers on the default bridge")],
    aliases []);
rule!(
    /// The daemon logs at another level than `info`: debug leaks secrets and floods the
    /// log, warn/error/fatal lose the events an investigation needs.
    DD102, "DD102", Low, Daemon, "daemon log level is not info",
    cis [("2.3", "Ensure the logging level is set to 'info'")],
    aliases []);
rule!(
    /// `--iptables=false`: Docker cannot set up the firewall rules containers rely on.
    DD103, "DD103", Low, Daemon, "Docker is not allowed to manage iptables",
    cis [("2.4", "Ensure Docker is allowed to make changes to iptables")],
    aliases []);
rule!(
    /// Registries reached without TLS verification (`insecure-registries`).
    DD104, "DD104", High, Daemon, "insecure registries are configured",
    cis [("2.5", "Ensure insecure registries are not used")],
    aliases []);
rule!(
    /// The aufs storage driver is deprecated and has had kernel bugs.
    DD105, "DD105", Medium, Daemon, "aufs storage driver is used",
    cis [("2.6", "Ensure aufs storage driver is not used")],
    aliases []);
rule!(
    /// The daemon listens on TCP without TLS client verification: anyone who reaches the port is root on the host.
    DD106, "DD106", Critical, Daemon, "daemon listens on TCP without TLS verification",
    cis [("2.7", "Ensure TLS authentication for Docker daemon is configured")],
    aliases []);
rule!(
    /// No daemon-wide default ulimits.
    DD107, "DD107", Low, Daemon, "no default ulimits are configured",
    cis [("2.8", "Ensure the default ulimit is configured appropriately")],
    aliases []);
rule!(
    /// Without user-namespace remapping, root in a container is root on the host.
    DD108, "DD108", Medium, Daemon, "user namespace remapping is not enabled",
    cis [("2.9", "Enable user namespace support")],
    aliases []);
rule!(
    /// A non-default `cgroup-parent`: confirm the resource accounting it implies.
    DD109, "DD109", Low, Daemon, "default cgroup parent is changed",
    cis [("2.10", "Ensure the default cgroup usage has been confirmed")],
    aliases []);
rule!(
    /// No authorization plugin: every client of the socket can do everything.
    DD110, "DD110", Low, Daemon, "no authorization plugin is configured",
    cis [("2.12", "Ensure that authorization for Docker client commands is enabled")],
    aliases []);
rule!(
    /// Container logs stay on the host (`json-file`/`local`): no centralized, remote logging.
    DD111, "DD111", Low, Daemon, "no centralized and remote logging",
    cis [("2.13", "Ensure centralized and remote logging is configured")],
    aliases []);
rule!(
    /// Containers may gain privileges through setuid binaries unless each one opts out.
    DD112, "DD112", Medium, Daemon, "no-new-privileges is not the daemon default",
    cis [("2.14", "Ensure containers are restricted from acquiring new privileges")],
    aliases []);
rule!(
    /// Without live restore, restarting the daemon stops every container.
    DD113, "DD113", Low, Daemon, "live restore is not enabled",
    cis [("2.15", "Ensure live restore is enabled")],
    aliases []);
rule!(
    /// The userland proxy is an extra, exposed process per published port.
    DD114, "DD114", Low, Daemon, "userland proxy is enabled",
    cis [("2.16", "Ensure Userland Proxy is Disabled")],
    aliases []);
rule!(
    /// The daemon applies no seccomp profile by default (or an unconfined one).
    DD115, "DD115", High, Daemon, "no daemon-wide seccomp profile",
    cis [("2.17", "Ensure that a daemon-wide custom seccomp profile is applied if appropriate")],
    aliases []);
rule!(
    /// Experimental features are enabled on the daemon.
    DD116, "DD116", Low, Daemon, "experimental features are enabled",
    cis [("2.18", "Ensure that experimental features are not implemented in production")],
    aliases []);
rule!(
    /// Swarm mode opens management ports; disable it where it is not used.
    DD117, "DD117", Low, Daemon, "swarm mode is enabled",
    cis [("5.1", "Ensure swarm mode is not Enabled, if not needed")],
    aliases []);
rule!(
    /// The devicemapper storage driver is deprecated (removed in Docker 25). Not a CIS v1.6.0 item.
    DD118, "DD118", Medium, Daemon, "devicemapper storage driver is used",
    cis [],
    aliases []);
rule!(
    /// `--storage-opt dm.basesize`: the base device size of devicemapper is changed.
    DD119, "DD119", Low, Daemon, "base device size is changed",
    cis [("2.11", "Ensure base device size is not changed until needed")],
    aliases []);
rule!(
    /// `DOCKER_CONTENT_TRUST` is not `1` in the audited environment: pulls and runs accept unsigned images.
    DD120, "DD120", Low, Host, "content trust is not enabled",
    cis [("4.5", "Ensure Content trust for Docker is Enabled")],
    aliases []);

// ---- host files and environment (CIS 1, 3, 4.5) ----
rule!(
    /// The Docker socket should be owned by root:docker.
    DH101, "DH101", Medium, Host, "Docker socket ownership is not root:docker",
    cis [("3.15", "Ensure that the Docker socket file ownership is set to root:docker")],
    aliases []);
rule!(
    /// The Docker socket should be mode 660 or stricter: write access to it is root on the host.
    DH102, "DH102", High, Host, "Docker socket permissions are looser than 660",
    cis [("3.16", "Ensure that the Docker socket file permissions are set to 660 or more restrictively")],
    aliases []);
rule!(
    /// daemon.json should be owned by root:root.
    DH103, "DH103", Medium, Host, "daemon.json ownership is not root:root",
    cis [("3.17", "Ensure that the daemon.json file ownership is set to root:root")],
    aliases []);
rule!(
    /// daemon.json should be mode 644 or stricter.
    DH104, "DH104", Medium, Host, "daemon.json permissions are looser than 644",
    cis [("3.18", "Ensure that daemon.json file permissions are set to 644 or more restrictive")],
    aliases []);
rule!(
    /// Every member of the docker group controls the daemon, i.e. is root on the host.
    DH105, "DH105", Medium, Host, "users in the docker group control the daemon",
    cis [("1.1.2", "Ensure only trusted users are allowed to control Docker daemon")],
    aliases []);
rule!(
    /// Docker's unit files, configuration directory, defaults files, TLS material and the
    /// containerd socket should belong to root:root.
    DH106, "DH106", Medium, Host, "Docker file ownership is not root:root",
    cis [("3.1", "Ensure that the docker.service file ownership is set to root:root"), ("3.3", "Ensure that docker.socket file ownership is set to root:root"), ("3.5", "Ensure that the /etc/docker directory ownership is set to root:root"), ("3.7", "Ensure that registry certificate file ownership is set to root:root"), ("3.9", "Ensure that TLS CA certificate file ownership is set to root:root"), ("3.11", "Ensure that Docker server certificate file ownership is set to root:root"), ("3.13", "Ensure that the Docker server certificate key file ownership is set to root:root"), ("3.19", "Ensure that the /etc/default/docker file ownership is set to root:root"), ("3.22", "Ensure that the /etc/sysconfig/docker file ownership is set to root:root"), ("3.23", "Ensure that the Containerd socket file ownership is set to root:root")],
    aliases []);
rule!(
    /// The same files should be no more permissive than the benchmark allows (644 for
    /// unit and defaults files, 755 for /etc/docker, 444 for certificates, 400 for the
    /// TLS key, 660 for the containerd socket).
    DH107, "DH107", Medium, Host, "Docker file permissions are too loose",
    cis [("3.2", "Ensure that docker.service file permissions are appropriately set"), ("3.4", "Ensure that docker.socket file permissions are set to 644 or more restrictive"), ("3.6", "Ensure that /etc/docker directory permissions are set to 755 or more restrictively"), ("3.8", "Ensure that registry certificate file permissions are set to 444 or more restrictively"), ("3.10", "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively"), ("3.12", "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively"), ("3.14", "Ensure that the Docker server certificate key file permissions are set to 400"), ("3.20", "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively"), ("3.21", "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively"), ("3.24", "Ensure that the Containerd socket file permissions are set to 660 or more restrictively")],
    aliases []);
rule!(
    /// A Docker binary, file or directory the benchmark names has no auditd rule (loaded
    /// rules from `auditctl -l`, else /etc/audit/audit.rules and /etc/audit/rules.d).
    DH108, "DH108", Low, Host, "no audit rule watches a Docker file",
    cis [("1.1.3", "Ensure auditing is configured for the Docker daemon"), ("1.1.4", "Ensure auditing is configured for Docker files and directories - /run/containerd"), ("1.1.5", "Ensure auditing is configured for Docker files and directories - /var/lib/docker"), ("1.1.6", "Ensure auditing is configured for Docker files and directories - /etc/docker"), ("1.1.7", "Ensure auditing is configured for Docker files and directories - docker.service"), ("1.1.8", "Ensure auditing is configured for Docker files and directories - containerd.sock"), ("1.1.9", "Ensure auditing is configured for Docker files and directories - docker.socket"), ("1.1.10", "Ensure auditing is configured for Docker files and directories - /etc/default/docker"), ("1.1.11", "Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json"), ("1.1.12", "Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml"), ("1.1.13", "Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker"), ("1.1.14", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd"), ("1.1.15", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim"), ("1.1.16", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1"), ("1.1.17", "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2"), ("1.1.18", "Ensure auditing is configured for Docker files and directories - /usr/bin/runc")],
    aliases []);
rule!(
    /// The daemon's data root shares a filesystem with the rest of the host: a full disk stops both.
    DH109, "DH109", Low, Host, "the data root is not on a separate partition",
    cis [("1.1.1", "Ensure a separate partition for containers has been created")],
    aliases []);

// ---- containers, configuration (CIS 4, 5) ----
rule!(
    /// A privileged container has every capability and every device: it is the host.
    CC101, "CC101", Critical, Container, "container is privileged",
    cis [("5.5", "Ensure that privileged containers are not used")],
    aliases []);
rule!(
    /// Capabilities added beyond Docker's default set.
    CC102, "CC102", High, Container, "container adds Linux capabilities",
    cis [("5.4", "Ensure that Linux kernel capabilities are restricted within containers")],
    aliases []);
rule!(
    /// Sharing the host's PID namespace lets the container see and signal host processes.
    CC103, "CC103", High, Container, "container shares the host's PID namespace",
    cis [("5.16", "Ensure that the host's process namespace is not shared")],
    aliases []);
rule!(
    /// Sharing the host's network namespace exposes host interfaces and local services.
    CC104, "CC104", High, Container, "container shares the host's network namespace",
    cis [("5.10", "Ensure that the host's network namespace is not shared")],
    aliases []);
rule!(
    /// Sharing the host's IPC namespace exposes host shared memory.
    CC105, "CC105", High, Container, "container shares the host's IPC namespace",
    cis [("5.17", "Ensure that the host's IPC namespace is not shared")],
    aliases []);
rule!(
    /// Sharing the host's UTS namespace lets the container change the host name.
    CC106, "CC106", Medium, Container, "container shares the host's UTS namespace",
    cis [("5.21", "Ensure that the host's UTS namespace is not shared")],
    aliases []);
rule!(
    /// `--userns=host` opts out of user-namespace remapping.
    CC107, "CC107", High, Container, "container shares the host's user namespace",
    cis [("5.31", "Ensure that the host's user namespaces are not shared")],
    aliases []);
rule!(
    /// Host system directories (/, /boot, /dev, /etc, /lib, /proc, /sys, /usr) mounted into the container.
    CC108, "CC108", High, Container, "sensitive host directory is mounted",
    cis [("5.6", "Ensure sensitive host system directories are not mounted on containers")],
    aliases []);
rule!(
    /// The Docker socket inside a container is full control of the engine, i.e. of the host.
    CC109, "CC109", Critical, Container, "Docker or containerd socket is mounted into the container",
    cis [("5.32", "Ensure that the Docker socket is not mounted inside any containers")],
    aliases []);
rule!(
    /// Shared mount propagation lets mounts made in the container appear on the host.
    CC110, "CC110", Medium, Container, "mount propagation is shared",
    cis [("5.20", "Ensure mount propagation mode is not set to shared")],
    aliases []);
rule!(
    /// Without a memory limit one container can exhaust the host's memory.
    CC111, "CC111", Medium, Container, "no memory limit",
    cis [("5.11", "Ensure that the memory usage for containers is limited")],
    aliases []);
rule!(
    /// No CPU priority: CPU shares unset (0) or the default 1024, so the container
    /// competes with every other on equal terms (CIS 5.12 asks for shares; a quota or
    /// cpuset limits CPU but sets no priority).
    CC112, "CC112", Low, Container, "no CPU priority (CPU shares)",
    cis [("5.12", "Ensure that CPU priority is set appropriately on containers")],
    aliases []);
rule!(
    /// Without a PIDs limit a fork bomb takes the host down.
    CC113, "CC113", Medium, Container, "no PIDs limit",
    cis [("5.29", "Ensure that the PIDs cgroup limit is used")],
    aliases []);
rule!(
    /// The container's process runs as root.
    CC114, "CC114", Medium, Container, "container runs as root",
    cis [("4.1", "Ensure that a user for the container has been created")],
    aliases []);
rule!(
    /// A writable root filesystem lets an intruder persist and modify binaries.
    CC115, "CC115", Low, Container, "root filesystem is writable",
    cis [("5.13", "Ensure that the container's root filesystem is mounted as read only")],
    aliases []);
rule!(
    /// Without no-new-privileges, setuid binaries can raise privileges inside the container.
    CC116, "CC116", Medium, Container, "no-new-privileges is not set",
    cis [("5.26", "Ensure that the container is restricted from acquiring additional privileges")],
    aliases []);
rule!(
    /// `seccomp=unconfined`: every system call is open to the container.
    CC117, "CC117", High, Container, "seccomp is unconfined",
    cis [("5.22", "Ensure the default seccomp profile is not Disabled")],
    aliases []);
rule!(
    /// AppArmor is available but the container runs unconfined.
    CC118, "CC118", High, Container, "AppArmor is unconfined",
    cis [("5.2", "Ensure that, if applicable, an AppArmor Profile is enabled")],
    aliases []);
rule!(
    /// A published port bound to every interface (0.0.0.0 or ::) instead of a chosen one.
    CC119, "CC119", Medium, Container, "port published on all host interfaces",
    cis [("5.14", "Ensure that incoming container traffic is bound to a specific host interface")],
    aliases []);
rule!(
    /// A host port below 1024 is mapped to the container.
    CC120, "CC120", Low, Container, "privileged host port is mapped",
    cis [("5.8", "Ensure privileged ports are not mapped within containers")],
    aliases []);
rule!(
    /// `always`, `unless-stopped` or unbounded `on-failure` restarts hide crash loops and attacks.
    CC121, "CC121", Low, Container, "restart policy is not on-failure with at most 5 retries",
    cis [("5.15", "Ensure that the 'on-failure' container restart policy is set to '5'")],
    aliases []);
rule!(
    /// Host devices passed into the container.
    CC122, "CC122", High, Container, "host devices are exposed to the container",
    cis [("5.18", "Ensure that host devices are not directly exposed to containers")],
    aliases []);
rule!(
    /// The default bridge (docker0) has no filtering between containers.
    CC123, "CC123", Low, Container, "container uses the default bridge network",
    cis [("5.30", "Ensure that Docker's default bridge 'docker0' is not used")],
    aliases []);
rule!(
    /// Without a health check nobody notices a hung or hijacked service.
    CC124, "CC124", Low, Container, "no health check",
    cis [("5.27", "Ensure that container health is checked at runtime")],
    aliases []);
rule!(
    /// The container runs under a custom cgroup parent: confirm its limits.
    CC125, "CC125", Low, Container, "custom cgroup parent",
    cis [("5.25", "Ensure that cgroup usage is confirmed")],
    aliases []);
rule!(
    /// `--publish-all` publishes every exposed port, wanted or not.
    CC126, "CC126", Low, Container, "all exposed ports are published",
    cis [("5.9", "Ensure that only needed ports are open on the container")],
    aliases []);
rule!(
    /// An SSH daemon inside a container is a second, unmanaged way in.
    CC127, "CC127", Medium, Container, "sshd runs inside the container",
    cis [("5.7", "Ensure sshd is not run within containers")],
    aliases []);
rule!(
    /// `label=disable` on a host where the daemon enforces SELinux.
    CC128, "CC128", High, Container, "SELinux labelling is disabled",
    cis [("5.3", "Ensure that, if applicable, SELinux security options are set")],
    aliases []);
rule!(
    /// Neither daemon-wide default ulimits nor a per-container `--ulimit`: the containers
    /// inherit dockerd's limits. Reported once, on the daemon, listing the containers.
    CC129, "CC129", Low, Daemon, "containers run with no ulimit applied",
    cis [("5.19", "Ensure that the default ulimit is overwritten at runtime if needed")],
    aliases []);
rule!(
    /// `docker exec --privileged` was used on the container: the command ran with every
    /// capability and no confinement. Read from the history `moat monitor` stored.
    CC130, "CC130", High, Container, "docker exec was used with --privileged",
    cis [("5.23", "Ensure that docker exec commands are not used with the privileged option")],
    aliases []);
rule!(
    /// `docker exec --user root` (or uid 0) was used on the container. Read from the
    /// history `moat monitor` stored.
    CC131, "CC131", Medium, Container, "docker exec was used with --user root",
    cis [("5.24", "Ensure that docker exec commands are not used with the user=root option")],
    aliases []);

// ---- images in use (CIS 4) ----
rule!(
    /// The image's configured user is root (or unset).
    IC101, "IC101", Medium, ImageConfig, "image runs as root",
    cis [("4.1", "Ensure that a user for the container has been created")],
    aliases []);
rule!(
    /// The image has no HEALTHCHECK.
    IC102, "IC102", Low, ImageConfig, "image has no HEALTHCHECK",
    cis [("4.6", "Ensure that HEALTHCHECK instructions have been added to container images")],
    aliases []);
rule!(
    /// Files with the setuid or setgid bit in the image's layers.
    IC103, "IC103", Medium, ImageConfig, "image contains setuid or setgid files",
    cis [("4.8", "Ensure setuid and setgid permissions are removed")],
    aliases []);
rule!(
    /// The image was built long ago: it is probably missing security patches.
    IC104, "IC104", Low, ImageConfig, "image is old (not rebuilt with recent patches)",
    cis [("4.4", "Ensure images are scanned and rebuilt to include security patches")],
    aliases []);
rule!(
    /// A history step updates the package index without installing in the same step (`RUN apt-get update`): later steps may use a stale cache.
    IC105, "IC105", Low, ImageConfig, "update instruction used alone in image history",
    cis [("4.7", "Ensure update instructions are not used alone in the Dockerfile")],
    aliases []);
rule!(
    /// `ADD` fetches URLs and unpacks archives; `COPY` does neither. The base image's first step is not counted.
    IC106, "IC106", Low, ImageConfig, "ADD instruction in image history",
    cis [("4.9", "Ensure that COPY is used instead of ADD in Dockerfiles")],
    aliases []);

// ---- security operations (CIS 6) ----
rule!(
    /// Fewer than half of the images on the engine are used by a container (docker-bench's measure).
    DO101, "DO101", Low, Daemon, "image sprawl: most images are not in use",
    cis [("6.1", "Ensure that image sprawl is avoided")],
    aliases []);
rule!(
    /// More than 25 containers are not running (docker-bench's measure).
    DO102, "DO102", Low, Daemon, "container sprawl: many stopped containers",
    cis [("6.2", "Ensure that container sprawl is avoided")],
    aliases []);

// ---- swarm (CIS 7) ----
rule!(
    /// An even number of managers adds no fault tolerance; more than 7 slows the Raft quorum.
    SW101, "SW101", Low, Daemon, "swarm manager count is even or above 7",
    cis [("7.1", "Ensure that the minimum number of manager nodes have been created in a swarm")],
    aliases []);
rule!(
    /// Port 2377 is bound to 0.0.0.0 or [::] instead of a chosen interface.
    SW102, "SW102", Medium, Daemon, "swarm management port listens on every interface",
    cis [("7.2", "Ensure that swarm services are bound to a specific host interface")],
    aliases []);
rule!(
    /// An overlay network without `--opt encrypted`: container traffic between nodes travels in clear.
    SW103, "SW103", Medium, Daemon, "overlay network is not encrypted",
    cis [("7.3", "Ensure that all Docker swarm overlay networks are encrypted")],
    aliases []);
rule!(
    /// Without `--autolock` the swarm's Raft keys sit unencrypted on the manager's disk.
    SW104, "SW104", Medium, Daemon, "swarm manager is not auto-locked",
    cis [("7.5", "Ensure that swarm manager is run in auto-lock mode")],
    aliases []);

// ---- patch level (CIS 1.2.2) ----
rule!(
    /// dockerd, containerd or runc at a version with a known advisory.
    DV101, "DV101", High, Daemon, "engine component has a known vulnerability",
    cis [("1.2.2", "Ensure that the version of Docker is up to date")],
    aliases []);

// ---- isolation proof: the kernel's view (not benchmark items) ----
rule!(
    /// The container's init process is in the host's PID namespace (read from /proc/PID/ns).
    IP101, "IP101", High, Container, "isolation proof: the init process is in the host's PID namespace",
    cis [],
    aliases ["CC151"]);
rule!(
    /// The container's init process is in the host's network namespace.
    IP102, "IP102", High, Container, "isolation proof: the init process is in the host's network namespace",
    cis [],
    aliases ["CC152"]);
rule!(
    /// The container's init process is in the host's mount namespace.
    IP103, "IP103", Critical, Container, "isolation proof: the init process is in the host's mount namespace",
    cis [],
    aliases ["CC153"]);
rule!(
    /// The container's init process is in the host's IPC namespace.
    IP104, "IP104", High, Container, "isolation proof: the init process is in the host's IPC namespace",
    cis [],
    aliases ["CC154"]);
rule!(
    /// The container's init process is in the host's UTS namespace.
    IP105, "IP105", Medium, Container, "isolation proof: the init process is in the host's UTS namespace",
    cis [],
    aliases ["CC155"]);
rule!(
    /// The container's init process is in the host's user namespace: its root is the host's root.
    IP106, "IP106", Medium, Container, "isolation proof: the init process is in the host's user namespace",
    cis [],
    aliases ["CC156"]);
rule!(
    /// The container's init process is in the host's cgroup namespace: it sees the host's cgroup tree.
    IP107, "IP107", Low, Container, "isolation proof: the init process is in the host's cgroup namespace",
    cis [],
    aliases ["CC157"]);
rule!(
    /// The effective capability set (CapEff) holds capabilities outside Docker's default set.
    IP110, "IP110", High, Container, "isolation proof: effective capabilities beyond Docker's default",
    cis [],
    aliases ["CC160"]);
rule!(
    /// The kernel reports no seccomp filter on the container's init process.
    IP111, "IP111", High, Container, "isolation proof: no seccomp filter in force",
    cis [],
    aliases ["CC161"]);
rule!(
    /// The container's memory cgroup has no limit in force.
    IP112, "IP112", Medium, Container, "isolation proof: no memory limit in force",
    cis [],
    aliases ["CC162"]);
rule!(
    /// The container's cpu cgroup has neither a quota nor non-default shares/weight in force.
    IP113, "IP113", Low, Container, "isolation proof: no CPU limit in force",
    cis [],
    aliases ["CC163"]);
rule!(
    /// The container's pids cgroup has no limit in force.
    IP114, "IP114", Medium, Container, "isolation proof: no PIDs limit in force",
    cis [],
    aliases ["CC164"]);
rule!(
    /// The kernel's no_new_privs flag is off for the container's init process.
    IP115, "IP115", Medium, Container, "isolation proof: no_new_privs is off",
    cis [],
    aliases ["CC165"]);
rule!(
    /// Daemon-wide fact, reported once: without user-namespace remapping every running container's
    /// init process is in the host's user namespace (root in a container is root on the host).
    IP120, "IP120", Medium, Daemon, "isolation proof: containers share the host's user namespace",
    cis [],
    aliases ["CC156"]);
rule!(
    /// Daemon-wide fact, reported once: the daemon's default cgroup namespace mode is `host`
    /// (Docker's default on cgroup v1), so running containers see the host's cgroup tree.
    IP121, "IP121", Low, Daemon, "isolation proof: containers share the host's cgroup namespace",
    cis [],
    aliases ["CC157"]);

registry!(
    CC101, CC102, CC103, CC104, CC105, CC106, CC107, CC108, CC109, CC110, CC111, CC112, CC113,
    CC114, CC115, CC116, CC117, CC118, CC119, CC120, CC121, CC122, CC123, CC124, CC125, CC126,
    CC127, CC128, CC129, CC130, CC131, DD101, DD102, DD103, DD104, DD105, DD106, DD107, DD108,
    DD109, DD110, DD111, DD112, DD113, DD114, DD115, DD116, DD117, DD118, DD119, DD120, DH101,
    DH102, DH103, DH104, DH105, DH106, DH107, DH108, DH109, DO101, DO102, DV101, IC101, IC102,
    IC103, IC104, IC105, IC106, IP101, IP102, IP103, IP104, IP105, IP106, IP107, IP110, IP111,
    IP112, IP113, IP114, IP115, IP120, IP121, SW101, SW102, SW103, SW104
);

/// Every audit rule (for `moat rules`).
pub fn rules() -> &'static [RuleMeta] {
    RULES
}

/// The rule with this code.
pub fn rule(code: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.code == code)
}

/// The audit rule (with its benchmark items) with this code.
pub fn audit_rule(code: &str) -> Option<&'static AuditRule> {
    AUDIT_RULES.iter().find(|r| r.meta.code == code)
}

/// The rules that check a benchmark item, in code order.
pub fn rules_for_item(number: &str) -> Vec<&'static AuditRule> {
    AUDIT_RULES
        .iter()
        .filter(|r| r.cis.iter().any(|(n, _)| *n == number))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::{self, ALIAS_PREFIX, REFERENCE_PREFIX};

    #[test]
    fn codes_are_unique_and_sorted() {
        let codes: Vec<_> = RULES.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes must be unique and in order");
        assert_eq!(RULES.len(), AUDIT_RULES.len());
    }

    /// Every rule's CIS numbers and titles are the benchmark's (issue 22: section 2 was
    /// one off from 2.7, /etc/sysconfig/docker's 3.21/3.22 were swapped).
    #[test]
    fn every_cis_number_and_title_is_the_benchmarks() {
        for r in AUDIT_RULES {
            for (n, title) in r.cis {
                let item = benchmark::item(n)
                    .unwrap_or_else(|| panic!("{}: CIS {n} is not a v1.6.0 item", r.code));
                assert_eq!(item.title, *title, "{}: CIS {n}", r.code);
            }
            let refs: Vec<String> = r
                .cis
                .iter()
                .map(|(n, _)| {
                    benchmark::item(n)
                        .map(|i| i.reference())
                        .unwrap_or_default()
                })
                .collect();
            assert_eq!(r.references, refs.as_slice(), "{}", r.code);
            for reference in r.references {
                let n = benchmark::number_of_reference(reference).unwrap_or("");
                assert!(benchmark::item(n).is_some(), "{}: {reference}", r.code);
            }
        }
    }

    /// The docker-bench alias of each rule is built from the item and names the same
    /// item; every docker-bench alias a rule carries is one of its items.
    #[test]
    fn every_docker_bench_alias_names_the_rules_item() {
        for r in AUDIT_RULES {
            for (n, _) in r.cis {
                let item = benchmark::item(n).unwrap_or_else(|| panic!("{n}"));
                let alias = item.docker_bench_alias();
                assert!(
                    r.aliases.contains(&alias.as_str()),
                    "{}: {alias} missing",
                    r.code
                );
            }
            for a in r.aliases.iter().filter(|a| a.starts_with(ALIAS_PREFIX)) {
                let n = &a[ALIAS_PREFIX.len()..];
                assert!(
                    r.cis.iter().any(|(m, _)| *m == n),
                    "{}: alias {a} names another item",
                    r.code
                );
                assert!(
                    benchmark::item(n).is_some(),
                    "{}: alias {a} names no item",
                    r.code
                );
            }
        }
        // --select docker-bench-2.9 means user namespaces (issue 22: it returned ulimits).
        let by_alias = |a: &str| -> Vec<&str> {
            AUDIT_RULES
                .iter()
                .filter(|r| r.aliases.contains(&a))
                .map(|r| r.code)
                .collect()
        };
        assert_eq!(by_alias("docker-bench-2.9"), vec!["DD108"]);
        assert_eq!(by_alias("docker-bench-2.7"), vec!["DD106"]);
        assert_eq!(by_alias("docker-bench-3.21"), vec!["DH107"]);
        assert_eq!(by_alias("docker-bench-3.22"), vec!["DH106"]);
        assert!(by_alias("docker-bench-2.19").is_empty());
    }

    /// Rules without a benchmark item carry no CIS reference at all; the proof rules
    /// are not benchmark items.
    #[test]
    fn proof_rules_have_no_cis_number() {
        for r in AUDIT_RULES {
            if r.code.starts_with("IP") || r.code == "DD118" {
                assert!(r.cis.is_empty() && r.references.is_empty(), "{}", r.code);
            } else {
                assert!(!r.cis.is_empty(), "{} has no benchmark item", r.code);
            }
            assert!(r.references.iter().all(|x| x.starts_with(REFERENCE_PREFIX)));
        }
    }
}
