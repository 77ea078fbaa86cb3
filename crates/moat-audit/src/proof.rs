//! The isolation proof: what the kernel says about a running container's init process,
//! read from the host's /proc and cgroup filesystem (v1 and v2).

use crate::sys::HostPaths;
pub use moat_model::audit::{LimitView, NsView, Proof};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The namespaces compared with the host's (PID 1's).
pub const NAMESPACES: &[&str] = &["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

/// Docker's default capability set (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Capability names by bit number (linux/capability.h).
const CAP_NAMES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Names of the capabilities in a capability bit mask.
pub fn cap_names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| {
            CAP_NAMES
                .get(bit as usize)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("CAP_{bit}"))
        })
        .collect()
}

/// Why a proof could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// A /proc file or link could not be read.
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("no reference process for the host's {0} namespace")]
    NoHostReference(String),
    #[error(
        "process {pid} is not in container {container}'s cgroup (is moat in another PID namespace?)"
    )]
    NotInContainer { pid: i64, container: String },
    #[error("{path}/status: CapEff {value:?}")]
    BadCapEff { path: String, value: String },
}

fn ns_link(paths: &HostPaths, pid: i64, kind: &str) -> Result<String, ProofError> {
    let p = paths.pid(pid).join("ns").join(kind);
    fs::read_link(&p)
        .map(|t| t.to_string_lossy().into_owned())
        .map_err(|e| ProofError::Read {
            path: p.display().to_string(),
            message: e.to_string(),
        })
}

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

/// A cgroup mount from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CgMount {
    /// Mounted cgroup root (field 4).
    root: String,
    mountpoint: PathBuf,
    /// v1 controllers from the super options; empty for cgroup2.
    controllers: Vec<String>,
    v2: bool,
}

fn cgroup_mounts(mountinfo: &str) -> Vec<CgMount> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let v2 = r[0] == "cgroup2";
        if !v2 && r[0] != "cgroup" {
            continue;
        }
        let controllers = if v2 {
            Vec::new()
        } else {
            r[2].split(',')
                .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                .map(String::from)
                .collect()
        };
        out.push(CgMount {
            root: unescape_mount(l[3]),
            mountpoint: PathBuf::from(unescape_mount(l[4])),
            controllers,
            v2,
        });
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mount(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Where the process's cgroup for a controller lives: (directory, cgroup version).
fn cgroup_dir(
    mounts: &[CgMount],
    proc_cgroup: &str,
    controller: &str,
    paths: &HostPaths,
) -> Option<(PathBuf, u8)> {
    let join = |m: &CgMount, cg: &str| -> PathBuf {
        let rel = if m.root == "/" {
            cg
        } else {
            cg.strip_prefix(m.root.as_str()).unwrap_or(cg)
        };
        paths.host(&m.mountpoint).join(rel.trim_start_matches('/'))
    };
    // cgroup v1: "N:ctrl,ctrl:/path"
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(ctrls), Some(cg)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if ctrls.split(',').any(|c| c == controller)
            && let Some(m) = mounts
                .iter()
                .find(|m| !m.v2 && m.controllers.iter().any(|c| c == controller))
        {
            let dir = join(m, cg);
            if dir.is_dir() {
                return Some((dir, 1));
            }
        }
    }
    // cgroup v2: "0::/path"
    let cg = proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let m = mounts.iter().find(|m| m.v2)?;
    let dir = join(m, cg);
    dir.is_dir().then_some((dir, 2))
}

fn read_trim(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok().map(|s| s.trim().to_string())
}

/// cgroup v1's "no limit" for memory is the largest page-aligned i64.
const V1_MEMORY_UNLIMITED_FLOOR: u64 = 1 << 62;

fn limit(dir: &Path, version: u8, kind: &str) -> Option<LimitView> {
    let files: &[&str] = match (version, kind) {
        (1, "memory") => &["memory.limit_in_bytes"],
        (2, "memory") => &["memory.max"],
        (1, "cpu") => &["cpu.cfs_quota_us", "cpu.shares"],
        (2, "cpu") => &["cpu.max", "cpu.weight"],
        (_, "pids") => &["pids.max"],
        _ => return None,
    };
    let mut shown = Vec::new();
    let mut values = Vec::new();
    for f in files {
        let p = dir.join(f);
        values.push(read_trim(&p)?);
        shown.push(p.to_string_lossy().into_owned());
    }
    let limited = match (version, kind) {
        (1, "memory") => values[0]
            .parse::<u64>()
            .is_ok_and(|v| v < V1_MEMORY_UNLIMITED_FLOOR),
        (2, "memory") | (_, "pids") => values[0] != "max",
        (1, "cpu") => values[0] != "-1" || values[1] != "1024",
        (2, "cpu") => !values[0].starts_with("max") || values[1] != "100",
        _ => false,
    };
    Some(LimitView {
        files: shown,
        values,
        limited,
    })
}

/// The host's namespace of `kind`: the first readable of `refs` (PID 1, then dockerd,
/// then moat itself, which all run in the host's namespaces when moat runs on the host).
fn host_ns(paths: &HostPaths, refs: &[i64], kind: &str) -> Result<(String, String), ProofError> {
    let mut last = None;
    for r in refs {
        match ns_link(paths, *r, kind) {
            Ok(v) => return Ok((v, format!("/proc/{r}/ns/{kind}"))),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| ProofError::NoHostReference(kind.to_string())))
}

