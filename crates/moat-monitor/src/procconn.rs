//! The kernel's process-events connector (netlink `NETLINK_CONNECTOR`, `CN_IDX_PROC`):
//! exec and uid changes of every process on the host, kept when the process runs in a
//! container. Lost events are counted two ways: `ENOBUFS` from the socket (the receive
//! buffer overran) and gaps in the per-CPU sequence numbers of the messages.

use crate::procinfo::Proc;
use crate::{Msg, Sender};
use moat_model::runtime::ProcessInfo;
use neli::connector::{CnMsg, CnMsgBuilder, ProcEvent, ProcEventHeader};
use neli::consts::connector::{CnMsgIdx, CnMsgVal, ProcCnMcastOp};
use neli::consts::nl::{NlmF, Nlmsg};
use neli::consts::socket::NlFamily;
use neli::err::SocketError;
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::synchronous::NlSocketHandle;
use neli::utils::Groups;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Receive buffer asked of the kernel for the connector socket (capped by
/// `net.core.rmem_max`; the kernel doubles it for its bookkeeping): with the default
/// 8 MiB about 10,000 connector messages wait while the reader is not scheduled.
const RECV_BUFFER: usize = 8 << 20;

/// A process event of a containerised process.
#[derive(Debug, Clone)]
pub struct ProcMsg {
    /// `execve` or `setuid`.
    pub kind: &'static str,
    /// The connector's timestamp (ns since boot), for the key.
    pub ktime: u64,
    /// Wall time it was read, unix ns.
    pub time_ns: i64,
    /// Its container.
    pub container: String,
    /// The process.
    pub process: ProcessInfo,
}

/// The connector could not be opened (not root, not the host's PID namespace…).
#[derive(Debug, thiserror::Error)]
#[error("proc connector: {0}")]
pub struct ConnectorError(String);

/// Opens the connector socket and subscribes (needs root in the host's PID namespace).
pub fn open() -> Result<NlSocketHandle, ConnectorError> {
    let pid = std::process::id();
    let socket = NlSocketHandle::connect(
        NlFamily::Connector,
        None,
        Groups::new_bitmask(CnMsgIdx::Proc.into()),
    )
    .map_err(|e| ConnectorError(e.to_string()))?;
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    let subscribe = NlmsghdrBuilder::default()
        .nl_type(Nlmsg::Done)
        .nl_flags(NlmF::empty())
        .nl_pid(pid)
        .nl_payload(NlPayload::Payload(
            CnMsgBuilder::default()
                .idx(CnMsgIdx::Proc)
                .val(CnMsgVal::Proc)
                .payload(ProcCnMcastOp::Listen)
                .build()
                .map_err(|e| ConnectorError(e.to_string()))?,
        ))
        .build()
        .map_err(|e| ConnectorError(e.to_string()))?;
    socket
        .send(&subscribe)
        .map_err(|e| ConnectorError(format!("subscribe: {e}")))?;
    Ok(socket)
}

fn is_enobufs(e: &SocketError) -> bool {
    match e {
        SocketError::Io(io) => io.raw_os_error() == Some(105),
        _ => false,
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Most live processes the reader remembers (container processes only; a fork beyond it
/// is not remembered, and its exec then depends on /proc alone).
const MAX_TRACKED: usize = 1 << 17;

/// What the reader knows of live container processes from fork and exit events, so that
/// a process that exec'd and exited before /proc could be read is still attributed to
/// its container (a child starts in its parent's cgroup): without it, most short-lived
/// executions (`sh -c 'cmd'` loops) would be lost.
#[derive(Debug, Default)]
pub struct Tracker {
    /// pid → (container, parent pid).
    live: HashMap<i64, (String, i64)>,
    /// Live processes known to be the host's (their /proc said so, or their parent's
    /// did when they forked): their forks need no /proc read. A process that joins a
    /// container's cgroup later (`runc init` of a `docker exec`) is read again at its
    /// exec, which always reads /proc.
    host: std::collections::HashSet<i64>,
}

impl Tracker {
    /// A process forked: it is in its parent's container, if the parent is in one.
    pub fn fork(&mut self, proc: &Proc, parent: i64, child: i64) {
        let container = match self.live.get(&parent) {
            Some((c, _)) => Some(c.clone()),
            None if self.host.contains(&parent) => None,
            None => {
                let read = proc.container_of(parent);
                if read.is_none() && self.host.len() < MAX_TRACKED {
                    self.host.insert(parent);
                }
                read
            }
        };
        match container {
            Some(c) if self.live.len() < MAX_TRACKED || self.live.contains_key(&child) => {
                self.host.remove(&child);
                self.live.insert(child, (c, parent));
            }
            Some(_) => {}
            None => {
                if self.host.len() < MAX_TRACKED {
                    self.host.insert(child);
                }
            }
        }
    }

    /// A process exited.
    pub fn exit(&mut self, pid: i64) {
        self.live.remove(&pid);
        self.host.remove(&pid);
    }

    /// A process exec'd: its container and what can be known of it. /proc first (runc
    /// moves a `docker exec` process into the container's cgroup after the fork), then
    /// what fork events said; None for a host process.
    pub fn exec(&mut self, proc: &Proc, pid: i64) -> Option<(String, ProcessInfo)> {
        let read = proc.container_of(pid);
        if read.is_some() {
            self.host.remove(&pid);
        }
        let container = match read {
            Some(c) => {
                if self.live.len() < MAX_TRACKED || self.live.contains_key(&pid) {
                    let ppid = self.live.get(&pid).map_or(0, |(_, p)| *p);
                    self.live.insert(pid, (c.clone(), ppid));
                }
                c
            }
            None => self.live.get(&pid)?.0.clone(),
        };
        let process = proc.process(pid).unwrap_or_else(|| {
            // Gone already: its pid and parent; the executable is not known.
            let ppid = self.live.get(&pid).map_or(0, |(_, p)| *p);
            let (pname, pcmdline) = proc.name_and_cmdline(ppid).unwrap_or_default();
            ProcessInfo {
                pid,
                ppid,
                vpid: 0,
                uid: -1,
                pname,
                pcmdline,
                ..ProcessInfo::default()
            }
        });
        Some((container, process))
    }

    /// Processes remembered.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.live.len()
    }
}

/// What the drain thread passes on: the connector messages that matter, parsed.
#[derive(Debug, Clone, Copy)]
enum Raw {
    Fork { parent: i64, child: i64 },
    Exit { pid: i64 },
    Exec { pid: i64, ktime: u64 },
    Uid { pid: i64, ktime: u64 },
}

/// A batch from the drain thread: the events of one receive, and what was lost.
#[derive(Debug, Default)]
struct Batch {
    events: Vec<Raw>,
    /// Messages lost in the kernel (sequence gaps).
    lost: u64,
    /// The receive buffer overran (ENOBUFS) before this batch.
    overrun: bool,
}

/// Batches queued between the drain thread and the /proc reader. The drain thread waits
/// for room (the socket buffer then absorbs, and what the kernel drops is counted).
const DRAIN_QUEUE: usize = 1 << 14;

/// Reads events until `stop`; sends container processes' exec and uid events, and a
/// drop count whenever events were lost.
///
/// Two threads: one only drains the socket (parse, sequence check) so that the kernel's
/// buffer does not overrun while /proc is read; this one maps processes to containers.
pub fn run(tx: Sender, stop: Arc<AtomicBool>) {
    let socket = match open() {
        Ok(s) => s,
        Err(e) => {
            tx.note("proc", &format!("unavailable: {e}"));
            return;
        }
    };
    let (btx, brx) = std::sync::mpsc::sync_channel::<Batch>(DRAIN_QUEUE);
    let drain_tx = tx.clone();
    let drain_stop = stop.clone();
    let drain = std::thread::spawn(move || drain(&socket, &btx, &drain_tx, &drain_stop));
    process(&brx, &tx);
    let _ = drain.join();
}

/// The drain thread's nice value, above the rest of the monitor ([`crate::MONITOR_NICE`]):
/// it does little (receive and parse) but must run as soon as messages arrive, even when
/// the containers keep every core busy; otherwise the kernel drops what does not fit the
/// socket's buffer. Needs root; ignored without.
const DRAIN_NICE: i32 = -15;

/// The drain thread: receive, parse, count gaps, queue.
fn drain(
    socket: &NlSocketHandle,
    out: &std::sync::mpsc::SyncSender<Batch>,
    tx: &Sender,
    stop: &AtomicBool,
) {
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), DRAIN_NICE);
    let mut last_seq: HashMap<u32, u32> = HashMap::new();
    let mut overrun = false;
    while !stop.load(Ordering::Relaxed) {
        let msgs = match socket.recv::<Nlmsg, CnMsg<ProcEventHeader>>() {
            Ok((msgs, _)) => msgs,
            Err(e) if is_enobufs(&e) => {
                // The kernel dropped at least one message; the sequence gaps tell how
                // many once the next ones arrive.
                overrun = true;
                continue;
            }
            Err(e) => {
                tx.note("proc", &format!("proc connector stopped: {e}"));
                return;
            }
        };
        let mut batch = Batch {
            overrun: std::mem::take(&mut overrun),
            ..Batch::default()
        };
        for m in msgs {
            let Ok(m) = m else { continue };
            let Some(cn) = m.get_payload() else { continue };
            let hdr = cn.payload();
            let seq = *cn.seq();
            if let Some(prev) = last_seq.insert(hdr.cpu, seq)
                && seq > prev.wrapping_add(1)
                && seq.wrapping_sub(prev) < (1 << 30)
            {
                batch.lost += u64::from(seq - prev - 1);
            }
            let raw = match hdr.event {
                ProcEvent::Fork {
                    parent_tgid,
                    child_pid,
                    child_tgid,
                    ..
                } if child_pid == child_tgid => Raw::Fork {
                    parent: i64::from(parent_tgid),
                    child: i64::from(child_tgid),
                },
                ProcEvent::Exit {
                    process_pid,
                    process_tgid,
                    ..
                } if process_pid == process_tgid => Raw::Exit {
                    pid: i64::from(process_tgid),
                },
                ProcEvent::Exec {
                    process_tgid,
                    process_pid,
                } if process_pid == process_tgid => Raw::Exec {
                    pid: i64::from(process_tgid),
                    ktime: hdr.timestamp_ns,
                },
                ProcEvent::Uid {
                    process_pid,
                    process_tgid,
                    ..
                } if process_pid == process_tgid => Raw::Uid {
                    pid: i64::from(process_tgid),
                    ktime: hdr.timestamp_ns,
                },
                _ => continue,
            };
            batch.events.push(raw);
        }
        if batch.events.is_empty() && batch.lost == 0 && !batch.overrun {
            continue;
        }
        if out.send(batch).is_err() {
            return;
        }
    }
}

/// The /proc side: containers and process descriptions for the drained events.
fn process(batches: &std::sync::mpsc::Receiver<Batch>, tx: &Sender) {
    let proc = Proc::default();
    let mut tracker = Tracker::default();
    // Exec events whose process was gone before /proc could be read (its container,
    // if any, unknown): reported every 10 s, never silently lost.
    let mut gone = 0u64;
    let mut gone_since = std::time::Instant::now();
    while let Ok(batch) = batches.recv() {
        if batch.overrun {
            tx.dropped(0, "proc connector: receive buffer overrun (ENOBUFS)");
        }
        for raw in batch.events {
            let (kind, pid, ktime) = match raw {
                Raw::Fork { parent, child } => {
                    tracker.fork(&proc, parent, child);
                    continue;
                }
                Raw::Exit { pid } => {
                    tracker.exit(pid);
                    continue;
                }
                Raw::Exec { pid, ktime } => ("execve", pid, ktime),
                Raw::Uid { pid, ktime } => ("setuid", pid, ktime),
            };
            let (container, process) = if kind == "execve" {
                match tracker.exec(&proc, pid) {
                    Some(found) => found,
                    None => {
                        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                            gone += 1;
                        }
                        continue;
                    }
                }
            } else {
                let Some(container) = proc.container_of(pid) else {
                    continue;
                };
                let Some(process) = proc.process(pid) else {
                    continue;
                };
                (container, process)
            };
            tx.send(Msg::Proc(ProcMsg {
                kind,
                ktime,
                time_ns: now_ns(),
                container,
                process,
            }));
        }
        if gone > 0 && gone_since.elapsed() >= std::time::Duration::from_secs(10) {
            tx.note(
                "proc",
                &format!("{gone} exec events of processes that exited before /proc could be read and whose fork was not seen (container unknown)"),
            );
            gone = 0;
            gone_since = std::time::Instant::now();
        }
        if batch.lost > 0 {
            tx.dropped(
                batch.lost,
                "proc connector: sequence gap (events lost in the kernel)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake /proc with `pid`'s cgroup (and status when `alive`).
    fn put(root: &std::path::Path, pid: i64, cgroup: &str, name: &str) {
        let d = root.join(pid.to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("cgroup"), cgroup).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\t{name}\nPPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t{pid}\t7\n"),
        )
        .unwrap();
        std::fs::write(d.join("cmdline"), format!("{name}\0-c\0loop")).unwrap();
    }

    #[test]
    fn a_short_lived_child_is_attributed_through_its_parents_fork() {
        let dir = tempfile::tempdir().unwrap();
        let proc = Proc::at(dir.path());
        let id = "a".repeat(64);
        put(
            dir.path(),
            100,
            &format!("0::/system.slice/docker-{id}.scope\n"),
            "sh",
        );
        put(dir.path(), 200, "0::/user.slice\n", "bash");
        let mut t = Tracker::default();
        // A container shell forks a child that execs and exits before /proc is read.
        t.fork(&proc, 100, 101);
        let (c, p) = t.exec(&proc, 101).unwrap();
        assert_eq!(c, id);
        assert_eq!((p.pid, p.ppid, p.pname.as_str()), (101, 100, "sh"));
        assert_eq!(p.pcmdline, "sh -c loop");
        assert!(
            p.name.is_empty(),
            "the executable of a gone process is not guessed"
        );
        // Its own child inherits through it, even though 101 was never in /proc.
        t.fork(&proc, 101, 102);
        assert_eq!(t.exec(&proc, 102).unwrap().0, id);
        // Exits forget; a host process is nobody's business.
        t.exit(101);
        t.exit(102);
        assert!(t.exec(&proc, 101).is_none());
        t.fork(&proc, 200, 201);
        assert!(t.exec(&proc, 201).is_none());
        assert!(t.exec(&proc, 200).is_none());
        // A process read from /proc is described from /proc.
        let (c, p) = t.exec(&proc, 100).unwrap();
        assert_eq!(
            (c.as_str(), p.name.as_str(), p.vpid),
            (id.as_str(), "sh", 7)
        );
        assert_eq!(t.remembered(), 1);
        // A host-forked process that joins a container before its exec (runc
        // init of `docker exec`) is the container's: exec always reads /proc.
        put(
            dir.path(),
            201,
            &format!("0::/system.slice/docker-{id}.scope\n"),
            "sh",
        );
        assert_eq!(t.exec(&proc, 201).unwrap().0, id);
        t.fork(&proc, 201, 204);
        assert_eq!(t.exec(&proc, 204).unwrap().0, id);
    }
}
