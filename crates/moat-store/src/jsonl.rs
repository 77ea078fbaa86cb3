//! The append-only JSON Lines log with size and age rotation.

use crate::{Record, StoreError};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// When the log is rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate when the current file reaches this size (bytes).
    pub max_bytes: u64,
    /// Rotate when the current file is this old.
    pub max_age: Duration,
    /// Rotated files kept (the oldest beyond this are deleted).
    pub max_files: usize,
}

impl Default for Rotation {
    fn default() -> Rotation {
        Rotation {
            max_bytes: 64 << 20,
            max_age: Duration::from_secs(24 * 3600),
            max_files: 16,
        }
    }
}

/// An append-only JSONL file: [`JsonlLog::append`] writes a batch, flushes and fsyncs it.
#[derive(Debug)]
pub struct JsonlLog {
    path: PathBuf,
    file: File,
    size: u64,
    opened: SystemTime,
    rotation: Rotation,
    rotated_seq: u64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl JsonlLog {
    /// Opens `path` for appending (created with its directory when missing).
    pub fn open(path: &Path, rotation: Rotation) -> Result<JsonlLog, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let file = File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io(path))?;
        let meta = file.metadata().map_err(io(path))?;
        let opened = meta
            .created()
            .or_else(|_| meta.modified())
            .unwrap_or_else(|_| SystemTime::now());
        Ok(JsonlLog {
            path: path.to_path_buf(),
            file,
            size: meta.len(),
            opened,
            rotation,
            rotated_seq: 0,
        })
    }

    /// The current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line per record, then flushes and fsyncs (one fsync per batch).
    /// Rotates first when the current file is full or old.
    pub fn append(&mut self, records: &[Record]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let age = SystemTime::now()
            .duration_since(self.opened)
            .unwrap_or_default();
        if self.size > 0 && (self.size >= self.rotation.max_bytes || age >= self.rotation.max_age) {
            self.rotate()?;
        }
        let mut buf = Vec::with_capacity(records.len() * 256);
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(|e| StoreError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            buf.push(b'\n');
        }
        let path = self.path.clone();
        self.file.write_all(&buf).map_err(io(&path))?;
        self.file.flush().map_err(io(&path))?;
        self.file.sync_data().map_err(io(&path))?;
        self.size += buf.len() as u64;
        Ok(())
    }

    /// The rotated files beside the current one, oldest first.
    pub fn rotated_files(&self) -> Result<Vec<PathBuf>, StoreError> {
        let dir = match self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(d) => d.to_path_buf(),
            None => PathBuf::from("."),
        };
        let stem = self.stem();
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!("{stem}."))
                && name.ends_with(".jsonl")
                && entry.path() != self.path
            {
                out.push(entry.path());
            }
        }
        out.sort();
        Ok(out)
    }

    fn stem(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.strip_suffix(".jsonl").unwrap_or(&name).to_string()
    }

    fn rotate(&mut self) -> Result<(), StoreError> {
        let stamp = time::OffsetDateTime::now_utc();
        let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let stamp = stamp.format(fmt).unwrap_or_default();
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let stem = self.stem();
        let mut target;
        loop {
            self.rotated_seq += 1;
            target = dir.join(format!("{stem}.{stamp}.{:06}.jsonl", self.rotated_seq));
            if !target.exists() {
                break;
            }
        }
        self.file.sync_all().map_err(io(&self.path))?;
        std::fs::rename(&self.path, &target).map_err(io(&target))?;
        let path = self.path.clone();
        self.file = File::options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        self.size = 0;
        self.opened = SystemTime::now();
        let rotated = self.rotated_files()?;
        if rotated.len() > self.rotation.max_files {
            for old in &rotated[..rotated.len() - self.rotation.max_files] {
                std::fs::remove_file(old).map_err(io(old))?;
            }
        }
        Ok(())
    }
}
