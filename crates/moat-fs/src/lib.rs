//! A read-only, container-eye view of a file tree.
//!
//! Catalogers and scanners see an image only through [`FileResolver`]. Paths are
//! absolute and normalized (`/etc/os-release`); symlinks are resolved the way the
//! container sees them, inside the image root: an absolute target or a `../..` chain
//! is clamped at `/` and never leaves the root.
//!
//! Implementations: [`DirResolver`] (a directory on the host, for `dir:` and `rootfs:`
//! scans and for tests), [`MemResolver`] (in memory, for tests) and the layered image
//! view in `moat-image`.

mod dir;
mod mem;
mod path;

pub use dir::DirResolver;
pub use mem::MemResolver;
pub use path::{join, normalize, parent};

use std::io::Read;

/// The kind of a file-system entry. Device nodes and FIFOs are listed, never opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    Other,
}

/// Metadata of one entry, without following a final symlink.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileMeta {
    /// Absolute, normalized path inside the root (`/usr/bin/env`).
    pub path: String,
    pub kind: FileKind,
    /// Permission bits including setuid/setgid/sticky (`0o4755`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Size of a regular file's content; 0 for other kinds.
    pub size: u64,
    /// The raw target of a symlink, as stored.
    pub link_target: Option<String>,
    /// The layer (its `diff_id`) that last wrote this entry; `None` outside images.
    pub layer: Option<String>,
}

impl FileMeta {
    pub fn is_file(&self) -> bool {
        self.kind == FileKind::File
    }
    pub fn is_dir(&self) -> bool {
        self.kind == FileKind::Dir
    }
    pub fn is_symlink(&self) -> bool {
        self.kind == FileKind::Symlink
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsErrorKind {
    NotFound,
    NotAFile,
    /// A symlink chain longer than [`MAX_SYMLINK_HOPS`] or a loop.
    SymlinkLoop,
    /// The file is larger than the caller's limit.
    TooLarge,
    InvalidPattern,
    Io,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FsError {
    pub kind: FsErrorKind,
    pub path: String,
    pub message: String,
}

impl FsError {
    pub fn new(kind: FsErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        FsError {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }
    pub fn not_found(path: &str) -> Self {
        FsError::new(FsErrorKind::NotFound, path, "no such file")
    }
    pub fn io(path: &str, err: &std::io::Error) -> Self {
        FsError::new(FsErrorKind::Io, path, err.to_string())
    }
}

/// Symlink hops allowed while resolving one path (as Linux's `MAXSYMLINKS`).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// A read-only file tree seen from inside the container.
pub trait FileResolver: Send + Sync {
    /// Every entry, sorted by path (component-wise), the root itself excluded.
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_>;

    /// Metadata of `path` (absolute and normalized) without following it if it is a
    /// symlink. Intermediate components must be real directories: use
    /// [`FileResolver::resolve`] first for a path that may cross symlinks.
    fn lstat(&self, path: &str) -> Option<FileMeta>;

    /// Content of the regular file at `path` (already resolved: no symlinks in it).
    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError>;

    /// Extended attributes of the entry at `path` (already resolved), name and value,
    /// sorted by name: for an image, what the layer tar recorded (PAX
    /// `SCHILY.xattr.*`, bounded by the image reader). The default: none.
    fn xattrs(&self, path: &str) -> Vec<(String, Vec<u8>)> {
        let _ = path;
        Vec::new()
    }

    /// Follow every symlink in `path` inside the root; `None` when a component is
    /// missing. The result names an entry that is not a symlink.
    fn resolve(&self, path: &str) -> Result<Option<String>, FsError> {
        path::resolve_with(path, &|p| self.lstat(p))
    }

    /// Metadata of what `path` finally names, symlinks followed inside the root.
    fn stat(&self, path: &str) -> Result<Option<FileMeta>, FsError> {
        Ok(match self.resolve(path)? {
            Some(real) => self.lstat(&real),
            None => None,
        })
    }

    /// Open the regular file that `path` names, following symlinks inside the root.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let real = self
            .resolve(path)?
            .ok_or_else(|| FsError::not_found(path))?;
        match self.lstat(&real) {
            Some(m) if m.kind == FileKind::File => self.open_resolved(&real),
            Some(_) => Err(FsError::new(
                FsErrorKind::NotAFile,
                path,
                "not a regular file",
            )),
            None => Err(FsError::not_found(path)),
        }
    }

    /// Read a whole file, refusing one larger than `limit` bytes.
    fn read_limited(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        let mut r = self.open(path)?;
        let mut buf = Vec::new();
        (&mut r)
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| FsError::io(path, &e))?;
        if buf.len() as u64 > limit {
            return Err(FsError::new(
                FsErrorKind::TooLarge,
                path,
                format!("larger than the {limit}-byte limit"),
            ));
        }
        Ok(buf)
    }

    /// Entries whose path matches any of the glob patterns (`**/*.dist-info/METADATA`;
    /// `*` does not cross `/`). Patterns match the absolute path, so a pattern that
    /// should match anywhere starts with `**/`.
    fn glob(&self, patterns: &[&str]) -> Result<Vec<FileMeta>, FsError> {
        let mut b = globset::GlobSetBuilder::new();
        for p in patterns {
            let g = globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| FsError::new(FsErrorKind::InvalidPattern, *p, e.to_string()))?;
            b.add(g);
        }
        let set = b.build().map_err(|e| {
            FsError::new(
                FsErrorKind::InvalidPattern,
                patterns.join(","),
                e.to_string(),
            )
        })?;
        Ok(self.entries().filter(|m| set.is_match(&m.path)).collect())
    }
}
