//! The host's side of a live engine: what each container's network namespace listens
//! on (/proc/PID/net/{tcp,tcp6,udp,udp6}), dockerd's isolation settings (its command
//! line and daemon.json), `ip_forward`, and the firewall chains Docker relies on
//! (`iptables-save`). Every read is bounded; every path is under a configurable /proc.

use moat_model::network::{Listener, PortProto, Proto};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes read of one /proc file.
const MAX_PROC_BYTES: u64 = 4 << 20;
/// Sockets kept per container.
const MAX_LISTENERS: usize = 4096;
/// Bytes of `iptables-save` output read.
const MAX_FIREWALL_BYTES: usize = 16 << 20;

/// Where and how the host is read.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// The host's /proc.
    pub proc: PathBuf,
    /// Run this program to read the firewall (`iptables-save`); `None`: do not.
    pub iptables_save: Option<String>,
    /// The same for IPv6 (`ip6tables-save`: its FORWARD policy).
    pub ip6tables_save: Option<String>,
    /// How long `iptables-save` may take.
    pub firewall_timeout: Duration,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            proc: PathBuf::from("/proc"),
            iptables_save: Some("iptables-save".to_string()),
            ip6tables_save: Some("ip6tables-save".to_string()),
            firewall_timeout: Duration::from_secs(10),
        }
    }
}

fn read_bounded(p: &Path, max: u64) -> Option<String> {
    let f = std::fs::File::open(p).ok()?;
    let mut s = String::new();
    f.take(max).read_to_string(&mut s).ok()?;
    Some(s)
}

/// An address of /proc/net/tcp (hex, each 32-bit word in host byte order).
fn hex_addr(h: &str) -> Option<String> {
    let words: Vec<u32> = (0..h.len() / 8)
        .map(|i| u32::from_str_radix(h.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    match words.as_slice() {
        [w] => Some(std::net::Ipv4Addr::from(w.to_ne_bytes()).to_string()),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            let v6 = std::net::Ipv6Addr::from(bytes);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            })
        }
        _ => None,
    }
}

/// Listening sockets in one /proc/net table: TCP in state LISTEN (0A), UDP bound and
/// unconnected (07).
pub fn parse_table(text: &str, proto: Proto) -> Vec<Listener> {
    let want = if proto == Proto::Tcp { "0A" } else { "07" };
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(st)) = (f.get(1), f.get(3)) else {
            continue;
        };
        if *st != want {
            continue;
        }
        let Some((a, p)) = local.split_once(':') else {
            continue;
        };
        let (Some(address), Ok(port)) = (hex_addr(a), u16::from_str_radix(p, 16)) else {
            continue;
        };
        out.push(Listener {
            address,
            port: PortProto { port, proto },
        });
        if out.len() >= MAX_LISTENERS {
            break;
        }
    }
    out
}

/// What the network namespace of process `pid` listens on; `None` when it cannot be read.
pub fn listeners(proc: &Path, pid: u32) -> Option<Vec<Listener>> {
    let dir = proc.join(pid.to_string()).join("net");
    let mut out = Vec::new();
    let mut any = false;
    for (file, proto) in [
        ("tcp", Proto::Tcp),
        ("tcp6", Proto::Tcp),
        ("udp", Proto::Udp),
        ("udp6", Proto::Udp),
    ] {
        if let Some(t) = read_bounded(&dir.join(file), MAX_PROC_BYTES) {
            any = true;
            out.extend(parse_table(&t, proto));
        }
    }
    out.truncate(MAX_LISTENERS);
    out.sort();
    out.dedup();
    any.then_some(out)
}

/// dockerd's settings that decide isolation, with where each was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSettings {
    pub iptables: Option<bool>,
    pub icc: Option<bool>,
    pub userland_proxy: Option<bool>,
    pub ip_forward: Option<bool>,
    pub ip6tables: Option<bool>,
    pub ip6_forward: Option<bool>,
    pub bridge_nf_call_iptables: Option<bool>,
    pub sources: Vec<String>,
    pub notes: Vec<String>,
}

