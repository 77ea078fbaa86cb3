//! The audit rules: one static registry, stable codes, CIS Docker Benchmark v1.6.0
//! numbers in each rule's references.
//!
//! Codes: `DD1xx` daemon (CIS 2), `DH1xx` host files (CIS 1 and 3), `CC1xx` container
//! configuration (CIS 4 and 5), `CC15x`/`CC16x` the isolation proof (the kernel's view of
//! a running container), `IC1xx` images in use (CIS 4), `DV1xx` patch level (CIS 1.2.2).
//! The `1xx` range keeps clear of the lint rules' codes.

use moat_model::Severity;
use moat_model::lint::{RuleMeta, RuleTarget};

macro_rules! rule {
    ($(#[$doc:meta])* $name:ident, $code:literal, $sev:ident, $target:ident, $title:literal, [$($r:literal),*], [$($a:literal),*]) => {
        $(#[$doc])*
        pub const $name: RuleMeta = RuleMeta {
            code: $code,
            title: $title,
            severity: Severity::$sev,
            target: RuleTarget::$target,
            references: &[$($r),*],
            aliases: &[$($a),*],
        };
    };
}

// ---- daemon (CIS 2) ----
rule!(
    /// Containers on the default bridge can talk to each other freely (`icc` not false).
    DD101, "DD101", Medium, Daemon, "inter-container communication on the default bridge is not restricted",
    ["CIS-Docker-1.6.0-2.2"], ["docker-bench-2.2"]);
rule!(
    /// The daemon logs at debug level, which can leak secrets and floods the log.
    DD102, "DD102", Low, Daemon, "daemon log level is debug",
    ["CIS-Docker-1.6.0-2.3"], ["docker-bench-2.3"]);
rule!(
    /// `--iptables=false`: Docker cannot set up the firewall rules containers rely on.
    DD103, "DD103", Low, Daemon, "Docker is not allowed to manage iptables",
    ["CIS-Docker-1.6.0-2.4"], ["docker-bench-2.4"]);
rule!(
    /// Registries reached without TLS verification (`insecure-registries`).
    DD104, "DD104", High, Daemon, "insecure registries are configured",
    ["CIS-Docker-1.6.0-2.5"], ["docker-bench-2.5"]);
rule!(
    /// The aufs or devicemapper storage drivers are deprecated and have had kernel bugs.
    DD105, "DD105", Medium, Daemon, "deprecated storage driver (aufs or devicemapper)",
    ["CIS-Docker-1.6.0-2.6", "CIS-Docker-1.6.0-2.7"], ["docker-bench-2.6"]);
rule!(
    /// The daemon listens on TCP without TLS client verification: anyone who reaches the port is root on the host.
    DD106, "DD106", Critical, Daemon, "daemon listens on TCP without TLS verification",
    ["CIS-Docker-1.6.0-2.8"], ["docker-bench-2.8"]);
rule!(
    /// No daemon-wide default ulimits.
    DD107, "DD107", Low, Daemon, "no default ulimits are configured",
    ["CIS-Docker-1.6.0-2.9"], ["docker-bench-2.9"]);
rule!(
    /// Without user-namespace remapping, root in a container is root on the host.
    DD108, "DD108", Medium, Daemon, "user namespace remapping is not enabled",
    ["CIS-Docker-1.6.0-2.10"], ["docker-bench-2.10"]);
rule!(
    /// A non-default `cgroup-parent`: confirm the resource accounting it implies.
    DD109, "DD109", Low, Daemon, "default cgroup parent is changed",
    ["CIS-Docker-1.6.0-2.11"], ["docker-bench-2.11"]);
rule!(
    /// No authorization plugin: every client of the socket can do everything.
    DD110, "DD110", Low, Daemon, "no authorization plugin is configured",
    ["CIS-Docker-1.6.0-2.13"], ["docker-bench-2.13"]);
rule!(
    /// Container logs stay on the host (`json-file`/`local`): no centralized, remote logging.
    DD111, "DD111", Low, Daemon, "no centralized and remote logging",
    ["CIS-Docker-1.6.0-2.14"], ["docker-bench-2.14"]);
rule!(
    /// Containers may gain privileges through setuid binaries unless each one opts out.
    DD112, "DD112", Medium, Daemon, "no-new-privileges is not the daemon default",
    ["CIS-Docker-1.6.0-2.15"], ["docker-bench-2.15"]);
rule!(
    /// Without live restore, restarting the daemon stops every container.
    DD113, "DD113", Low, Daemon, "live restore is not enabled",
    ["CIS-Docker-1.6.0-2.16"], ["docker-bench-2.16"]);
rule!(
    /// The userland proxy is an extra, exposed process per published port.
    DD114, "DD114", Low, Daemon, "userland proxy is enabled",
    ["CIS-Docker-1.6.0-2.17"], ["docker-bench-2.17"]);
rule!(
    /// The daemon applies no seccomp profile by default (or an unconfined one).
    DD115, "DD115", High, Daemon, "no daemon-wide seccomp profile",
    ["CIS-Docker-1.6.0-2.18"], ["docker-bench-2.18"]);
rule!(
    /// Experimental features are enabled on the daemon.
    DD116, "DD116", Low, Daemon, "experimental features are enabled",
    ["CIS-Docker-1.6.0-2.19"], ["docker-bench-2.19"]);
rule!(
    /// Swarm mode opens management ports; disable it where it is not used.
    DD117, "DD117", Low, Daemon, "swarm mode is enabled",
    ["CIS-Docker-1.6.0-5.1"], ["docker-bench-5.1"]);

// ---- host files (CIS 1 and 3) ----
rule!(
    /// The Docker socket should be owned by root:docker.
    DH101, "DH101", Medium, Host, "Docker socket ownership is not root:docker",
    ["CIS-Docker-1.6.0-3.15"], ["docker-bench-3.15"]);
rule!(
    /// The Docker socket should be mode 660 or stricter: write access to it is root on the host.
    DH102, "DH102", High, Host, "Docker socket permissions are looser than 660",
    ["CIS-Docker-1.6.0-3.16"], ["docker-bench-3.16"]);
rule!(
    /// daemon.json should be owned by root:root.
    DH103, "DH103", Medium, Host, "daemon.json ownership is not root:root",
    ["CIS-Docker-1.6.0-3.17"], ["docker-bench-3.17"]);
rule!(
    /// daemon.json should be mode 644 or stricter.
    DH104, "DH104", Medium, Host, "daemon.json permissions are looser than 644",
    ["CIS-Docker-1.6.0-3.18"], ["docker-bench-3.18"]);
rule!(
    /// Every member of the docker group controls the daemon, i.e. is root on the host.
    DH105, "DH105", Medium, Host, "users in the docker group control the daemon",
    ["CIS-Docker-1.6.0-1.1.2"], ["docker-bench-1.1.2"]);

rule!(
    /// Docker's unit files, configuration directory, defaults files, TLS material and the
    /// containerd socket should belong to root:root.
    DH106, "DH106", Medium, Host, "Docker file ownership is not root:root",
    ["CIS-Docker-1.6.0-3.1", "CIS-Docker-1.6.0-3.3", "CIS-Docker-1.6.0-3.5", "CIS-Docker-1.6.0-3.9", "CIS-Docker-1.6.0-3.11", "CIS-Docker-1.6.0-3.13", "CIS-Docker-1.6.0-3.19", "CIS-Docker-1.6.0-3.21", "CIS-Docker-1.6.0-3.23"],
    ["docker-bench-3.1", "docker-bench-3.3", "docker-bench-3.5", "docker-bench-3.19", "docker-bench-3.23"]);
rule!(
    /// The same files should be no more permissive than the benchmark allows (644 for
    /// unit and defaults files, 755 for /etc/docker, 444 for certificates, 400 for the
    /// TLS key, 660 for the containerd socket).
    DH107, "DH107", Medium, Host, "Docker file permissions are too loose",
    ["CIS-Docker-1.6.0-3.2", "CIS-Docker-1.6.0-3.4", "CIS-Docker-1.6.0-3.6", "CIS-Docker-1.6.0-3.10", "CIS-Docker-1.6.0-3.12", "CIS-Docker-1.6.0-3.14", "CIS-Docker-1.6.0-3.20", "CIS-Docker-1.6.0-3.22", "CIS-Docker-1.6.0-3.24"],
    ["docker-bench-3.2", "docker-bench-3.4", "docker-bench-3.6", "docker-bench-3.22", "docker-bench-3.24"]);

// ---- containers, configuration (CIS 4 and 5) ----
rule!(
    /// A privileged container has every capability and every device: it is the host.
    CC101, "CC101", Critical, Container, "container is privileged",
    ["CIS-Docker-1.6.0-5.5"], ["docker-bench-5.5"]);
rule!(
    /// Capabilities added beyond Docker's default set.
    CC102, "CC102", High, Container, "container adds Linux capabilities",
    ["CIS-Docker-1.6.0-5.4"], ["docker-bench-5.4"]);
rule!(
    /// Sharing the host's PID namespace lets the container see and signal host processes.
    CC103, "CC103", High, Container, "container shares the host's PID namespace",
    ["CIS-Docker-1.6.0-5.16"], ["docker-bench-5.16"]);
rule!(
    /// Sharing the host's network namespace exposes host interfaces and local services.
    CC104, "CC104", High, Container, "container shares the host's network namespace",
    ["CIS-Docker-1.6.0-5.10"], ["docker-bench-5.10"]);
rule!(
    /// Sharing the host's IPC namespace exposes host shared memory.
    CC105, "CC105", High, Container, "container shares the host's IPC namespace",
    ["CIS-Docker-1.6.0-5.17"], ["docker-bench-5.17"]);
rule!(
    /// Sharing the host's UTS namespace lets the container change the host name.
    CC106, "CC106", Medium, Container, "container shares the host's UTS namespace",
    ["CIS-Docker-1.6.0-5.21"], ["docker-bench-5.21"]);
rule!(
    /// `--userns=host` opts out of user-namespace remapping.
    CC107, "CC107", High, Container, "container shares the host's user namespace",
    ["CIS-Docker-1.6.0-5.31"], ["docker-bench-5.31"]);
rule!(
    /// Host system directories (/, /boot, /dev, /etc, /lib, /proc, /sys, /usr) mounted into the container.
    CC108, "CC108", High, Container, "sensitive host directory is mounted",
    ["CIS-Docker-1.6.0-5.6"], ["docker-bench-5.6"]);
rule!(
    /// The Docker socket inside a container is full control of the engine, i.e. of the host.
    CC109, "CC109", Critical, Container, "Docker socket is mounted into the container",
    ["CIS-Docker-1.6.0-5.32"], ["docker-bench-5.32"]);
rule!(
    /// Shared mount propagation lets mounts made in the container appear on the host.
    CC110, "CC110", Medium, Container, "mount propagation is shared",
    ["CIS-Docker-1.6.0-5.20"], ["docker-bench-5.20"]);
rule!(
    /// Without a memory limit one container can exhaust the host's memory.
    CC111, "CC111", Medium, Container, "no memory limit",
    ["CIS-Docker-1.6.0-5.11"], ["docker-bench-5.11"]);
rule!(
    /// Without CPU shares, quota or a cpuset one container can starve the others.
    CC112, "CC112", Low, Container, "no CPU limit or priority",
    ["CIS-Docker-1.6.0-5.12"], ["docker-bench-5.12"]);
rule!(
    /// Without a PIDs limit a fork bomb takes the host down.
    CC113, "CC113", Medium, Container, "no PIDs limit",
    ["CIS-Docker-1.6.0-5.29"], ["docker-bench-5.29"]);
rule!(
    /// The container's process runs as root.
    CC114, "CC114", Medium, Container, "container runs as root",
    ["CIS-Docker-1.6.0-4.1"], ["docker-bench-4.1"]);
rule!(
    /// A writable root filesystem lets an intruder persist and modify binaries.
    CC115, "CC115", Low, Container, "root filesystem is writable",
    ["CIS-Docker-1.6.0-5.13"], ["docker-bench-5.13"]);
rule!(
    /// Without no-new-privileges, setuid binaries can raise privileges inside the container.
    CC116, "CC116", Medium, Container, "no-new-privileges is not set",
    ["CIS-Docker-1.6.0-5.26"], ["docker-bench-5.26"]);
rule!(
    /// `seccomp=unconfined`: every system call is open to the container.
    CC117, "CC117", High, Container, "seccomp is unconfined",
    ["CIS-Docker-1.6.0-5.22"], ["docker-bench-5.22"]);
rule!(
    /// AppArmor is available but the container runs unconfined.
    CC118, "CC118", High, Container, "AppArmor is unconfined",
    ["CIS-Docker-1.6.0-5.2"], ["docker-bench-5.2"]);
rule!(
    /// A published port bound to every interface (0.0.0.0 or ::) instead of a chosen one.
    CC119, "CC119", Medium, Container, "port published on all host interfaces",
    ["CIS-Docker-1.6.0-5.14"], ["docker-bench-5.14"]);
rule!(
    /// A host port below 1024 is mapped to the container.
    CC120, "CC120", Low, Container, "privileged host port is mapped",
    ["CIS-Docker-1.6.0-5.8"], ["docker-bench-5.8"]);
rule!(
    /// `always`, `unless-stopped` or unbounded `on-failure` restarts hide crash loops and attacks.
    CC121, "CC121", Low, Container, "restart policy is not on-failure with at most 5 retries",
    ["CIS-Docker-1.6.0-5.15"], ["docker-bench-5.15"]);
rule!(
    /// Host devices passed into the container.
    CC122, "CC122", High, Container, "host devices are exposed to the container",
    ["CIS-Docker-1.6.0-5.18"], ["docker-bench-5.18"]);
rule!(
    /// The default bridge (docker0) has no filtering between containers.
    CC123, "CC123", Low, Container, "container uses the default bridge network",
    ["CIS-Docker-1.6.0-5.30"], ["docker-bench-5.30"]);
rule!(
    /// Without a health check nobody notices a hung or hijacked service.
    CC124, "CC124", Low, Container, "no health check",
    ["CIS-Docker-1.6.0-5.27"], ["docker-bench-5.27"]);
rule!(
    /// The container runs under a custom cgroup parent: confirm its limits.
    CC125, "CC125", Low, Container, "custom cgroup parent",
    ["CIS-Docker-1.6.0-5.25"], ["docker-bench-5.25"]);
rule!(
    /// `--publish-all` publishes every exposed port, wanted or not.
    CC126, "CC126", Low, Container, "all exposed ports are published",
    ["CIS-Docker-1.6.0-5.9"], ["docker-bench-5.9"]);

rule!(
    /// An SSH daemon inside a container is a second, unmanaged way in.
    CC127, "CC127", Medium, Container, "sshd runs inside the container",
    ["CIS-Docker-1.6.0-5.7"], ["docker-bench-5.7"]);

// ---- isolation proof: the kernel's view of a running container ----
rule!(
    /// The container's init process is in the host's PID namespace (read from /proc/PID/ns).
    CC151, "CC151", High, Container, "isolation proof: PID namespace is the host's",
    ["CIS-Docker-1.6.0-5.16"], []);
rule!(
    /// The container's init process is in the host's network namespace.
    CC152, "CC152", High, Container, "isolation proof: network namespace is the host's",
    ["CIS-Docker-1.6.0-5.10"], []);
rule!(
    /// The container's init process is in the host's mount namespace.
    CC153, "CC153", Critical, Container, "isolation proof: mount namespace is the host's",
    ["CIS-Docker-1.6.0-5.6"], []);
rule!(
    /// The container's init process is in the host's IPC namespace.
    CC154, "CC154", High, Container, "isolation proof: IPC namespace is the host's",
    ["CIS-Docker-1.6.0-5.17"], []);
rule!(
    /// The container's init process is in the host's UTS namespace.
    CC155, "CC155", Medium, Container, "isolation proof: UTS namespace is the host's",
    ["CIS-Docker-1.6.0-5.21"], []);
rule!(
    /// The container's init process is in the host's user namespace: its root is the host's root.
    CC156, "CC156", Medium, Container, "isolation proof: user namespace is the host's",
    ["CIS-Docker-1.6.0-5.31", "CIS-Docker-1.6.0-2.10"], []);
rule!(
    /// The container's init process is in the host's cgroup namespace: it sees the host's cgroup tree.
    CC157, "CC157", Low, Container, "isolation proof: cgroup namespace is the host's",
    ["CIS-Docker-1.6.0-5.25"], []);
rule!(
    /// The effective capability set (CapEff) holds capabilities outside Docker's default set.
    CC160, "CC160", High, Container, "isolation proof: effective capabilities beyond Docker's default",
    ["CIS-Docker-1.6.0-5.4"], []);
rule!(
    /// The kernel reports no seccomp filter on the container's init process.
    CC161, "CC161", High, Container, "isolation proof: no seccomp filter in force",
    ["CIS-Docker-1.6.0-5.22"], []);
rule!(
    /// The container's memory cgroup has no limit in force.
    CC162, "CC162", Medium, Container, "isolation proof: no memory limit in force",
    ["CIS-Docker-1.6.0-5.11"], []);
rule!(
    /// The container's cpu cgroup has neither a quota nor non-default shares/weight in force.
    CC163, "CC163", Low, Container, "isolation proof: no CPU limit in force",
    ["CIS-Docker-1.6.0-5.12"], []);
rule!(
    /// The container's pids cgroup has no limit in force.
    CC164, "CC164", Medium, Container, "isolation proof: no PIDs limit in force",
    ["CIS-Docker-1.6.0-5.29"], []);
rule!(
    /// The kernel's no_new_privs flag is off for the container's init process.
    CC165, "CC165", Medium, Container, "isolation proof: no_new_privs is off",
    ["CIS-Docker-1.6.0-5.26"], []);

// ---- images in use (CIS 4) ----
rule!(
    /// The image's configured user is root (or unset).
    IC101, "IC101", Medium, ImageConfig, "image runs as root",
    ["CIS-Docker-1.6.0-4.1"], ["docker-bench-4.1"]);
rule!(
    /// The image has no HEALTHCHECK.
    IC102, "IC102", Low, ImageConfig, "image has no HEALTHCHECK",
    ["CIS-Docker-1.6.0-4.6"], ["docker-bench-4.6"]);
rule!(
    /// Files with the setuid or setgid bit in the image's layers.
    IC103, "IC103", Medium, ImageConfig, "image contains setuid or setgid files",
    ["CIS-Docker-1.6.0-4.8"], ["docker-bench-4.8"]);
rule!(
    /// The image was built long ago: it is probably missing security patches.
    IC104, "IC104", Low, ImageConfig, "image is old (not rebuilt with recent patches)",
    ["CIS-Docker-1.6.0-4.4"], ["docker-bench-4.4"]);

// ---- patch level ----
rule!(
    /// dockerd, containerd or runc at a version with a known advisory.
    DV101, "DV101", High, Daemon, "engine component has a known vulnerability",
    ["CIS-Docker-1.6.0-1.2.2"], ["docker-bench-1.2.2"]);

/// Every audit rule, in code order.
pub static RULES: &[RuleMeta] = &[
    DD101, DD102, DD103, DD104, DD105, DD106, DD107, DD108, DD109, DD110, DD111, DD112, DD113,
    DD114, DD115, DD116, DD117, DH101, DH102, DH103, DH104, DH105, DH106, DH107, CC101, CC102,
    CC103, CC104, CC105, CC106, CC107, CC108, CC109, CC110, CC111, CC112, CC113, CC114, CC115,
    CC116, CC117, CC118, CC119, CC120, CC121, CC122, CC123, CC124, CC125, CC126, CC127, CC151,
    CC152, CC153, CC154, CC155, CC156, CC157, CC160, CC161, CC162, CC163, CC164, CC165, IC101,
    IC102, IC103, IC104, DV101,
];

/// Every audit rule (for `moat rules`).
pub fn rules() -> &'static [RuleMeta] {
    RULES
}

/// The rule with this code.
pub fn rule(code: &str) -> Option<&'static RuleMeta> {
    RULES.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_reference_cis() {
        let codes: Vec<_> = RULES.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes.len(), sorted.len(), "duplicate codes");
        for r in RULES {
            assert!(
                r.references
                    .iter()
                    .any(|x| x.starts_with("CIS-Docker-1.6.0-")),
                "{} has no CIS v1.6.0 reference",
                r.code
            );
        }
    }
}
