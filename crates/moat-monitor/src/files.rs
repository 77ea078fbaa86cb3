//! File writes in containers' writable layers: inotify on each container's overlay upper
//! directory, watched recursively from the host. A write shows up there as soon as the
//! container writes (copy-up puts every modified file in the upper directory).

use crate::{Msg, Sender};
use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
use moat_model::runtime::FileInfo;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// Directories watched at most (all containers together).
pub const MAX_WATCHES: usize = 8192;
/// Depth below the upper directory watched.
const MAX_DEPTH: usize = 32;

/// A request to watch (`Some(upper)`) or forget (`None`) a container's upper directory.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub container: String,
    pub upper: Option<PathBuf>,
}

/// A file write.
#[derive(Debug, Clone)]
pub struct FileMsg {
    pub time_ns: i64,
    pub container: String,
    pub file: FileInfo,
}

struct Watched {
    container: String,
    upper: PathBuf,
    dir: PathBuf,
}

struct State {
    inotify: Inotify,
    watches: HashMap<WatchDescriptor, Watched>,
    recent: HashMap<(String, String), Instant>,
    full_reported: bool,
}

fn mask() -> WatchMask {
    WatchMask::CLOSE_WRITE | WatchMask::MOVED_TO | WatchMask::CREATE | WatchMask::ONLYDIR
}

impl State {
    fn emit(&mut self, tx: &Sender, container: &str, upper: &Path, path: &Path, op: &str) {
        let Ok(rel) = path.strip_prefix(upper) else {
            return;
        };
        let inside = format!("/{}", rel.to_string_lossy());
        // One event per file per second: an editor's create+write+rename is one write.
        let key = (container.to_string(), inside.clone());
        let now = Instant::now();
        if let Some(t) = self.recent.get(&key)
            && now.duration_since(*t) < Duration::from_secs(1)
        {
            return;
        }
        self.recent.insert(key, now);
        if self.recent.len() > 65536 {
            self.recent
                .retain(|_, t| now.duration_since(*t) < Duration::from_secs(1));
        }
        tx.send(Msg::File(FileMsg {
            time_ns: crate::now_ns(),
            container: container.to_string(),
            file: FileInfo {
                path: inside,
                op: op.to_string(),
            },
        }));
    }

    /// Watches `dir` and every directory below it; reports files already there when
    /// `report_existing` (they were written before the watch could be added).
    fn add_tree(
        &mut self,
        tx: &Sender,
        container: &str,
        upper: &Path,
        dir: &Path,
        depth: usize,
        report_existing: bool,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        if self.watches.len() >= MAX_WATCHES {
            if !self.full_reported {
                self.full_reported = true;
                tx.note(
                    "file",
                    &format!("file watches: limit of {MAX_WATCHES} directories reached; deeper writes are not seen"),
                );
            }
            return;
        }
        let Ok(wd) = self.inotify.watches().add(dir, mask()) else {
            return;
        };
        self.watches.insert(
            wd,
            Watched {
                container: container.to_string(),
                upper: upper.to_path_buf(),
                dir: dir.to_path_buf(),
            },
        );
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten().take(100_000) {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                self.add_tree(tx, container, upper, &e.path(), depth + 1, report_existing);
            } else if ft.is_file() && report_existing {
                self.emit(tx, container, upper, &e.path(), "write");
            }
        }
    }

    fn forget(&mut self, container: &str) {
        let gone: Vec<WatchDescriptor> = self
            .watches
            .iter()
            .filter(|(_, w)| w.container == container)
            .map(|(wd, _)| wd.clone())
            .collect();
        for wd in gone {
            let _ = self.inotify.watches().remove(wd.clone());
            self.watches.remove(&wd);
        }
    }
}

/// Runs until `stop`: takes watch requests from `requests`, sends file writes.
pub fn run(requests: Receiver<WatchRequest>, tx: Sender, stop: Arc<AtomicBool>) {
    let inotify = match Inotify::init() {
        Ok(i) => i,
        Err(e) => {
            tx.note("file", &format!("inotify unavailable: {e}"));
            return;
        }
    };
    let mut st = State {
        inotify,
        watches: HashMap::new(),
        recent: HashMap::new(),
        full_reported: false,
    };
    let mut buf = vec![0u8; 64 << 10];
    while !stop.load(Ordering::Relaxed) {
        while let Ok(req) = requests.try_recv() {
            st.forget(&req.container);
            if let Some(upper) = req.upper {
                // Files already in the upper directory were written before the monitor
                // watched: not reported (they are the container's history, not news).
                st.add_tree(&tx, &req.container, &upper, &upper, 0, false);
            }
        }
        let events: Vec<(WatchDescriptor, EventMask, Option<std::ffi::OsString>)> =
            match st.inotify.read_events(&mut buf) {
                Ok(evs) => evs
                    .map(|e| (e.wd.clone(), e.mask, e.name.map(|n| n.to_os_string())))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => {
                    tx.note("file", &format!("inotify stopped: {e}"));
                    return;
                }
            };
        for (wd, m, name) in events {
            if m.contains(EventMask::Q_OVERFLOW) {
                tx.dropped(0, "inotify: event queue overflow (file writes lost)");
                continue;
            }
            let Some(w) = st.watches.get(&wd) else {
                continue;
            };
            let (container, upper, dir) = (w.container.clone(), w.upper.clone(), w.dir.clone());
            if m.contains(EventMask::IGNORED) {
                st.watches.remove(&wd);
                continue;
            }
            let Some(name) = name else { continue };
            let path = dir.join(&name);
            if m.contains(EventMask::ISDIR) {
                if m.contains(EventMask::CREATE) || m.contains(EventMask::MOVED_TO) {
                    // A new directory (often a copy-up of /etc for a write in it): its
                    // files may be written already.
                    st.add_tree(&tx, &container, &upper, &path, 1, true);
                }
                continue;
            }
            if m.contains(EventMask::CLOSE_WRITE) {
                st.emit(&tx, &container, &upper, &path, "write");
            } else if m.contains(EventMask::MOVED_TO) {
                st.emit(&tx, &container, &upper, &path, "rename");
            }
        }
    }
}
