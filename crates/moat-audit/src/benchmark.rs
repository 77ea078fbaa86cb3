//! The CIS Docker Benchmark v1.6.0, item by item, as docker-bench-security v1.6.0
//! implements it: the one table every audit rule's CIS number, title and docker-bench
//! alias is checked against (tests in `rules.rs`), and that docs/audit.md's item table
//! and the CIS-report view (`moat audit --format cis`) are generated from.
//!
//! Numbers and titles are docker-bench-security v1.6.0's (`tests/*.sh`, the `desc` of
//! each `check_N`), without its "(Automated)/(Manual)/(Scored)" suffix and with two of
//! its typos mended (1.1.12's repeated number, "Dockerfiles" for "Docker files" in
//! 1.1.11/1.1.12). Levels are the CIS profile levels (docker-bench's `*_level1` groups).
//! `Automated` is what CIS v1.6.0 calls the items it used to call "Scored"; docker-bench
//! still prints "(Scored)" for most of section 2.

/// CIS profile level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    L1,
    L2,
}

/// How the benchmark assesses an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assessment {
    /// "Automated" (formerly "Scored"): counts in the score.
    Automated,
    /// "Manual" (formerly "Not Scored").
    Manual,
}

/// What docker-bench-security v1.6.0 does for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bench {
    /// Tests something and prints PASS, WARN or INFO.
    Check,
    /// Prints the item as NOTE (or INFO) without testing anything.
    Note,
}

/// docker-bench's verdict when the item is not met: WARN, or only INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Warn,
    Info,
}

/// One benchmark item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// `2.7`
    pub number: &'static str,
    pub title: &'static str,
    pub level: Level,
    pub assessment: Assessment,
    pub bench: Bench,
    pub verdict: Verdict,
    /// For items an auditor checks by hand: what to run (docker-bench's NOTE lines
    /// name the item only).
    pub command: &'static str,
}

impl Item {
    /// Whether the item is scored (CIS v1.6.0: automated).
    pub fn scored(&self) -> bool {
        self.assessment == Assessment::Automated
    }

    /// The section this item belongs to (`2` for `2.7`, `1.1` for `1.1.3`).
    pub fn section(&self) -> &'static str {
        match self.number.rfind('.') {
            Some(i) => &self.number[..i],
            None => self.number,
        }
    }

    /// The reference an audit rule carries for it (`CIS-Docker-1.6.0-2.7`).
    pub fn reference(&self) -> String {
        format!("{REFERENCE_PREFIX}{}", self.number)
    }

    /// docker-bench-security's name for it, used as a rule alias (`docker-bench-2.7`).
    pub fn docker_bench_alias(&self) -> String {
        format!("{ALIAS_PREFIX}{}", self.number)
    }
}

/// Prefix of a rule's benchmark reference.
pub const REFERENCE_PREFIX: &str = "CIS-Docker-1.6.0-";
/// Prefix of a rule's docker-bench alias.
pub const ALIAS_PREFIX: &str = "docker-bench-";
/// The benchmark's name.
pub const BENCHMARK: &str = "CIS Docker Benchmark v1.6.0";

/// A section or subsection heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub number: &'static str,
    pub title: &'static str,
}

pub static SECTIONS: &[Section] = &[
    Section {
        number: "1",
        title: "Host Configuration",
    },
    Section {
        number: "1.1",
        title: "Linux Hosts Specific Configuration",
    },
    Section {
        number: "1.2",
        title: "General Configuration",
    },
    Section {
        number: "2",
        title: "Docker daemon configuration",
    },
    Section {
        number: "3",
        title: "Docker daemon configuration files",
    },
    Section {
        number: "4",
        title: "Container Images and Build File",
    },
    Section {
        number: "5",
        title: "Container Runtime",
    },
    Section {
        number: "6",
        title: "Docker Security Operations",
    },
    Section {
        number: "7",
        title: "Docker Swarm Configuration",
    },
];

