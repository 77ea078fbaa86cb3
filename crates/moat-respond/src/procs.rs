//! What a container runs, read from the host's /proc for its PIDs (they are host PIDs;
//! a paused container's processes are frozen but their /proc entries readable): each
//! process's command line, executable and its SHA-256, and the open sockets of its
//! network namespace with the processes that hold them.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Processes read at most.
pub const MAX_PROCESSES: usize = 4096;
/// Bytes of an executable hashed at most.
pub const MAX_EXE_BYTES: u64 = 1 << 30;
/// Bytes of a command line kept.
const MAX_CMDLINE_BYTES: u64 = 64 << 10;
/// Bytes of one /proc/PID/net table read.
const MAX_NET_TABLE_BYTES: u64 = 16 << 20;

/// One process.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    /// Real, effective UIDs (host view).
    pub uids: String,
    pub cmdline: Vec<String>,
    /// Where `/proc/PID/exe` points (inside the container's filesystem).
    pub exe: String,
    pub exe_sha256: Option<String>,
    pub exe_size: Option<u64>,
    /// Why the executable could not be hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe_error: Option<String>,
    pub cwd: String,
    /// Inodes of the sockets it holds open.
    pub socket_inodes: Vec<u64>,
}

/// One socket of the container's network namespace.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Socket {
    /// `tcp`, `tcp6`, `udp`, `udp6`.
    pub proto: String,
    pub local: String,
    pub remote: String,
    /// TCP state (`LISTEN`, `ESTABLISHED`…), `-` for UDP.
    pub state: String,
    pub uid: u32,
    pub inode: u64,
    /// The processes of the container that hold it.
    pub pids: Vec<u32>,
}

fn read_capped(p: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(p)?.take(limit).read_to_end(&mut out)?;
    Ok(out)
}

/// Reads each PID's process (at most [`MAX_PROCESSES`]); a PID gone meanwhile is skipped.
pub fn processes(proc_root: &Path, pids: &[u32]) -> Vec<Process> {
    let mut out = Vec::new();
    for &pid in pids.iter().take(MAX_PROCESSES) {
        let dir = proc_root.join(pid.to_string());
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let field = |k: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        };
        let cmdline = read_capped(&dir.join("cmdline"), MAX_CMDLINE_BYTES)
            .map(|b| {
                b.split(|&c| c == 0)
                    .filter(|a| !a.is_empty())
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let link = |n: &str| {
            std::fs::read_link(dir.join(n))
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let (exe_sha256, exe_size, exe_error) = match hash_exe(&dir.join("exe")) {
            Ok((h, n)) => (Some(h), Some(n), None),
            Err(e) => (None, None, Some(e.to_string())),
        };
        let mut socket_inodes: Vec<u64> = std::fs::read_dir(dir.join("fd"))
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter_map(|t| {
                        t.to_str()
                            .and_then(|s| s.strip_prefix("socket:["))
                            .and_then(|s| s.strip_suffix(']'))
                            .and_then(|s| s.parse().ok())
                    })
                    .take(65536)
                    .collect()
            })
            .unwrap_or_default();
        socket_inodes.sort_unstable();
        socket_inodes.dedup();
        out.push(Process {
            pid,
            ppid: field("PPid:").parse().unwrap_or(0),
            name: field("Name:"),
            uids: field("Uid:"),
            cmdline,
            exe: link("exe"),
            exe_sha256,
            exe_size,
            exe_error,
            cwd: link("cwd"),
            socket_inodes,
        });
    }
    out.sort_by_key(|p| p.pid);
    out
}

fn hash_exe(p: &Path) -> std::io::Result<(String, u64)> {
    let f = std::fs::File::open(p)?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f.take(MAX_EXE_BYTES + 1), &mut h)?;
    if n > MAX_EXE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_EXE_BYTES} bytes: not hashed"
        )));
    }
    Ok((hex::encode(h.finalize()), n))
}

/// The TCP and UDP sockets of the network namespace of `pid`, each with the processes
/// (of `procs`) that hold it.
pub fn sockets(proc_root: &Path, pid: u32, procs: &[Process]) -> Vec<Socket> {
    let mut holders: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for p in procs {
        for i in &p.socket_inodes {
            holders.entry(*i).or_default().push(p.pid);
        }
    }
    let net = proc_root.join(pid.to_string()).join("net");
    let mut out = Vec::new();
    for proto in ["tcp", "tcp6", "udp", "udp6"] {
        let Ok(text) = read_capped(&net.join(proto), MAX_NET_TABLE_BYTES) else {
            continue;
        };
        let text = String::from_utf8_lossy(&text);
        for line in text.lines().skip(1) {
            if let Some(mut s) = parse_net_line(proto, line) {
                s.pids = holders.get(&s.inode).cloned().unwrap_or_default();
                out.push(s);
            }
        }
    }
    out
}

/// One line of `/proc/net/{tcp,tcp6,udp,udp6}`.
pub fn parse_net_line(proto: &str, line: &str) -> Option<Socket> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 10 {
        return None;
    }
    let tcp = proto.starts_with("tcp");
    Some(Socket {
        proto: proto.to_string(),
        local: addr(f[1])?,
        remote: addr(f[2])?,
        state: if tcp {
            tcp_state(f[3]).to_string()
        } else {
            "-".to_string()
        },
        uid: f[7].parse().ok()?,
        inode: f[9].parse().ok()?,
        pids: Vec::new(),
    })
}

fn addr(s: &str) -> Option<String> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    match ip.len() {
        8 => {
            let v = u32::from_str_radix(ip, 16).ok()?;
            let a = std::net::Ipv4Addr::from(v.swap_bytes());
            Some(format!("{a}:{port}"))
        }
        32 => {
            let mut bytes = [0u8; 16];
            for w in 0..4 {
                let word = u32::from_str_radix(ip.get(w * 8..w * 8 + 8)?, 16).ok()?;
                bytes[w * 4..w * 4 + 4].copy_from_slice(&word.swap_bytes().to_be_bytes());
            }
            Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

fn tcp_state(hex: &str) -> &'static str {
    match hex {
        "01" => "ESTABLISHED",
        "02" => "SYN_SENT",
        "03" => "SYN_RECV",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_lines() {
        let l = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0";
        let s = parse_net_line("tcp", l).unwrap();
        assert_eq!(
            (
                s.local.as_str(),
                s.remote.as_str(),
                s.state.as_str(),
                s.uid,
                s.inode
            ),
            ("127.0.0.1:8080", "0.0.0.0:0", "LISTEN", 1000, 12345)
        );
        let l6 = "   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1";
        let s = parse_net_line("tcp6", l6).unwrap();
        assert_eq!(s.local, "[::1]:80");
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let p = processes(Path::new("/proc"), &[me, u32::MAX]);
        assert_eq!(p.len(), 1);
        assert!(p[0].exe_sha256.as_deref().is_some_and(|h| h.len() == 64));
        assert!(!p[0].cmdline.is_empty());
    }
}
