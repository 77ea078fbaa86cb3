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

/// Receive buffer asked of the kernel for the connector socket.
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

/// Reads events until `stop`; sends container processes' exec and uid events, and a
/// drop count whenever events were lost.
pub fn run(tx: Sender, stop: Arc<AtomicBool>) {
    let socket = match open() {
        Ok(s) => s,
        Err(e) => {
            tx.note("proc", &format!("unavailable: {e}"));
            return;
        }
    };
    let proc = Proc::default();
    let mut last_seq: HashMap<u32, u32> = HashMap::new();
    // Exec events whose process was gone before /proc could be read (its container,
    // if any, unknown): reported every 10 s, never silently lost.
    let mut gone = 0u64;
    let mut gone_since = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let msgs = match socket.recv::<Nlmsg, CnMsg<ProcEventHeader>>() {
            Ok((msgs, _)) => msgs,
            Err(e) if is_enobufs(&e) => {
                // The kernel dropped at least one message; the sequence gaps below tell
                // how many once the next ones arrive.
                tx.dropped(0, "proc connector: receive buffer overrun (ENOBUFS)");
                continue;
            }
            Err(e) => {
                tx.note("proc", &format!("proc connector stopped: {e}"));
                return;
            }
        };
        let mut lost = 0u64;
        for m in msgs {
            let Ok(m) = m else { continue };
            let Some(cn) = m.get_payload() else { continue };
            let hdr = cn.payload();
            let seq = *cn.seq();
            if let Some(prev) = last_seq.insert(hdr.cpu, seq)
                && seq > prev.wrapping_add(1)
                && seq.wrapping_sub(prev) < (1 << 30)
            {
                lost += u64::from(seq - prev - 1);
            }
            let (kind, pid) = match hdr.event {
                ProcEvent::Exec {
                    process_tgid,
                    process_pid,
                } if process_pid == process_tgid => ("execve", i64::from(process_tgid)),
                ProcEvent::Uid {
                    process_pid,
                    process_tgid,
                    ..
                } if process_pid == process_tgid => ("setuid", i64::from(process_tgid)),
                _ => continue,
            };
            // Read at once: a short-lived process may be gone in a moment.
            let Some(container) = proc.container_of(pid) else {
                if kind == "execve" && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    gone += 1;
                }
                continue;
            };
            let Some(process) = proc.process(pid) else {
                continue;
            };
            tx.send(Msg::Proc(ProcMsg {
                kind,
                ktime: hdr.timestamp_ns,
                time_ns: now_ns(),
                container,
                process,
            }));
        }
        if gone > 0 && gone_since.elapsed() >= std::time::Duration::from_secs(10) {
            tx.note(
                "proc",
                &format!("{gone} exec events of processes that exited before /proc could be read (container unknown)"),
            );
            gone = 0;
            gone_since = std::time::Instant::now();
        }
        if lost > 0 {
            tx.dropped(
                lost,
                "proc connector: sequence gap (events lost in the kernel)",
            );
        }
    }
}