macro_rules! item {
    ($n:literal, $lvl:ident, $a:ident, $b:ident, $v:ident, $t:literal) => {
        item!($n, $lvl, $a, $b, $v, $t, "")
    };
    ($n:literal, $lvl:ident, $a:ident, $b:ident, $v:ident, $t:literal, $cmd:expr) => {
        Item {
            number: $n,
            title: $t,
            level: Level::$lvl,
            assessment: Assessment::$a,
            bench: Bench::$b,
            verdict: Verdict::$v,
            command: $cmd,
        }
    };
}

const AUDITCTL: &str = "auditctl -l | grep PATH (and /etc/audit/rules.d/*.rules)";

/// Every item of the benchmark, in benchmark order.
#[rustfmt::skip]
pub static ITEMS: &[Item] = &[
    item!("1.1.1", L1, Automated, Check, Warn, "Ensure a separate partition for containers has been created", "mountpoint \"$(docker info -f '{{ .DockerRootDir }}')\""),
    item!("1.1.2", L1, Automated, Check, Info, "Ensure only trusted users are allowed to control Docker daemon", "getent group docker"),
    item!("1.1.3", L1, Automated, Check, Warn, "Ensure auditing is configured for the Docker daemon", AUDITCTL),
    item!("1.1.4", L1, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /run/containerd", AUDITCTL),
    item!("1.1.5", L1, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /var/lib/docker", AUDITCTL),
    item!("1.1.6", L1, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /etc/docker", AUDITCTL),
    item!("1.1.7", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - docker.service", AUDITCTL),
    item!("1.1.8", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - containerd.sock", AUDITCTL),
    item!("1.1.9", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - docker.socket", AUDITCTL),
    item!("1.1.10", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /etc/default/docker", AUDITCTL),
    item!("1.1.11", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json", AUDITCTL),
    item!("1.1.12", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml", AUDITCTL),
    item!("1.1.13", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker", AUDITCTL),
    item!("1.1.14", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd", AUDITCTL),
    item!("1.1.15", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim", AUDITCTL),
    item!("1.1.16", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1", AUDITCTL),
    item!("1.1.17", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2", AUDITCTL),
    item!("1.1.18", L2, Automated, Check, Warn, "Ensure auditing is configured for Docker files and directories - /usr/bin/runc", AUDITCTL),
    item!("1.2.1", L1, Manual, Note, Info, "Ensure the container host has been Hardened", "review the host against a hardening guide for its distribution (e.g. its CIS benchmark)"),
    item!("1.2.2", L1, Manual, Check, Warn, "Ensure that the version of Docker is up to date", "docker version; compare with the vendor's supported releases"),
    item!("2.1", L1, Manual, Note, Info, "Run the Docker daemon as a non-root user, if possible", "ps -fe | grep dockerd (rootless: dockerd-rootless.sh under an unprivileged user)"),
    item!("2.2", L1, Automated, Check, Warn, "Ensure network traffic is restricted between containers on the default bridge"),
    item!("2.3", L1, Automated, Check, Warn, "Ensure the logging level is set to 'info'"),
    item!("2.4", L1, Automated, Check, Warn, "Ensure Docker is allowed to make changes to iptables"),
    item!("2.5", L1, Automated, Check, Warn, "Ensure insecure registries are not used"),
    item!("2.6", L1, Automated, Check, Warn, "Ensure aufs storage driver is not used"),
    item!("2.7", L1, Automated, Check, Warn, "Ensure TLS authentication for Docker daemon is configured"),
    item!("2.8", L1, Manual, Check, Info, "Ensure the default ulimit is configured appropriately"),
    item!("2.9", L2, Automated, Check, Warn, "Enable user namespace support"),
    item!("2.10", L2, Automated, Check, Warn, "Ensure the default cgroup usage has been confirmed"),
    item!("2.11", L2, Automated, Check, Warn, "Ensure base device size is not changed until needed"),
    item!("2.12", L2, Automated, Check, Warn, "Ensure that authorization for Docker client commands is enabled"),
    item!("2.13", L2, Automated, Check, Warn, "Ensure centralized and remote logging is configured"),
    item!("2.14", L1, Automated, Check, Warn, "Ensure containers are restricted from acquiring new privileges"),
    item!("2.15", L1, Automated, Check, Warn, "Ensure live restore is enabled"),
    item!("2.16", L1, Automated, Check, Warn, "Ensure Userland Proxy is Disabled"),
    item!("2.17", L2, Manual, Check, Info, "Ensure that a daemon-wide custom seccomp profile is applied if appropriate"),
    item!("2.18", L1, Automated, Note, Warn, "Ensure that experimental features are not implemented in production", "docker version --format '{{ .Server.Experimental }}'"),
    item!("3.1", L1, Automated, Check, Warn, "Ensure that the docker.service file ownership is set to root:root"),
    item!("3.2", L1, Automated, Check, Warn, "Ensure that docker.service file permissions are appropriately set"),
    item!("3.3", L1, Automated, Check, Warn, "Ensure that docker.socket file ownership is set to root:root"),
    item!("3.4", L1, Automated, Check, Warn, "Ensure that docker.socket file permissions are set to 644 or more restrictive"),
    item!("3.5", L1, Automated, Check, Warn, "Ensure that the /etc/docker directory ownership is set to root:root"),
    item!("3.6", L1, Automated, Check, Warn, "Ensure that /etc/docker directory permissions are set to 755 or more restrictively"),
    item!("3.7", L1, Automated, Check, Warn, "Ensure that registry certificate file ownership is set to root:root"),
    item!("3.8", L1, Automated, Check, Warn, "Ensure that registry certificate file permissions are set to 444 or more restrictively"),
    item!("3.9", L1, Automated, Check, Warn, "Ensure that TLS CA certificate file ownership is set to root:root"),
    item!("3.10", L1, Automated, Check, Warn, "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively"),
    item!("3.11", L1, Automated, Check, Warn, "Ensure that Docker server certificate file ownership is set to root:root"),
    item!("3.12", L1, Automated, Check, Warn, "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively"),
    item!("3.13", L1, Automated, Check, Warn, "Ensure that the Docker server certificate key file ownership is set to root:root"),
    item!("3.14", L1, Automated, Check, Warn, "Ensure that the Docker server certificate key file permissions are set to 400"),
    item!("3.15", L1, Automated, Check, Warn, "Ensure that the Docker socket file ownership is set to root:docker"),
    item!("3.16", L1, Automated, Check, Warn, "Ensure that the Docker socket file permissions are set to 660 or more restrictively"),
    item!("3.17", L2, Automated, Check, Warn, "Ensure that the daemon.json file ownership is set to root:root"),
    item!("3.18", L2, Automated, Check, Warn, "Ensure that daemon.json file permissions are set to 644 or more restrictive"),
    item!("3.19", L2, Automated, Check, Warn, "Ensure that the /etc/default/docker file ownership is set to root:root"),
    item!("3.20", L2, Automated, Check, Warn, "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively"),
    item!("3.21", L2, Automated, Check, Warn, "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively"),
    item!("3.22", L2, Automated, Check, Warn, "Ensure that the /etc/sysconfig/docker file ownership is set to root:root"),
    item!("3.23", L1, Automated, Check, Warn, "Ensure that the Containerd socket file ownership is set to root:root"),
    item!("3.24", L1, Automated, Check, Warn, "Ensure that the Containerd socket file permissions are set to 660 or more restrictively"),
    item!("4.1", L1, Automated, Check, Warn, "Ensure that a user for the container has been created"),
    item!("4.2", L1, Manual, Note, Info, "Ensure that containers use only trusted base images", "docker images --digests; verify each image's origin (moat verify)"),
    item!("4.3", L1, Manual, Note, Info, "Ensure that unnecessary packages are not installed in the container", "moat sbom IMAGE; review the package list"),
    item!("4.4", L1, Manual, Note, Info, "Ensure images are scanned and rebuilt to include security patches", "moat scan IMAGE for every image in use"),
    item!("4.5", L2, Automated, Check, Warn, "Ensure Content trust for Docker is Enabled", "echo $DOCKER_CONTENT_TRUST"),
    item!("4.6", L1, Automated, Check, Warn, "Ensure that HEALTHCHECK instructions have been added to container images"),
    item!("4.7", L1, Manual, Check, Info, "Ensure update instructions are not used alone in the Dockerfile", "docker history --no-trunc IMAGE | grep update"),
    item!("4.8", L2, Manual, Note, Info, "Ensure setuid and setgid permissions are removed", "find / -perm /6000 -type f inside the image"),
    item!("4.9", L1, Manual, Check, Info, "Ensure that COPY is used instead of ADD in Dockerfiles", "docker history --no-trunc IMAGE | grep ADD"),
    item!("4.10", L1, Manual, Note, Info, "Ensure secrets are not stored in Dockerfiles", "docker history --no-trunc IMAGE; moat scan --scanners secret IMAGE"),
    item!("4.11", L2, Manual, Note, Info, "Ensure only verified packages are installed", "review the Dockerfile: packages come from signed repositories (GPG-checked)"),
    item!("4.12", L1, Manual, Note, Info, "Ensure all signed artifacts are validated", "docker trust inspect IMAGE (or cosign verify)"),
    item!("5.1", L1, Automated, Check, Warn, "Ensure swarm mode is not Enabled, if not needed"),
    item!("5.2", L1, Automated, Check, Warn, "Ensure that, if applicable, an AppArmor Profile is enabled"),
    item!("5.3", L2, Automated, Check, Warn, "Ensure that, if applicable, SELinux security options are set"),
    item!("5.4", L1, Automated, Check, Warn, "Ensure that Linux kernel capabilities are restricted within containers"),
    item!("5.5", L1, Automated, Check, Warn, "Ensure that privileged containers are not used"),
    item!("5.6", L1, Automated, Check, Warn, "Ensure sensitive host system directories are not mounted on containers"),
    item!("5.7", L1, Automated, Check, Warn, "Ensure sshd is not run within containers"),
    item!("5.8", L1, Automated, Check, Warn, "Ensure privileged ports are not mapped within containers"),
    item!("5.9", L1, Manual, Check, Warn, "Ensure that only needed ports are open on the container", "docker ps --quiet | xargs docker inspect --format '{{ .Name }}: {{ .NetworkSettings.Ports }}'"),
    item!("5.10", L1, Automated, Check, Warn, "Ensure that the host's network namespace is not shared"),
    item!("5.11", L1, Automated, Check, Warn, "Ensure that the memory usage for containers is limited"),
    item!("5.12", L1, Automated, Check, Warn, "Ensure that CPU priority is set appropriately on containers"),
    item!("5.13", L1, Automated, Check, Warn, "Ensure that the container's root filesystem is mounted as read only"),
    item!("5.14", L1, Automated, Check, Warn, "Ensure that incoming container traffic is bound to a specific host interface"),
    item!("5.15", L1, Automated, Check, Warn, "Ensure that the 'on-failure' container restart policy is set to '5'"),
    item!("5.16", L1, Automated, Check, Warn, "Ensure that the host's process namespace is not shared"),
    item!("5.17", L1, Automated, Check, Warn, "Ensure that the host's IPC namespace is not shared"),
    item!("5.18", L1, Manual, Check, Info, "Ensure that host devices are not directly exposed to containers"),
    item!("5.19", L1, Manual, Check, Info, "Ensure that the default ulimit is overwritten at runtime if needed"),
    item!("5.20", L1, Automated, Check, Warn, "Ensure mount propagation mode is not set to shared"),
    item!("5.21", L1, Automated, Check, Warn, "Ensure that the host's UTS namespace is not shared"),
    item!("5.22", L1, Automated, Check, Warn, "Ensure the default seccomp profile is not Disabled"),
    item!("5.23", L2, Automated, Note, Info, "Ensure that docker exec commands are not used with the privileged option", "ausearch -k docker | grep exec | grep privileged"),
    item!("5.24", L2, Manual, Note, Info, "Ensure that docker exec commands are not used with the user=root option", "ausearch -k docker | grep exec | grep user"),
    item!("5.25", L1, Automated, Check, Warn, "Ensure that cgroup usage is confirmed"),
    item!("5.26", L1, Automated, Check, Warn, "Ensure that the container is restricted from acquiring additional privileges"),
    item!("5.27", L1, Automated, Check, Warn, "Ensure that container health is checked at runtime"),
    item!("5.28", L1, Manual, Note, Info, "Ensure that Docker commands always make use of the latest version of their image", "review how images are pulled: pinned digests, docker pull before run"),
    item!("5.29", L1, Automated, Check, Warn, "Ensure that the PIDs cgroup limit is used"),
    item!("5.30", L2, Manual, Check, Info, "Ensure that Docker's default bridge 'docker0' is not used"),
    item!("5.31", L1, Automated, Check, Warn, "Ensure that the host's user namespaces are not shared"),
    item!("5.32", L1, Automated, Check, Warn, "Ensure that the Docker socket is not mounted inside any containers"),
    item!("6.1", L1, Manual, Check, Info, "Ensure that image sprawl is avoided", "docker images; docker system df"),
    item!("6.2", L1, Manual, Check, Info, "Ensure that container sprawl is avoided", "docker ps -a; docker container prune"),
    item!("7.1", L1, Automated, Check, Warn, "Ensure that the minimum number of manager nodes have been created in a swarm", "docker info --format '{{ .Swarm.Managers }}'"),
    item!("7.2", L1, Automated, Check, Warn, "Ensure that swarm services are bound to a specific host interface", "ss -lnt | grep 2377"),
    item!("7.3", L1, Automated, Check, Warn, "Ensure that all Docker swarm overlay networks are encrypted", "docker network ls --filter driver=overlay --quiet | xargs docker network inspect --format '{{ .Name }} {{ .Options }}'"),
    item!("7.4", L1, Manual, Check, Info, "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster", "docker secret ls"),
    item!("7.5", L1, Automated, Check, Warn, "Ensure that swarm manager is run in auto-lock mode", "docker swarm unlock-key"),
    item!("7.6", L1, Manual, Note, Info, "Ensure that the swarm manager auto-lock key is rotated periodically", "review the rotation records of docker swarm unlock-key --rotate"),
    item!("7.7", L1, Manual, Check, Info, "Ensure that node certificates are rotated as appropriate", "docker info | grep 'Expiry Duration'"),
    item!("7.8", L1, Manual, Check, Info, "Ensure that CA certificates are rotated as appropriate", "ls -l /var/lib/docker/swarm/certificates/swarm-root-ca.crt; review docker swarm ca --rotate records"),
    item!("7.9", L1, Manual, Check, Info, "Ensure that management plane traffic is separated from data plane traffic", "docker node inspect --format '{{ .Status.Addr }}' self; compare with the --data-path-addr"),
];

/// The item with this number.
pub fn item(number: &str) -> Option<&'static Item> {
    ITEMS.iter().find(|i| i.number == number)
}

/// The heading of a section or subsection.
pub fn section(number: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.number == number)
}

/// The benchmark number a reference names (`CIS-Docker-1.6.0-2.7` → `2.7`).
pub fn number_of_reference(r: &str) -> Option<&str> {
    r.strip_prefix(REFERENCE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_unique_ordered_and_in_a_section() {
        let key = |n: &str| -> Vec<u32> { n.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
        for w in ITEMS.windows(2) {
            assert!(
                key(w[0].number) < key(w[1].number),
                "{} then {}",
                w[0].number,
                w[1].number
            );
        }
        for i in ITEMS {
            assert!(
                section(i.section()).is_some(),
                "{} has no section",
                i.number
            );
            assert!(
                !i.title.is_empty() && !i.title.ends_with(')'),
                "{}",
                i.number
            );
            if i.bench == Bench::Note || i.assessment == Assessment::Manual {
                assert!(
                    !i.command.is_empty() || i.bench == Bench::Check,
                    "{} has no command",
                    i.number
                );
            }
        }
        // The benchmark's sizes per section (docker-bench-security v1.6.0).
        let count = |s: &str| {
            ITEMS
                .iter()
                .filter(|i| i.number.split('.').next() == Some(s))
                .count()
        };
        assert_eq!(
            ["1", "2", "3", "4", "5", "6", "7"].map(count),
            [20, 18, 24, 12, 32, 2, 9]
        );
    }
}
