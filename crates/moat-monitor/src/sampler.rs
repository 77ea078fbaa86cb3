//! Sampling each running container from the host: its sockets (/proc/PID/net/{tcp,udp}
//! in the container's network namespace) and its cgroup (memory, OOM kills, CPU).

use crate::procinfo::{Proc, cgroup_paths, read_bounded};
use crate::{Msg, Sender};
use moat_model::runtime::{NetInfo, ResourceInfo};
use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sockets read per table at most.
const MAX_SOCKETS: usize = 65536;
/// Processes looked at per container when finding a socket's owner.
const MAX_PROCS: usize = 4096;

/// A running container the sampler watches.
#[derive(Debug, Clone)]
pub struct Target {
    /// Container id.
    pub id: String,
    /// Its init's host PID.
    pub pid: i64,
}

/// A socket found by sampling.
#[derive(Debug, Clone)]
pub struct NetMsg {
    pub time_ns: i64,
    pub container: String,
    pub kind: &'static str,
    pub net: NetInfo,
    pub pid: Option<i64>,
}

/// A cgroup reading worth an event.
#[derive(Debug, Clone)]
pub struct CgroupMsg {
    pub time_ns: i64,
    pub container: String,
    pub kind: &'static str,
    pub resource: ResourceInfo,
}

/// One parsed line of /proc/net/{tcp,udp}[6].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SockLine {
    pub local: (String, u16),
    pub remote: (String, u16),
    pub state: u8,
    pub inode: u64,
}

fn hex_ip(s: &str) -> Option<String> {
    if s.len() == 8 {
        let v = u32::from_str_radix(s, 16).ok()?;
        // Little-endian 32-bit words, as the kernel prints them.
        Some(Ipv4Addr::from(v.swap_bytes()).to_string())
    } else if s.len() == 32 {
        let mut bytes = [0u8; 16];
        for w in 0..4 {
            let word = u32::from_str_radix(&s[w * 8..w * 8 + 8], 16).ok()?;
            bytes[w * 4..w * 4 + 4].copy_from_slice(&word.swap_bytes().to_be_bytes());
        }
        let ip = Ipv6Addr::from(bytes);
        Some(match ip.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => ip.to_string(),
        })
    } else {
        None
    }
}

fn addr(s: &str) -> Option<(String, u16)> {
    let (ip, port) = s.split_once(':')?;
    Some((hex_ip(ip)?, u16::from_str_radix(port, 16).ok()?))
}

/// Parses a /proc/net/{tcp,udp}[6] table.
pub fn parse_sockets(text: &str) -> Vec<SockLine> {
    text.lines()
        .skip(1)
        .take(MAX_SOCKETS)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 10 {
                return None;
            }
            Some(SockLine {
                local: addr(f[1])?,
                remote: addr(f[2])?,
                state: u8::from_str_radix(f[3], 16).ok()?,
                inode: f[9].parse().ok()?,
            })
        })
        .collect()
}

fn is_unspecified(ip: &str) -> bool {
    ip == "0.0.0.0" || ip == "::"
}

fn is_loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1"
}

#[derive(Default)]
struct ContainerState {
    listens: BTreeSet<(String, u16)>,
    conns: BTreeSet<(String, String, u16, String, u16)>,
    oom_kills: Option<u64>,
    mem_high: bool,
    cpu_high: bool,
    cpu_prev: Option<(u64, Instant)>,
    mem_dir: Option<PathBuf>,
    cpu_dir: Option<PathBuf>,
    v2_dir: Option<PathBuf>,
    cgroup_root_pid: i64,
}

/// The sampler: `targets` is kept current by the pipeline.
pub fn run(
    targets: Arc<Mutex<Vec<Target>>>,
    interval: Duration,
    tx: Sender,
    stop: Arc<AtomicBool>,
) {
    let proc = Proc::default();
    let mut states: HashMap<String, ContainerState> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let list: Vec<Target> = targets.lock().map(|t| t.clone()).unwrap_or_default();
        states.retain(|id, _| list.iter().any(|t| &t.id == id));
        for t in &list {
            let st = states.entry(t.id.clone()).or_default();
            sample_net(&proc, t, st, &tx);
            sample_cgroup(&proc, t, st, &tx);
        }
        let spent = started.elapsed();
        if spent < interval {
            std::thread::sleep(interval - spent);
        }
    }
}

