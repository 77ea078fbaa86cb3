//! The squashed, layered view of an image, and the view of one layer alone.
//!
//! Paths are kept in a `BTreeMap` keyed by the path with `/` replaced by NUL, so the
//! map's order is component-wise (`/a`, `/a/b`, `/a-b`) and a directory's descendants
//! are one contiguous range.

use crate::ImageError;
use crate::layer::{RawEntry, RawKind, UnpackedLayer};
use crate::store::RangeReader;
use moat_fs::{FileKind, FileMeta, FileResolver, FsError, FsErrorKind};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::sync::Arc;

pub use crate::layer::{RawEntry as LayerEntry, RawKind as LayerEntryKind};

#[derive(Debug)]
struct LayerData {
    diff_id: String,
    file: Arc<File>,
    entries: Arc<Vec<RawEntry>>,
}

#[derive(Debug, Clone)]
struct Node {
    meta: FileMeta,
    /// (layer index, content offset) of a regular file.
    content: Option<(usize, u64)>,
}

fn key(path: &str) -> String {
    path.replace('/', "\0")
}

fn root_meta() -> FileMeta {
    FileMeta {
        path: "/".into(),
        kind: FileKind::Dir,
        mode: 0o755,
        uid: 0,
        gid: 0,
        size: 0,
        link_target: None,
        layer: None,
    }
}

fn kind_of(k: RawKind) -> FileKind {
    match k {
        RawKind::File | RawKind::Hardlink => FileKind::File,
        RawKind::Dir => FileKind::Dir,
        RawKind::Symlink => FileKind::Symlink,
        RawKind::CharDevice => FileKind::CharDevice,
        RawKind::BlockDevice => FileKind::BlockDevice,
        RawKind::Fifo => FileKind::Fifo,
        RawKind::Whiteout | RawKind::Opaque | RawKind::Other => FileKind::Other,
    }
}

/// Remove every descendant of `path` (not `path` itself).
fn remove_children(nodes: &mut BTreeMap<String, Node>, path: &str) {
    if path == "/" {
        nodes.clear();
        return;
    }
    let mut prefix = key(path);
    prefix.push('\0');
    let doomed: Vec<String> = nodes
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in doomed {
        nodes.remove(&k);
    }
}

fn remove_tree(nodes: &mut BTreeMap<String, Node>, path: &str) {
    remove_children(nodes, path);
    nodes.remove(&key(path));
}

fn implicit_dir(path: &str, layer: &str) -> Node {
    Node {
        meta: FileMeta {
            path: path.to_string(),
            kind: FileKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: None,
            layer: Some(layer.to_string()),
        },
        content: None,
    }
}

/// The in-progress tree as a resolver, to resolve symlinked parents while squashing.
struct Building<'a>(&'a BTreeMap<String, Node>);

impl FileResolver for Building<'_> {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        Box::new(std::iter::empty())
    }
    fn lstat(&self, path: &str) -> Option<FileMeta> {
        if path == "/" {
            return Some(root_meta());
        }
        self.0.get(&key(path)).map(|n| n.meta.clone())
    }
    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        Err(FsError::not_found(path))
    }
}

/// Make sure every ancestor of `path` is a directory, the way a chrooted extraction
/// sees it: an ancestor that is a symlink is followed inside the image root; a missing
/// one is created; a file in the way is replaced. Returns the path to write.
fn place(nodes: &mut BTreeMap<String, Node>, path: &str, layer: &str) -> String {
    let Some(i) = path.rfind('/') else {
        return path.to_string();
    };
    let (parent, base) = (&path[..i], &path[i + 1..]);
    if parent.is_empty() {
        return path.to_string();
    }
    match nodes.get(&key(parent)).map(|n| n.meta.kind) {
        Some(FileKind::Dir) => return path.to_string(),
        Some(FileKind::Symlink) => {
            if let Ok(Some(real)) = Building(nodes).resolve(parent)
                && (real == "/" || nodes.get(&key(&real)).is_some_and(|n| n.meta.is_dir()))
            {
                return if real == "/" {
                    format!("/{base}")
                } else {
                    format!("{real}/{base}")
                };
            }
        }
        _ => {}
    }
    // Walk the ancestors from the top.
    let mut real_parent = String::new();
    for c in parent.split('/').filter(|c| !c.is_empty()) {
        let candidate = format!("{real_parent}/{c}");
        match nodes.get(&key(&candidate)).map(|n| n.meta.kind) {
            Some(FileKind::Dir) => real_parent = candidate,
            Some(FileKind::Symlink) => {
                match Building(nodes).resolve(&candidate) {
                    Ok(Some(real)) if real == "/" => real_parent = String::new(),
                    Ok(Some(real)) if nodes.get(&key(&real)).is_some_and(|n| n.meta.is_dir()) => {
                        real_parent = real;
                    }
                    _ => {
                        // A dangling or looping link in the way: replaced by a directory.
                        nodes.insert(key(&candidate), implicit_dir(&candidate, layer));
                        real_parent = candidate;
                    }
                }
            }
            Some(_) | None => {
                nodes.insert(key(&candidate), implicit_dir(&candidate, layer));
                real_parent = candidate;
            }
        }
    }
    format!("{real_parent}/{base}")
}