fn cmdline(proc: &Path, pid: &str) -> Option<Vec<String>> {
    let raw = std::fs::read(proc.join(pid).join("cmdline")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// The dockerd serving `socket` (its command line names it), else the only dockerd.
pub fn find_dockerd(proc: &Path, socket: Option<&Path>) -> Option<Vec<String>> {
    let mut candidates = Vec::new();
    for e in std::fs::read_dir(proc).ok()?.flatten().take(1 << 20) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if comm.trim() != "dockerd" {
            continue;
        }
        if let Some(args) = cmdline(proc, &name) {
            candidates.push(args);
        }
    }
    if let Some(s) = socket {
        let s = s.display().to_string();
        if let Some(c) = candidates
            .iter()
            .find(|args| args.iter().any(|a| a.ends_with(&s)))
        {
            return Some(c.clone());
        }
    }
    match candidates.len() {
        1 => candidates.pop(),
        _ => None,
    }
}

/// A boolean flag on a command line (`--icc=false`, `--icc false`, `--icc`).
fn flag(args: &[String], name: &str) -> Option<bool> {
    let mut val = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(v) = a.strip_prefix(name) {
            if let Some(v) = v.strip_prefix('=') {
                val = Some(v == "true" || v == "1");
            } else if v.is_empty() {
                match args.get(i + 1).map(String::as_str) {
                    Some("true") | Some("1") => {
                        val = Some(true);
                        i += 1;
                    }
                    Some("false") | Some("0") => {
                        val = Some(false);
                        i += 1;
                    }
                    _ => val = Some(true),
                }
            }
        }
        i += 1;
    }
    val
}

fn value(args: &[String], name: &str) -> Option<String> {
    let mut out = None;
    for (i, a) in args.iter().enumerate() {
        if let Some(v) = a.strip_prefix(name) {
            if let Some(v) = v.strip_prefix('=') {
                out = Some(v.to_string());
            } else if v.is_empty() {
                out = args.get(i + 1).cloned();
            }
        }
    }
    out
}

/// dockerd's isolation settings: the command line wins over daemon.json; `ip_forward`
/// is the kernel's.
pub fn daemon_settings(proc: &Path, socket: Option<&Path>) -> DaemonSettings {
    let mut s = DaemonSettings::default();
    let args = find_dockerd(proc, socket);
    let config_path = args
        .as_deref()
        .and_then(|a| value(a, "--config-file"))
        .unwrap_or_else(|| "/etc/docker/daemon.json".to_string());
    let config: Option<serde_json::Value> = if args.is_some() {
        read_bounded(Path::new(&config_path), 1 << 20).and_then(|t| serde_json::from_str(&t).ok())
    } else {
        None
    };
    if args.is_none() {
        s.notes.push(
            "dockerd's command line not found on this host: its iptables, icc and userland-proxy settings are unknown (defaults assumed)"
                .to_string(),
        );
    }
    let args = args.unwrap_or_default();
    for (flag_name, key, slot) in [
        ("--iptables", "iptables", &mut s.iptables),
        ("--icc", "icc", &mut s.icc),
        ("--userland-proxy", "userland-proxy", &mut s.userland_proxy),
        ("--ip-forward", "ip-forward", &mut s.ip_forward),
    ] {
        if let Some(v) = flag(&args, flag_name) {
            *slot = Some(v);
            s.sources.push(format!("dockerd {flag_name}={v}"));
        } else if let Some(v) = config
            .as_ref()
            .and_then(|c| c.get(key))
            .and_then(|v| v.as_bool())
        {
            *slot = Some(v);
            s.sources.push(format!("{config_path} \"{key}\": {v}"));
        } else if !args.is_empty() {
            // Not set: the engine's default (on).
            *slot = Some(true);
            s.sources
                .push(format!("dockerd {flag_name} not set (default true)"));
        }
    }
    // ip6tables: off unless set (Docker 20.10 to 26); the caller corrects the default
    // from the engine's version.
    if let Some(v) = flag(&args, "--ip6tables") {
        s.ip6tables = Some(v);
        s.sources.push(format!("dockerd --ip6tables={v}"));
    } else if let Some(v) = config
        .as_ref()
        .and_then(|c| c.get("ip6tables"))
        .and_then(|v| v.as_bool())
    {
        s.ip6tables = Some(v);
        s.sources.push(format!("{config_path} \"ip6tables\": {v}"));
    }
    if let Some(v) = read_bounded(&proc.join("sys/net/ipv6/conf/all/forwarding"), 64) {
        s.ip6_forward = Some(v.trim() == "1");
        s.sources.push(format!(
            "{}/sys/net/ipv6/conf/all/forwarding={}",
            proc.display(),
            v.trim()
        ));
    }
    if let Some(v) = read_bounded(&proc.join("sys/net/bridge/bridge-nf-call-iptables"), 64) {
        s.bridge_nf_call_iptables = Some(v.trim() == "1");
        s.sources.push(format!(
            "{}/sys/net/bridge/bridge-nf-call-iptables={}",
            proc.display(),
            v.trim()
        ));
    }
    // The daemon's ip-forward setting asks the kernel to forward; the kernel's value is what counts.
    if let Some(v) = read_bounded(&proc.join("sys/net/ipv4/ip_forward"), 64) {
        let on = v.trim() == "1";
        s.ip_forward = Some(on);
        s.sources.push(format!(
            "{}/sys/net/ipv4/ip_forward={}",
            proc.display(),
            v.trim()
        ));
    }
    s
}