fn owner(proc: &Proc, t: &Target, st: &ContainerState, inode: u64) -> Option<i64> {
    if inode == 0 {
        return None;
    }
    let pids = match (&st.mem_dir, &st.v2_dir) {
        (Some(d), _) | (None, Some(d)) => Proc::cgroup_procs(d, MAX_PROCS),
        _ => vec![t.pid],
    };
    pids.into_iter()
        .find(|&p| proc.socket_inodes(p).contains(&inode))
}

fn sample_net(proc: &Proc, t: &Target, st: &mut ContainerState, tx: &Sender) {
    let mut listens = BTreeSet::new();
    let mut conns = BTreeSet::new();
    let mut found: Vec<(&'static str, NetInfo, u64)> = Vec::new();
    for proto in ["tcp", "tcp6", "udp", "udp6"] {
        let Some(text) = proc.read(t.pid, &format!("net/{proto}"), 16 << 20) else {
            continue;
        };
        let tcp = proto.starts_with("tcp");
        let socks = parse_sockets(&text);
        // Listening sockets first: their ports tell inbound from outbound connections.
        for s in &socks {
            let listening = if tcp {
                s.state == 0x0A
            } else {
                s.state == 0x07 && s.remote.1 == 0
            };
            // Loopback listeners are not reachable from outside the container (and the
            // engine's embedded DNS listens on 127.0.0.11 in user networks).
            if listening && !is_loopback(&s.local.0) {
                let key = (proto.trim_end_matches('6').to_string(), s.local.1);
                if listens.insert(key.clone()) && !st.listens.contains(&key) {
                    found.push((
                        "listen",
                        NetInfo {
                            proto: proto.to_string(),
                            direction: "listen".into(),
                            sip: s.local.0.clone(),
                            sport: s.local.1,
                            ..NetInfo::default()
                        },
                        s.inode,
                    ));
                }
            }
        }
        for s in &socks {
            // TCP: established or SYN_SENT; UDP: connected (state ESTABLISHED).
            let active = if tcp {
                s.state == 0x01 || s.state == 0x02
            } else {
                s.state == 0x01
            };
            if !active || is_unspecified(&s.remote.0) || is_loopback(&s.remote.0) {
                continue;
            }
            let base = proto.trim_end_matches('6');
            if listens.contains(&(base.to_string(), s.local.1)) {
                continue; // inbound to a listening port
            }
            let key = (
                base.to_string(),
                s.local.0.clone(),
                s.local.1,
                s.remote.0.clone(),
                s.remote.1,
            );
            if conns.insert(key.clone()) && !st.conns.contains(&key) {
                found.push((
                    "connect",
                    NetInfo {
                        proto: proto.to_string(),
                        direction: "outbound".into(),
                        sip: s.local.0.clone(),
                        sport: s.local.1,
                        dip: s.remote.0.clone(),
                        dport: s.remote.1,
                    },
                    s.inode,
                ));
            }
        }
    }
    if st.cgroup_root_pid != t.pid {
        locate_cgroup(proc, t, st);
    }
    for (kind, net, inode) in found {
        let pid = owner(proc, t, st, inode);
        tx.send(Msg::Net(NetMsg {
            time_ns: crate::now_ns(),
            container: t.id.clone(),
            kind,
            net,
            pid,
        }));
    }
    st.listens = listens;
    st.conns = conns;
}

fn locate_cgroup(proc: &Proc, t: &Target, st: &mut ContainerState) {
    st.cgroup_root_pid = t.pid;
    let Some(text) = proc.cgroup(t.pid) else {
        return;
    };
    let (v1, v2) = cgroup_paths(&text);
    let join = |base: &str, rel: &str| -> Option<PathBuf> {
        let p = Path::new(base).join(rel.trim_start_matches('/'));
        p.exists().then_some(p)
    };
    if let Some(rel) = v1 {
        st.mem_dir = join("/sys/fs/cgroup/memory", &rel);
        st.cpu_dir = join("/sys/fs/cgroup/cpuacct", &rel)
            .or_else(|| join("/sys/fs/cgroup/cpu,cpuacct", &rel));
    }
    if let Some(rel) = v2.filter(|r| r != "/") {
        st.v2_dir = join("/sys/fs/cgroup", &rel);
    }
}

fn read_u64(p: &Path) -> Option<u64> {
    read_bounded(p, 4096)?.trim().parse().ok()
}

fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn sample_cgroup(_proc: &Proc, t: &Target, st: &mut ContainerState, tx: &Sender) {
    let mut r = ResourceInfo::default();
    let mut cpu_ns = None;
    if let Some(d) = &st.mem_dir {
        r.memory_bytes = read_u64(&d.join("memory.usage_in_bytes")).unwrap_or(0);
        r.memory_limit = read_u64(&d.join("memory.limit_in_bytes")).unwrap_or(0);
        if r.memory_limit >= (1 << 62) {
            r.memory_limit = 0; // "unlimited" in v1
        }
        r.oom_kills = read_bounded(&d.join("memory.oom_control"), 4096)
            .and_then(|t| keyed(&t, "oom_kill"))
            .unwrap_or(0);
        r.pids = read_bounded(&d.join("cgroup.procs"), 1 << 20)
            .map(|t| t.lines().count() as u64)
            .unwrap_or(0);
    }
    if let Some(d) = &st.cpu_dir {
        cpu_ns = read_u64(&d.join("cpuacct.usage"));
    }
    if let Some(d) = &st.v2_dir {
        r.memory_bytes = read_u64(&d.join("memory.current")).unwrap_or(r.memory_bytes);
        r.memory_limit = read_u64(&d.join("memory.max")).unwrap_or(r.memory_limit);
        if let Some(t) = read_bounded(&d.join("memory.events"), 4096) {
            r.oom_kills = keyed(&t, "oom_kill").unwrap_or(r.oom_kills);
        }
        if let Some(t) = read_bounded(&d.join("cpu.stat"), 4096) {
            cpu_ns = keyed(&t, "usage_usec").map(|u| u.saturating_mul(1000));
        }
        r.pids = read_u64(&d.join("pids.current")).unwrap_or(r.pids);
    }
    if st.mem_dir.is_none() && st.v2_dir.is_none() {
        return;
    }
    let now = Instant::now();
    if let Some(ns) = cpu_ns {
        if let Some((prev, at)) = st.cpu_prev {
            let dt = now.duration_since(at).as_nanos().max(1);
            r.cpu_percent =
                u64::try_from(u128::from(ns.saturating_sub(prev)) * 100 / dt).unwrap_or(0);
        }
        st.cpu_prev = Some((ns, now));
    }
    let emit = |kind: &'static str, r: &ResourceInfo| {
        tx.send(Msg::Cgroup(CgroupMsg {
            time_ns: crate::now_ns(),
            container: t.id.clone(),
            kind,
            resource: r.clone(),
        }));
    };
    match st.oom_kills {
        Some(prev) if r.oom_kills > prev => emit("oom_kill", &r),
        _ => {}
    }
    st.oom_kills = Some(r.oom_kills);
    let high =
        r.memory_limit > 0 && r.memory_bytes.saturating_mul(10) >= r.memory_limit.saturating_mul(9);
    if high && !st.mem_high {
        emit("memory_high", &r);
    }
    st.mem_high = high;
    let cpu_high = r.cpu_percent >= 90;
    if cpu_high && !st.cpu_high {
        emit("cpu_high", &r);
    }
    st.cpu_high = cpu_high;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_tables() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0200DE0A:A2C4 0300DE0A:1F90 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 20 4 30 10 -1\n";
        let s = parse_sockets(tcp);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].local, ("0.0.0.0".to_string(), 8080));
        assert_eq!(s[0].state, 0x0A);
        assert_eq!(s[1].local.0, "10.222.0.2");
        assert_eq!(s[1].remote, ("10.222.0.3".to_string(), 8080));
        assert_eq!(s[1].inode, 12346);
        let v6 = "x\n 0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 77 1\n 1: 0000000000000000FFFF00000200DE0A:0050 0000000000000000FFFF00000300DE0A:9C40 01 0:0 0:0 0 0 0 78 1\n";
        let s = parse_sockets(v6);
        assert_eq!(s[0].local, ("::".to_string(), 80));
        assert_eq!(s[1].remote, ("10.222.0.3".to_string(), 40000));
    }
}