/// The squashed view of all layers: each entry knows the layer (diff_id) that last
/// wrote it; file contents are read from the cached layer tars, never extracted.
#[derive(Debug)]
pub struct LayeredView {
    layers: Vec<LayerData>,
    nodes: BTreeMap<String, Node>,
}

impl LayeredView {
    pub(crate) fn build(layers: Vec<UnpackedLayer>, input: &str) -> Result<Self, ImageError> {
        let layers: Vec<LayerData> = layers
            .into_iter()
            .map(|l| LayerData {
                diff_id: l.diff_id,
                file: l.file,
                entries: l.entries,
            })
            .collect();
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for (li, layer) in layers.iter().enumerate() {
            let diff = layer.diff_id.as_str();
            // Whiteouts hide lower layers only: apply them before this layer's entries.
            for e in layer.entries.iter() {
                match e.kind {
                    RawKind::Whiteout => remove_tree(&mut nodes, &e.path),
                    RawKind::Opaque => remove_children(&mut nodes, &e.path),
                    _ => {}
                }
            }
            for e in layer.entries.iter() {
                if matches!(e.kind, RawKind::Whiteout | RawKind::Opaque) {
                    continue;
                }
                let path = place(&mut nodes, &e.path, diff);
                let k = key(&path);
                let node = match e.kind {
                    RawKind::Hardlink => {
                        let target = e.link.as_deref().unwrap_or_default();
                        let Some(t) = nodes.get(&key(target)) else {
                            return Err(ImageError::new(
                                format!("{input}: layer {diff}"),
                                format!(
                                    "hardlink {} points at {target}, which does not exist in the image",
                                    e.path
                                ),
                            ));
                        };
                        if t.meta.is_dir() {
                            return Err(ImageError::new(
                                format!("{input}: layer {diff}"),
                                format!("hardlink {} points at a directory ({target})", e.path),
                            ));
                        }
                        let mut n = t.clone();
                        n.meta.path = path.clone();
                        n.meta.layer = Some(diff.to_string());
                        n
                    }
                    kind => Node {
                        meta: FileMeta {
                            path: path.clone(),
                            kind: kind_of(kind),
                            mode: e.mode,
                            uid: e.uid,
                            gid: e.gid,
                            size: e.size,
                            link_target: e.link.clone(),
                            layer: Some(diff.to_string()),
                        },
                        content: (kind == RawKind::File).then_some((li, e.offset)),
                    },
                };
                let existing_dir = nodes.get(&k).is_some_and(|n| n.meta.is_dir());
                if !(existing_dir && node.meta.is_dir()) {
                    // A non-directory replaces a directory with everything below it.
                    remove_children(&mut nodes, &path);
                }
                nodes.insert(k, node);
            }
        }
        Ok(LayeredView { layers, nodes })
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// The diff_ids of the layers, bottom first.
    pub fn diff_ids(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|l| l.diff_id.as_str())
    }

    /// The raw entries of one layer, in tar order (whiteouts included).
    pub fn layer_entries(&self, index: usize) -> Option<&[LayerEntry]> {
        self.layers.get(index).map(|l| l.entries.as_slice())
    }

    /// One layer alone as a resolver (its own files; whiteouts via [`LayerView::whiteouts`]).
    pub fn layer_view(&self, index: usize) -> Option<LayerView<'_>> {
        let layer = self.layers.get(index)?;
        Some(LayerView::new(layer))
    }
}

