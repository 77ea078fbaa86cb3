//! Reading processes from /proc: the container a process belongs to (its cgroup, v1 or
//! v2), its name, exe, command line, uid and parent chain.

use moat_model::runtime::ProcessInfo;
use std::path::{Path, PathBuf};

/// Longest command line kept (bytes); longer ones are cut and marked with `…`.
pub const MAX_CMDLINE_BYTES: usize = 4096;
/// Ancestors followed.
pub const MAX_ANCESTORS: usize = 8;

/// The root of /proc (a test may point it elsewhere).
#[derive(Debug, Clone)]
pub struct Proc {
    root: PathBuf,
}

impl Default for Proc {
    fn default() -> Proc {
        Proc {
            root: PathBuf::from("/proc"),
        }
    }
}

/// The 64-hex container id in a cgroup file's text: v1 (`4:memory:/docker/ID`), v2
/// (`0::/system.slice/docker-ID.scope`), and the cgroupfs or systemd drivers.
pub fn container_id_in_cgroup(text: &str) -> Option<String> {
    for line in text.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        for seg in path.rsplit('/') {
            let seg = seg
                .strip_prefix("docker-")
                .map(|s| s.strip_suffix(".scope").unwrap_or(s))
                .unwrap_or(seg);
            if seg.len() == 64 && seg.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(seg.to_ascii_lowercase());
            }
        }
    }
    None
}

/// The cgroup directories of a container, from a process's cgroup file: for v1 the
/// memory controller's path, for v2 the unified path (relative to the mount).
pub fn cgroup_paths(text: &str) -> (Option<String>, Option<String>) {
    let mut v1_memory = None;
    let mut v2 = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(ctrl), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if ctrl.is_empty() {
            v2 = Some(path.to_string());
        } else if ctrl.split(',').any(|c| c == "memory") {
            v1_memory = Some(path.to_string());
        }
    }
    (v1_memory, v2)
}

impl Proc {
    /// A /proc at `root`.
    pub fn at(root: &Path) -> Proc {
        Proc {
            root: root.to_path_buf(),
        }
    }

    fn path(&self, pid: i64, file: &str) -> PathBuf {
        self.root.join(pid.to_string()).join(file)
    }

    /// The cgroup file of `pid`.
    pub fn cgroup(&self, pid: i64) -> Option<String> {
        read_bounded(&self.path(pid, "cgroup"), 16 << 10)
    }

    /// The container `pid` runs in, if any.
    pub fn container_of(&self, pid: i64) -> Option<String> {
        container_id_in_cgroup(&self.cgroup(pid)?)
    }

    /// `comm`, ppid, real uid, and the pid in the innermost namespace, from status.
    fn status(&self, pid: i64) -> Option<(String, i64, i64, i64)> {
        let text = read_bounded(&self.path(pid, "status"), 16 << 10)?;
        let mut name = String::new();
        let mut ppid = 0;
        let mut uid = -1;
        let mut vpid = pid;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("Name:") {
                name = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("PPid:") {
                ppid = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("Uid:") {
                uid = v
                    .split_whitespace()
                    .next()
                    .and_then(|u| u.parse().ok())
                    .unwrap_or(-1);
            } else if let Some(v) = line.strip_prefix("NSpid:") {
                vpid = v
                    .split_whitespace()
                    .last()
                    .and_then(|u| u.parse().ok())
                    .unwrap_or(pid);
            }
        }
        Some((name, ppid, uid, vpid))
    }

    /// The name (`comm`) and command line of `pid`, if it is alive.
    pub fn name_and_cmdline(&self, pid: i64) -> Option<(String, String)> {
        if pid <= 0 {
            return None;
        }
        let (name, ..) = self.status(pid)?;
        Some((name, self.cmdline(pid)))
    }

    /// The command line, arguments joined by spaces (at most [`MAX_CMDLINE_BYTES`]).
    pub fn cmdline(&self, pid: i64) -> String {
        let raw = std::fs::File::open(self.path(pid, "cmdline"))
            .and_then(|f| {
                use std::io::Read;
                let mut buf = Vec::new();
                f.take(MAX_CMDLINE_BYTES as u64 + 1).read_to_end(&mut buf)?;
                Ok(buf)
            })
            .unwrap_or_default();
        let cut = raw.len() > MAX_CMDLINE_BYTES;
        let raw = &raw[..raw.len().min(MAX_CMDLINE_BYTES)];
        let mut s: String = String::from_utf8_lossy(raw)
            .split('\0')
            .filter(|a| !a.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if cut {
            s.push('…');
        }
        s
    }

    /// The process, with its parent's name and command line and its ancestors' names.
    /// None when it is gone already.
    pub fn process(&self, pid: i64) -> Option<ProcessInfo> {
        let (name, ppid, uid, vpid) = self.status(pid)?;
        let exe = std::fs::read_link(self.path(pid, "exe"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cmdline = self.cmdline(pid);
        let mut info = ProcessInfo {
            pid,
            ppid,
            vpid,
            name,
            exe,
            cmdline,
            uid,
            ..ProcessInfo::default()
        };
        let mut cur = ppid;
        let mut first = true;
        while cur > 1 && info.ancestors.len() < MAX_ANCESTORS {
            let Some((pname, pp, _, pvpid)) = self.status(cur) else {
                break;
            };
            if first {
                info.pname = pname.clone();
                info.pcmdline = self.cmdline(cur);
                first = false;
            }
            let outside = pname.starts_with("containerd-shim")
                || pname == "runc"
                || pname.starts_with("runc:");
            info.ancestors.push(pname);
            // The container's init (pid 1 inside) or the runtime shim ends the chain.
            if outside || pvpid == 1 {
                break;
            }
            cur = pp;
        }
        Some(info)
    }

    /// The PIDs in a cgroup directory (`cgroup.procs`), at most `max`.
    pub fn cgroup_procs(dir: &Path, max: usize) -> Vec<i64> {
        read_bounded(&dir.join("cgroup.procs"), 1 << 20)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .take(max)
            .collect()
    }

    /// The socket inodes `pid` holds open.
    pub fn socket_inodes(&self, pid: i64) -> Vec<u64> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(self.path(pid, "fd")) else {
            return out;
        };
        for e in rd.flatten().take(65536) {
            if let Ok(l) = std::fs::read_link(e.path()) {
                let l = l.to_string_lossy();
                if let Some(n) = l.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']'))
                    && let Ok(n) = n.parse()
                {
                    out.push(n);
                }
            }
        }
        out
    }

    /// A file of `pid`'s directory (`net/tcp`), bounded.
    pub fn read(&self, pid: i64, file: &str, max: u64) -> Option<String> {
        read_bounded(&self.path(pid, file), max)
    }
}

/// Reads at most `max` bytes of a file as text.
pub fn read_bounded(path: &Path, max: u64) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_container_ids_in_cgroup_files() {
        let id = "3f2a".repeat(16);
        let v1 = format!("12:memory:/docker/{id}\n11:cpu:/docker/{id}\n");
        assert_eq!(container_id_in_cgroup(&v1), Some(id.clone()));
        let v2 = format!("0::/system.slice/docker-{id}.scope\n");
        assert_eq!(container_id_in_cgroup(&v2), Some(id.clone()));
        assert_eq!(container_id_in_cgroup("0::/user.slice\n"), None);
        let (m, u) = cgroup_paths(&v1);
        assert_eq!(m, Some(format!("/docker/{id}")));
        assert_eq!(u, None);
    }
}
