//! Where action records go: [`StoreLog`] into the durable store of `moat monitor`
//! (moat-store, kind `action`, queried with `moat monitor query --kind action`);
//! [`JsonlLog`] one JSON record per line, fsynced before the action is reported done;
//! [`TeeLog`] both.

use crate::RespondError;
use moat_model::response::ActionRecord;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bytes of one record line (a longer record is refused, not cut).
pub const MAX_RECORD_BYTES: usize = 4 << 20;

/// A durable, append-only sink of action records. Implementations must have made the
/// record durable when `append` returns `Ok` (the action is then reported).
pub trait ActionLog: Send + Sync {
    fn append(&self, record: &ActionRecord) -> Result<(), RespondError>;
    /// Where the records go, for the report (`/var/…/actions.jsonl`, `sqlite:…`).
    fn location(&self) -> String;
}

/// Records as JSON lines in one file, each written with one `write` and fsynced.
#[derive(Debug)]
pub struct JsonlLog {
    path: PathBuf,
    lock: Mutex<()>,
}

impl JsonlLog {
    /// A log at `path` (made with its directory when absent, mode 0600).
    pub fn open(path: &Path) -> Result<JsonlLog, RespondError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| RespondError::io(dir, e))?;
        }
        open_append(path)?;
        Ok(JsonlLog {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every record in a log file (a malformed line is an error naming its number).
    pub fn read(path: &Path) -> Result<Vec<ActionRecord>, RespondError> {
        let text = std::fs::read_to_string(path).map_err(|e| RespondError::io(path, e))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| RespondError::Log {
                    path: path.to_path_buf(),
                    reason: format!("line {}: {e}", i + 1),
                })
            })
            .collect()
    }
}

/// The SHA-256 the log recorded for the evidence bundle at `bundle` (the last record
/// whose evidence is that file, matched by its canonical path, else by its file name),
/// read line by line (a line longer than [`MAX_RECORD_BYTES`] or not a record is skipped).
pub fn recorded_sha256(log: &Path, bundle: &Path) -> Result<Option<String>, RespondError> {
    use std::io::BufRead;
    let f = match std::fs::File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RespondError::io(log, e)),
    };
    let canon = std::fs::canonicalize(bundle).ok();
    let name = bundle.file_name();
    let mut r = std::io::BufReader::new(f);
    let (mut by_path, mut by_name) = (None, None);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut r)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| RespondError::io(log, e))?;
        if n == 0 {
            break;
        }
        if n > MAX_RECORD_BYTES {
            // Skip the rest of an overlong line.
            let mut sink = Vec::new();
            r.read_until(b'\n', &mut sink)
                .map_err(|e| RespondError::io(log, e))?;
            continue;
        }
        let Ok(rec) = serde_json::from_slice::<ActionRecord>(&line) else {
            continue;
        };
        let Some(ev) = rec.evidence else { continue };
        let p = Path::new(&ev.path);
        if canon.is_some() && std::fs::canonicalize(p).ok() == canon {
            by_path = Some(ev.sha256);
        } else if name.is_some() && p.file_name() == name {
            by_name = Some(ev.sha256);
        }
    }
    Ok(by_path.or(by_name))
}

fn open_append(path: &Path) -> Result<std::fs::File, RespondError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| RespondError::io(path, e))
}

impl ActionLog for JsonlLog {
    fn append(&self, record: &ActionRecord) -> Result<(), RespondError> {
        let mut line = serde_json::to_vec(record).map_err(|e| RespondError::Log {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        line.push(b'\n');
        if line.len() > MAX_RECORD_BYTES {
            return Err(RespondError::Log {
                path: self.path.clone(),
                reason: format!(
                    "record {} is {} bytes (at most {MAX_RECORD_BYTES})",
                    record.id,
                    line.len()
                ),
            });
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = open_append(&self.path)?;
        f.write_all(&line)
            .and_then(|()| f.sync_all())
            .map_err(|e| RespondError::io(&self.path, e))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Records in the SQLite store of `moat monitor` (kind `action`, keyed by the record id,
/// so a record is stored once), committed before `append` returns.
pub struct StoreLog {
    store: Mutex<moat_store::Store>,
    path: PathBuf,
}

impl std::fmt::Debug for StoreLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl StoreLog {
    /// The store at `path` (created when absent).
    pub fn open(path: &Path) -> Result<StoreLog, RespondError> {
        let store = moat_store::Store::open(path).map_err(|e| RespondError::Log {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(StoreLog {
            store: Mutex::new(store),
            path: path.to_path_buf(),
        })
    }
}

impl ActionLog for StoreLog {
    fn append(&self, record: &ActionRecord) -> Result<(), RespondError> {
        let err = |reason: String| RespondError::Log {
            path: self.path.clone(),
            reason,
        };
        let body = serde_json::to_value(record).map_err(|e| err(e.to_string()))?;
        let time_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let mut rec =
            moat_store::Record::new("action", time_ns, body).key(&format!("action:{}", record.id));
        if !record.container.id.is_empty() {
            rec = rec.container(&record.container.id);
        }
        if let moat_model::response::ActionSource::Monitor { rule, .. } = &record.source {
            rec = rec.rule(rule);
        }
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        store
            .append(std::slice::from_ref(&rec), &[])
            .map_err(|e| err(e.to_string()))?;
        Ok(())
    }

    fn location(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}

/// Every record to each of several logs; an append fails when one of them fails (the
/// others still have the record).
pub struct TeeLog {
    logs: Vec<Box<dyn ActionLog>>,
}

impl TeeLog {
    pub fn new(logs: Vec<Box<dyn ActionLog>>) -> TeeLog {
        TeeLog { logs }
    }
}

impl ActionLog for TeeLog {
    fn append(&self, record: &ActionRecord) -> Result<(), RespondError> {
        let mut first = None;
        for l in &self.logs {
            if let Err(e) = l.append(record) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }

    fn location(&self) -> String {
        self.logs
            .iter()
            .map(|l| l.location())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