/// Reads the proof for the container whose init process is `pid`. `container_id` must
/// appear in the process's cgroup path: this guards against a PID from another PID
/// namespace (moat itself running in a container) naming an unrelated process.
/// `host_refs` are processes known to be in the host's namespaces, best first.
pub fn prove(
    paths: &HostPaths,
    pid: i64,
    container_id: &str,
    host_refs: &[i64],
) -> Result<Proof, ProofError> {
    let pdir = paths.pid(pid);
    let proc_cgroup = fs::read_to_string(pdir.join("cgroup")).map_err(|e| ProofError::Read {
        path: format!("{}/cgroup", pdir.display()),
        message: e.to_string(),
    })?;
    if !container_id.is_empty() && !proc_cgroup.contains(container_id) {
        return Err(ProofError::NotInContainer {
            pid,
            container: container_id.to_string(),
        });
    }
    let mut namespaces = BTreeMap::new();
    for kind in NAMESPACES {
        let (host, reference) = host_ns(paths, host_refs, kind)?;
        let container = ns_link(paths, pid, kind)?;
        namespaces.insert(
            kind.to_string(),
            NsView {
                shared: host == container,
                container,
                host,
                reference,
            },
        );
    }
    let status = fs::read_to_string(pdir.join("status")).map_err(|e| ProofError::Read {
        path: format!("{}/status", pdir.display()),
        message: e.to_string(),
    })?;
    let cap_eff = status_field(&status, "CapEff").unwrap_or("").to_string();
    let mask = u64::from_str_radix(&cap_eff, 16).map_err(|_| ProofError::BadCapEff {
        path: pdir.display().to_string(),
        value: cap_eff.clone(),
    })?;
    let names = cap_names(mask);
    let beyond = names
        .iter()
        .filter(|n| !DOCKER_DEFAULT_CAPS.contains(&n.as_str()))
        .cloned()
        .collect();
    let seccomp = status_field(&status, "Seccomp").and_then(|s| s.parse().ok());
    let no_new_privs = status_field(&status, "NoNewPrivs").map(|s| s == "1");

    let mountinfo = fs::read_to_string(paths.proc.join("self/mountinfo")).unwrap_or_default();
    let mounts = cgroup_mounts(&mountinfo);
    let mut version = None;
    let mut read = |ctrl: &str| {
        let (dir, v) = cgroup_dir(&mounts, &proc_cgroup, ctrl, paths)?;
        version = Some(version.map_or(v, |old: u8| old.max(v)));
        limit(&dir, v, ctrl)
    };
    let memory = read("memory");
    let cpu = read("cpu");
    let pids = read("pids");
    Ok(Proof {
        pid,
        namespaces,
        cap_eff,
        cap_eff_names: names,
        cap_eff_beyond_default: beyond,
        seccomp,
        no_new_privs,
        cgroup_version: version,
        memory,
        cpu,
        pids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_names_decode_docker_default_plus_sys_admin() {
        // CapEff of a real `--cap-add SYS_ADMIN` container on this kernel.
        let names = cap_names(0xa82425fb);
        assert!(names.contains(&"CAP_SYS_ADMIN".to_string()));
        let beyond: Vec<_> = names
            .iter()
            .filter(|n| !DOCKER_DEFAULT_CAPS.contains(&n.as_str()))
            .collect();
        assert_eq!(beyond, vec!["CAP_SYS_ADMIN"]);
        assert!(cap_names(0).is_empty());
    }

    #[test]
    fn parses_hybrid_mountinfo() {
        let mi = "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                  35 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                  36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n\
                  37 30 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
        let m = cgroup_mounts(mi);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].controllers, vec!["memory"]);
        assert_eq!(m[1].controllers, vec!["cpu", "cpuacct"]);
        assert!(m[2].v2);
    }

    #[test]
    fn v2_limits_from_a_tree() {
        let dir = tempfile::tempdir().unwrap();
        let cg = dir.path().join("sys/fs/cgroup/docker/abc");
        fs::create_dir_all(&cg).unwrap();
        fs::write(cg.join("memory.max"), "67108864\n").unwrap();
        fs::write(cg.join("cpu.max"), "max 100000\n").unwrap();
        fs::write(cg.join("cpu.weight"), "100\n").unwrap();
        fs::write(cg.join("pids.max"), "max\n").unwrap();
        let paths = HostPaths {
            proc: dir.path().join("proc"),
            root: dir.path().to_path_buf(),
        };
        let mounts = cgroup_mounts("40 1 0:35 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        let (d, v) = cgroup_dir(&mounts, "0::/docker/abc\n", "memory", &paths).unwrap();
        assert_eq!(v, 2);
        assert!(limit(&d, v, "memory").unwrap().limited);
        assert!(!limit(&d, v, "cpu").unwrap().limited);
        assert!(!limit(&d, v, "pids").unwrap().limited);
    }

    #[test]
    fn this_process_is_in_the_host_namespaces() {
        // moat's own test process is not containerized here: every namespace is the host's.
        let paths = HostPaths::default();
        let me = std::process::id() as i64;
        let p = prove(&paths, me, "", &[1, me]).unwrap();
        assert!(p.namespaces.values().all(|n| n.shared), "{p:?}");
        assert!(p.memory.is_some() || p.cgroup_version.is_none());
    }
}