/// What `iptables-save` shows of Docker's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Firewall {
    /// Chains whose name starts with DOCKER.
    pub chains: Vec<String>,
    /// The filter table's FORWARD policy.
    pub forward_policy: Option<String>,
    /// Bridges with both isolation rules (stage 1 and stage 2), or an internal
    /// network's.
    pub isolated_bridges: Vec<String>,
    /// Bridges whose outgoing traffic to other bridges DOCKER-ISOLATION-STAGE-1 sends to
    /// stage 2.
    pub isolation_stage1: Vec<String>,
    /// Bridges DOCKER-ISOLATION-STAGE-2 drops incoming traffic from other bridges for.
    pub isolation_stage2: Vec<String>,
    /// The filter table's `-A DOCKER-USER …` lines, in order.
    pub docker_user: Vec<String>,
}

/// Parses `iptables-save` output.
pub fn parse_iptables_save(text: &str) -> Firewall {
    let mut fw = Firewall::default();
    let mut table = "";
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim();
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            let mut parts = c.split_whitespace();
            let name = parts.next().unwrap_or("");
            let policy = parts.next().unwrap_or("-");
            if name.starts_with("DOCKER") && !fw.chains.iter().any(|x| x == name) {
                fw.chains.push(name.to_string());
            }
            if table == "filter" && name == "FORWARD" {
                fw.forward_policy = Some(policy.to_string());
            }
            continue;
        }
        if table == "filter" && line.starts_with("-A DOCKER-USER ") {
            fw.docker_user.push(line.trim().to_string());
            continue;
        }
        if table == "filter"
            && let Some(rule) = line.strip_prefix("-A DOCKER-ISOLATION-STAGE-")
        {
            let words: Vec<&str> = rule.split_whitespace().collect();
            let stage = words.first().copied().unwrap_or("");
            let target = words.windows(2).find(|w| w[0] == "-j").map_or("", |w| w[1]);
            // The bridge named without `!` before it.
            let named = |opt: &str| {
                words
                    .windows(2)
                    .enumerate()
                    .find(|(i, w)| w[0] == opt && (*i == 0 || words[i - 1] != "!"))
                    .map(|(_, w)| w[1].to_string())
            };
            let push = |v: &mut Vec<String>, b: String| {
                if !v.contains(&b) {
                    v.push(b);
                }
            };
            match (stage, target) {
                // Stage 1: traffic leaving bridge X for another bridge goes to stage 2.
                ("1", "DOCKER-ISOLATION-STAGE-2") => {
                    if let Some(b) = named("-i") {
                        push(&mut fw.isolation_stage1, b);
                    }
                }
                // Stage 1 DROP: an internal network's rules (nothing in or out).
                ("1", "DROP") => {
                    for b in [named("-i"), named("-o")].into_iter().flatten() {
                        push(&mut fw.isolation_stage1, b.clone());
                        push(&mut fw.isolation_stage2, b);
                    }
                }
                // Stage 2: traffic from another bridge into bridge X is dropped.
                ("2", "DROP") => {
                    if let Some(b) = named("-o") {
                        push(&mut fw.isolation_stage2, b);
                    }
                }
                _ => {}
            }
        }
    }
    // Fully isolated: both stages present.
    fw.isolated_bridges = fw
        .isolation_stage1
        .iter()
        .filter(|b| fw.isolation_stage2.contains(b))
        .cloned()
        .collect();
    fw.isolation_stage1.sort();
    fw.isolation_stage2.sort();
    fw.chains.sort();
    fw.isolated_bridges.sort();
    fw
}

