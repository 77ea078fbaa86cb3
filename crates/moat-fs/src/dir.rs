//! A directory on the host seen as an image root (`dir:` and `rootfs:` sources).

use crate::{FileKind, FileMeta, FileResolver, FsError, normalize};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A host directory as a read-only root. No host symlink is ever followed: links are
/// resolved by [`FileResolver::resolve`] inside the root, and files are opened with
/// `O_NOFOLLOW`.
#[derive(Debug, Clone)]
pub struct DirResolver {
    root: PathBuf,
}

impl DirResolver {
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, FsError> {
        let root = root.into();
        let meta = fs::metadata(&root).map_err(|e| FsError::io(&root.display().to_string(), &e))?;
        if !meta.is_dir() {
            return Err(FsError::new(
                crate::FsErrorKind::NotAFile,
                root.display().to_string(),
                "not a directory",
            ));
        }
        Ok(DirResolver { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn host_path(&self, path: &str) -> PathBuf {
        let rel = normalize(path);
        self.root.join(rel.trim_start_matches('/'))
    }

    fn meta_of(&self, path: &str, m: &fs::Metadata) -> FileMeta {
        let ft = m.file_type();
        let kind = if ft.is_file() {
            FileKind::File
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_char_device() {
            FileKind::CharDevice
        } else if ft.is_block_device() {
            FileKind::BlockDevice
        } else if ft.is_fifo() {
            FileKind::Fifo
        } else if ft.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        };
        let link_target = if kind == FileKind::Symlink {
            fs::read_link(self.host_path(path))
                .ok()
                .map(|t| t.to_string_lossy().into_owned())
        } else {
            None
        };
        FileMeta {
            path: normalize(path),
            kind,
            mode: m.mode() & 0o7777,
            uid: u64::from(m.uid()),
            gid: u64::from(m.gid()),
            size: if kind == FileKind::File { m.len() } else { 0 },
            link_target,
            layer: None,
        }
    }
}

impl FileResolver for DirResolver {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        let it = walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(move |e| {
                let rel = e.path().strip_prefix(&self.root).ok()?;
                let path = format!("/{}", rel.to_string_lossy());
                let m = e.metadata().ok()?;
                Some(self.meta_of(&path, &m))
            });
        Box::new(it)
    }

    fn lstat(&self, path: &str) -> Option<FileMeta> {
        let path = normalize(path);
        if path == "/" {
            let m = fs::symlink_metadata(&self.root).ok()?;
            return Some(self.meta_of("/", &m));
        }
        // Refuse to look through a host symlink in an intermediate component.
        let mut prefix = String::new();
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        for c in &comps[..comps.len().saturating_sub(1)] {
            prefix.push('/');
            prefix.push_str(c);
            let m = fs::symlink_metadata(self.host_path(&prefix)).ok()?;
            if !m.file_type().is_dir() {
                return None;
            }
        }
        let m = fs::symlink_metadata(self.host_path(&path)).ok()?;
        Some(self.meta_of(&path, &m))
    }

    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let meta = self.lstat(path).ok_or_else(|| FsError::not_found(path))?;
        if meta.kind != FileKind::File {
            return Err(FsError::new(
                crate::FsErrorKind::NotAFile,
                path,
                "not a regular file",
            ));
        }
        let f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.host_path(path))
            .map_err(|e| FsError::io(path, &e))?;
        Ok(Box::new(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn host_symlinks_never_leave_the_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "host secret").unwrap();
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("etc")).unwrap();
        fs::write(root.path().join("etc/secret"), "image file").unwrap();
        // An absolute link to the host's copy must land on the image's /etc/secret.
        let abs = outside.path().join("secret");
        symlink(&abs, root.path().join("abs")).unwrap();
        symlink("../../../../etc/secret", root.path().join("etc/rel")).unwrap();
        symlink(outside.path(), root.path().join("hostdir")).unwrap();
        let r = DirResolver::new(root.path()).unwrap();
        assert_eq!(r.read_limited("/etc/rel", 100).unwrap(), b"image file");
        // `/abs` points at a path that does not exist inside the root.
        assert!(r.open("/abs").is_err());
        // A host directory link is resolved inside the root, never on the host.
        assert!(r.open("/hostdir/secret").is_err());
        assert!(r.lstat("/hostdir/secret").is_none());
        let paths: Vec<String> = r.entries().map(|m| m.path).collect();
        assert_eq!(
            paths,
            vec!["/abs", "/etc", "/etc/rel", "/etc/secret", "/hostdir"]
        );
    }
}
