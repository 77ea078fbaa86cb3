//! Reading input files safely: only regular files, never more than a byte budget.
//!
//! A FIFO named on the command line or by a compose file must not hang lint, and a
//! device such as `/dev/zero` must not be read for gigabytes: the file's type is checked
//! before it is opened (a FIFO would block in `open`) and again on the open handle, and
//! at most `limit + 1` bytes are read whatever its size claims.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Bytes read from one configuration file (Dockerfile, compose, `.env`, daemon.json).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 << 20;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    #[error("file is larger than the {limit}-byte budget (max_file_bytes)")]
    TooLarge { limit: u64 },
    #[error("not UTF-8 text")]
    NotUtf8,
}

impl ReadError {
    /// The file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

fn kind_name(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Read a regular file of at most `limit` bytes as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bytes(path, limit)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Read a regular file of at most `limit` bytes.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let md = std::fs::metadata(path)?;
    if !md.is_file() {
        return Err(ReadError::NotRegular(kind_name(md.file_type())));
    }
    if md.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let f = std::fs::File::open(path)?;
    // The path may have been swapped between the check and the open.
    let md = f.metadata()?;
    if !md.is_file() {
        return Err(ReadError::NotRegular(kind_name(md.file_type())));
    }
    let mut buf = Vec::with_capacity(usize::try_from(md.len().min(limit)).unwrap_or(0));
    f.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(buf)
}

/// `path` with `.` and `..` removed lexically (no file system access).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let climbing = matches!(out.components().next_back(), Some(Component::ParentDir));
                if climbing || !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Is `name` (relative to the project directory `dir`) outside it? Symlinks are
/// followed when the file exists; otherwise the path is judged lexically.
pub fn is_outside(dir: &Path, name: &str) -> (PathBuf, bool) {
    let base = dir.canonicalize().unwrap_or_else(|_| normalize(dir));
    // A file that does not exist is judged lexically, from the same (real) base.
    let joined = base.join(name);
    let real = joined.canonicalize().unwrap_or_else(|_| normalize(&joined));
    let outside = !real.starts_with(&base) || real.starts_with("..");
    (real, outside)
}

/// Lexical check only: is `name` absolute or does it climb out with `..`?
pub fn escapes_lexically(name: &str) -> bool {
    let p = Path::new(name);
    p.is_absolute() || normalize(p).starts_with("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_devices_and_big_files_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let fifo = d.path().join("f");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            assert!(matches!(
                read_text(&fifo, 10),
                Err(ReadError::NotRegular("a FIFO"))
            ));
        }
        assert!(matches!(
            read_text(Path::new("/dev/zero"), 10),
            Err(ReadError::NotRegular("a character device"))
        ));
        let big = d.path().join("big");
        std::fs::write(&big, "x".repeat(11)).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_text(&big, 10),
            Err(ReadError::TooLarge { limit: 10 })
        ));
        assert_eq!(read_text(&big, 11).ok().as_deref(), Some("xxxxxxxxxxx"));
        assert!(read_text(&d.path().join("nope"), 10).is_err_and(|e| e.is_not_found()));
    }

    /// `to` relative to `from` (both absolute), with `..` as needed.
    fn pathdiff(to: &Path, from: &Path) -> PathBuf {
        let t: Vec<_> = to.components().collect();
        let f: Vec<_> = from.components().collect();
        let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
        let mut out = PathBuf::new();
        for _ in common..f.len() {
            out.push("..");
        }
        for c in &t[common..] {
            out.push(c.as_os_str());
        }
        out
    }

    #[test]
    fn outside_the_project() {
        assert!(escapes_lexically("../x.env"));
        assert!(escapes_lexically("/etc/passwd"));
        assert!(escapes_lexically("a/../../x"));
        assert!(!escapes_lexically("a/../x"));
        assert!(escapes_lexically("../../x"));
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(is_outside(d.path(), "../x").1);
        assert!(!is_outside(d.path(), "sub/x").1);
        // Through a relative directory too, for a file that does not exist.
        let cwd = std::env::current_dir().unwrap_or_else(|e| panic!("{e}"));
        let rel = pathdiff(d.path(), &cwd);
        assert!(!is_outside(&rel, ".env").1, "{}", rel.display());
        assert!(is_outside(&rel, "../.env").1);
    }
}