impl FileResolver for LayeredView {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        Box::new(self.nodes.values().map(|n| n.meta.clone()))
    }

    fn lstat(&self, path: &str) -> Option<FileMeta> {
        if path == "/" {
            return Some(root_meta());
        }
        self.nodes.get(&key(path)).map(|n| n.meta.clone())
    }

    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let node = self
            .nodes
            .get(&key(path))
            .ok_or_else(|| FsError::not_found(path))?;
        match (node.meta.kind, node.content) {
            (FileKind::File, Some((li, offset))) => {
                let layer = self
                    .layers
                    .get(li)
                    .ok_or_else(|| FsError::not_found(path))?;
                Ok(Box::new(RangeReader::new(
                    &layer.file,
                    offset,
                    node.meta.size,
                )))
            }
            _ => Err(FsError::new(
                FsErrorKind::NotAFile,
                path,
                "not a regular file",
            )),
        }
    }
}

/// The files of one layer alone (what the layer adds or changes), for per-layer
/// analysis keyed by diff_id. Hardlinks to files of lower layers are listed with
/// kind `Other` (their content is not in this layer).
#[derive(Debug)]
pub struct LayerView<'a> {
    layer: &'a LayerData,
    nodes: BTreeMap<String, Node>,
}

impl<'a> LayerView<'a> {
    fn new(layer: &'a LayerData) -> Self {
        let diff = layer.diff_id.as_str();
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for e in layer.entries.iter() {
            if matches!(e.kind, RawKind::Whiteout | RawKind::Opaque) {
                continue;
            }
            // Implicit parents, so lstat of every ancestor works.
            let mut cur = String::new();
            if let Some(i) = e.path.rfind('/') {
                for c in e.path[..i].split('/').filter(|c| !c.is_empty()) {
                    cur.push('/');
                    cur.push_str(c);
                    nodes
                        .entry(key(&cur))
                        .or_insert_with(|| implicit_dir(&cur, diff));
                }
            }
            let node = if e.kind == RawKind::Hardlink {
                let target = e.link.as_deref().unwrap_or_default();
                match nodes.get(&key(target)) {
                    Some(t) if t.meta.is_file() => {
                        let mut n = t.clone();
                        n.meta.path = e.path.clone();
                        n
                    }
                    _ => Node {
                        meta: FileMeta {
                            path: e.path.clone(),
                            kind: FileKind::Other,
                            mode: e.mode,
                            uid: e.uid,
                            gid: e.gid,
                            size: 0,
                            link_target: e.link.clone(),
                            layer: Some(diff.to_string()),
                        },
                        content: None,
                    },
                }
            } else {
                Node {
                    meta: FileMeta {
                        path: e.path.clone(),
                        kind: kind_of(e.kind),
                        mode: e.mode,
                        uid: e.uid,
                        gid: e.gid,
                        size: e.size,
                        link_target: e.link.clone(),
                        layer: Some(diff.to_string()),
                    },
                    content: (e.kind == RawKind::File).then_some((0, e.offset)),
                }
            };
            nodes.insert(key(&e.path), node);
        }
        LayerView { layer, nodes }
    }

    /// The layer's diff_id.
    pub fn diff_id(&self) -> &str {
        &self.layer.diff_id
    }

    /// Paths this layer deletes from lower layers (`.wh.NAME`), in tar order.
    pub fn whiteouts(&self) -> Vec<&str> {
        self.layer
            .entries
            .iter()
            .filter(|e| e.kind == RawKind::Whiteout)
            .map(|e| e.path.as_str())
            .collect()
    }

    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    pub fn opaque_dirs(&self) -> Vec<&str> {
        self.layer
            .entries
            .iter()
            .filter(|e| e.kind == RawKind::Opaque)
            .map(|e| e.path.as_str())
            .collect()
    }
}

impl FileResolver for LayerView<'_> {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        Box::new(self.nodes.values().map(|n| n.meta.clone()))
    }

    fn lstat(&self, path: &str) -> Option<FileMeta> {
        if path == "/" {
            return Some(root_meta());
        }
        self.nodes.get(&key(path)).map(|n| n.meta.clone())
    }

    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let node = self
            .nodes
            .get(&key(path))
            .ok_or_else(|| FsError::not_found(path))?;
        match (node.meta.kind, node.content) {
            (FileKind::File, Some((_, offset))) => Ok(Box::new(RangeReader::new(
                &self.layer.file,
                offset,
                node.meta.size,
            ))),
            _ => Err(FsError::new(
                FsErrorKind::NotAFile,
                path,
                "not a regular file",
            )),
        }
    }
}
