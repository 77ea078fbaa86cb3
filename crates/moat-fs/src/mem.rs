//! An in-memory file tree, for tests.

use crate::{FileKind, FileMeta, FileResolver, FsError, FsErrorKind, normalize, parent};
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

/// Files and symlinks held in memory. Parent directories are created implicitly.
#[derive(Debug, Default, Clone)]
pub struct MemResolver {
    entries: BTreeMap<String, (FileMeta, Vec<u8>)>,
}

impl MemResolver {
    pub fn new() -> Self {
        Self::default()
    }

    fn add_parents(&mut self, path: &str) {
        let mut p = parent(path).to_string();
        while p != "/" {
            self.entries.entry(p.clone()).or_insert_with(|| {
                (
                    FileMeta {
                        path: p.clone(),
                        kind: FileKind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        size: 0,
                        link_target: None,
                        layer: None,
                    },
                    Vec::new(),
                )
            });
            p = parent(&p).to_string();
        }
    }

    /// Add (or replace) a regular file.
    pub fn file(mut self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        let path = normalize(path);
        let content = content.into();
        self.add_parents(&path);
        let meta = FileMeta {
            path: path.clone(),
            kind: FileKind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: content.len() as u64,
            link_target: None,
            layer: None,
        };
        self.entries.insert(path, (meta, content));
        self
    }

    /// Add a symlink with a raw target.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let path = normalize(path);
        self.add_parents(&path);
        let meta = FileMeta {
            path: path.clone(),
            kind: FileKind::Symlink,
            mode: 0o777,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: Some(target.to_string()),
            layer: None,
        };
        self.entries.insert(path, (meta, Vec::new()));
        self
    }

    /// Set the layer of an existing entry (tests of layer attribution).
    pub fn with_layer(mut self, path: &str, layer: &str) -> Self {
        if let Some((m, _)) = self.entries.get_mut(&normalize(path)) {
            m.layer = Some(layer.to_string());
        }
        self
    }
}

fn path_key(p: &str) -> Vec<&str> {
    p.split('/').collect()
}

impl FileResolver for MemResolver {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        let mut v: Vec<&FileMeta> = self.entries.values().map(|(m, _)| m).collect();
        v.sort_by(|a, b| path_key(&a.path).cmp(&path_key(&b.path)));
        Box::new(v.into_iter().cloned())
    }

    fn lstat(&self, path: &str) -> Option<FileMeta> {
        if path == "/" {
            return Some(FileMeta {
                path: "/".into(),
                kind: FileKind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                link_target: None,
                layer: None,
            });
        }
        self.entries.get(path).map(|(m, _)| m.clone())
    }

    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        match self.entries.get(path) {
            Some((m, data)) if m.kind == FileKind::File => {
                Ok(Box::new(Cursor::new(data.as_slice())))
            }
            Some(_) => Err(FsError::new(
                FsErrorKind::NotAFile,
                path,
                "not a regular file",
            )),
            None => Err(FsError::not_found(path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> MemResolver {
        MemResolver::new()
            .file("/usr/lib/os-release", "ID=debian\n")
            .symlink("/etc/os-release", "../usr/lib/os-release")
            .symlink("/lib", "usr/lib")
            .symlink("/escape", "../../../../usr/lib/os-release")
            .symlink("/abs", "/lib/os-release")
            .symlink("/loop1", "loop2")
            .symlink("/loop2", "loop1")
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let t = tree();
        let read = |p: &str| {
            t.read_limited(p, 100)
                .map(|v| String::from_utf8_lossy(&v).into_owned())
        };
        assert_eq!(read("/etc/os-release").unwrap(), "ID=debian\n");
        assert_eq!(read("/lib/os-release").unwrap(), "ID=debian\n");
        assert_eq!(read("/escape").unwrap(), "ID=debian\n");
        assert_eq!(read("/abs").unwrap(), "ID=debian\n");
        // `..` after a symlink climbs from its target, as in the kernel.
        assert_eq!(
            t.resolve("/lib/../lib/os-release").unwrap().as_deref(),
            Some("/usr/lib/os-release")
        );
        assert_eq!(t.resolve("/lib/../etc/os-release").unwrap(), None);
    }

    #[test]
    fn loops_and_missing_paths_are_errors_not_panics() {
        let t = tree();
        assert_eq!(
            t.resolve("/loop1").unwrap_err().kind,
            FsErrorKind::SymlinkLoop
        );
        assert_eq!(t.resolve("/nope/x").unwrap(), None);
        assert_eq!(
            t.open("/usr").err().map(|e| e.kind),
            Some(FsErrorKind::NotAFile)
        );
        assert_eq!(
            t.read_limited("/usr/lib/os-release", 3).unwrap_err().kind,
            FsErrorKind::TooLarge
        );
    }

    #[test]
    fn glob_matches_absolute_paths() {
        let t = tree();
        let hits: Vec<String> = t
            .glob(&["**/os-release"])
            .unwrap()
            .into_iter()
            .map(|m| m.path)
            .collect();
        assert_eq!(hits, vec!["/etc/os-release", "/usr/lib/os-release"]);
        let hits = t.glob(&["/usr/*/os-release"]).unwrap();
        assert_eq!(hits.len(), 1);
    }
}