/// Errors reading the firewall.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("{program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program}: no answer within {secs} s")]
    Timeout { program: String, secs: u64 },
    #[error("{program} failed: {stderr}")]
    Failed { program: String, stderr: String },
}

/// Runs `program` (iptables-save) with a time and size bound.
pub fn read_firewall(program: &str, timeout: Duration) -> Result<Firewall, FirewallError> {
    let mut child = std::process::Command::new(program)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|source| FirewallError::Spawn {
            program: program.to_string(),
            source,
        })?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = stdout {
            let _ = o.take(MAX_FIREWALL_BYTES as u64).read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(FirewallError::Timeout {
                    program: program.to_string(),
                    secs: timeout.as_secs(),
                });
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = (&mut e).take(4096).read_to_string(&mut err);
        }
        return Err(FirewallError::Failed {
            program: program.to_string(),
            stderr: err.trim().to_string(),
        });
    }
    Ok(parse_iptables_save(&String::from_utf8_lossy(&out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_tables() {
        // Captured from a busybox `nc -lk -p 5432` and a UDP socket.
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n   2: 0200A8C0:9C40 0100A8C0:1538 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n";
        let l = parse_table(tcp, Proto::Tcp);
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].address.as_str(), l[0].port.port), ("0.0.0.0", 5432));
        assert!(l[1].loopback());
        let tcp6 = "  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 0\n   1: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0\n";
        let l = parse_table(tcp6, Proto::Tcp);
        assert_eq!((l[0].address.as_str(), l[0].port.port), ("::", 8080));
        assert_eq!(l[1].address, "::1");
        let udp = "  sl  local_address rem_address   st\n  1: 00000000:0035 00000000:0000 07 0\n";
        assert_eq!(parse_table(udp, Proto::Udp)[0].port.port, 53);
    }

    #[test]
    fn parses_iptables_save() {
        let t = "*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:DOCKER-ISOLATION-STAGE-1 - [0:0]\n:DOCKER-USER - [0:0]\n-A DOCKER-ISOLATION-STAGE-1 -i br-1 ! -o br-1 -j DOCKER-ISOLATION-STAGE-2\n-A DOCKER-ISOLATION-STAGE-2 -o br-1 -j DROP\n-A DOCKER-ISOLATION-STAGE-2 -o mt-x -j DROP\nCOMMIT\n";
        let f = parse_iptables_save(t);
        assert_eq!(f.forward_policy.as_deref(), Some("DROP"));
        assert_eq!(
            f.chains,
            ["DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-USER"]
        );
        assert_eq!(f.isolated_bridges, ["br-1"], "mt-x has no stage-1 rule");
        assert_eq!(f.isolation_stage2, ["br-1", "mt-x"]);
        // An internal network's rules isolate it both ways.
        let internal = "*filter\n-A DOCKER-ISOLATION-STAGE-1 ! -s 10.214.2.0/24 -o br-int -j DROP\n-A DOCKER-ISOLATION-STAGE-1 ! -d 10.214.2.0/24 -i br-int -j DROP\nCOMMIT\n";
        assert_eq!(parse_iptables_save(internal).isolated_bridges, ["br-int"]);
    }

    #[test]
    fn flags() {
        let a: Vec<String> = [
            "dockerd",
            "--iptables=false",
            "--icc",
            "false",
            "--userland-proxy",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(flag(&a, "--iptables"), Some(false));
        assert_eq!(flag(&a, "--icc"), Some(false));
        assert_eq!(flag(&a, "--userland-proxy"), Some(true));
        assert_eq!(flag(&a, "--ip-forward"), None);
    }
}
