//! The squashed, layered view of an image, and the view of one layer alone.
//!
//! Paths are interned ([`Paths`]: a trie of components, each stored once); the view
//! keeps 12 bytes per path (which layer wrote it, which record describes it) and, once
//! built, the present paths in component-wise order (`/a`, `/a/b`, `/a-b`). A layer
//! record is the compact [`crate::layer::Rec`]; [`LayerEntry`]s are spelled out only
//! when asked for.

use crate::ImageError;
use crate::layer::{LayerIndex, RawEntry, RawKind, Rec, UnpackedLayer};
use crate::paths::{NONE, NodeId, Paths, ROOT};
use crate::store::RangeReader;
use moat_fs::{FileKind, FileMeta, FileResolver, FsError, FsErrorKind};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::sync::{Arc, OnceLock};

pub use crate::layer::{RawEntry as LayerEntry, RawKind as LayerEntryKind};

#[derive(Debug)]
struct LayerData {
    diff_id: String,
    file: Arc<File>,
    index: Arc<LayerIndex>,
    /// The entries spelled out, made on first use.
    raw: OnceLock<Vec<RawEntry>>,
}

impl LayerData {
    fn raw(&self, paths: &Paths) -> &[RawEntry] {
        self.raw.get_or_init(|| self.index.raw_entries(paths))
    }
}

/// What the view holds at one path: `writer` is the layer that last wrote it (NONE:
/// absent), (`src_layer`, `src_rec`) the record whose metadata and content it has
/// (a hardlink has its target's); `src_rec` NONE is an implicit directory.
#[derive(Debug, Clone, Copy)]
struct Slot {
    writer: u32,
    src_layer: u32,
    src_rec: u32,
}

const ABSENT: Slot = Slot {
    writer: NONE,
    src_layer: NONE,
    src_rec: NONE,
};

#[derive(Debug, Clone)]
struct Node {
    meta: FileMeta,
    /// (layer index, content offset) of a regular file.
    content: Option<(usize, u64)>,
    /// Extended attributes (PAX `SCHILY.xattr.*`).
    xattrs: Vec<(String, Vec<u8>)>,
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
        xattrs: Vec::new(),
    }
}

/// The tree while layers are applied, and after.
struct Tree<'a> {
    layers: &'a [LayerData],
    paths: Paths,
    slots: Vec<Slot>,
    /// The last symlinked parent resolved by `place` and its real directory; cleared
    /// whenever a present path changes (so a long `./././` target is walked once per
    /// run of entries below it, not once per entry).
    memo: Option<(NodeId, NodeId)>,
}

/// Read access to a tree (while building, and in the finished view).
#[derive(Clone, Copy)]
struct Look<'a> {
    layers: &'a [LayerData],
    paths: &'a Paths,
    slots: &'a [Slot],
}

impl<'a> Look<'a> {
    fn content(&self, id: NodeId) -> Option<(usize, u64, u64)> {
        let s = self.slot(id);
        if s.writer == NONE {
            return None;
        }
        let (_, _, r) = self.rec(s)?;
        (r.kind == RawKind::File).then_some((s.src_layer as usize, r.offset, r.size))
    }

    fn slot(&self, id: NodeId) -> Slot {
        if id == ROOT {
            return Slot {
                writer: NONE - 1,
                src_layer: NONE,
                src_rec: NONE,
            };
        }
        self.slots.get(id as usize).copied().unwrap_or(ABSENT)
    }

    fn rec(&self, s: Slot) -> Option<(&'a LayerIndex, usize, &'a Rec)> {
        if s.src_rec == NONE {
            return None;
        }
        let idx = &self.layers.get(s.src_layer as usize)?.index;
        let i = s.src_rec as usize;
        idx.recs.get(i).map(|r| (&**idx, i, r))
    }

    fn kind(&self, id: NodeId) -> Option<FileKind> {
        let s = self.slot(id);
        if s.writer == NONE {
            return None;
        }
        Some(match self.rec(s) {
            Some((_, _, r)) => kind_of(r.kind),
            None => FileKind::Dir,
        })
    }

    fn meta(&self, id: NodeId) -> Option<FileMeta> {
        if id == ROOT {
            return Some(root_meta());
        }
        let s = self.slot(id);
        if s.writer == NONE {
            return None;
        }
        let layer = self
            .layers
            .get(s.writer as usize)
            .map(|l| l.diff_id.clone());
        let path = self.paths.path(id);
        Some(match self.rec(s) {
            None => FileMeta {
                path,
                kind: FileKind::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                link_target: None,
                layer,
            },
            Some((idx, i, r)) => {
                let (uid, gid) = idx.ids(i, r);
                FileMeta {
                    path,
                    kind: kind_of(r.kind),
                    mode: u32::from(r.mode),
                    uid,
                    gid,
                    size: r.size,
                    link_target: idx.symlink_target(r).map(str::to_string),
                    layer,
                }
            }
        })
    }
}

impl<'a> Tree<'a> {
    fn look(&self) -> Look<'_> {
        Look {
            layers: self.layers,
            paths: &self.paths,
            slots: &self.slots,
        }
    }

    fn slot(&self, id: NodeId) -> Slot {
        self.look().slot(id)
    }

    fn kind(&self, id: NodeId) -> Option<FileKind> {
        self.look().kind(id)
    }

    fn set(&mut self, id: NodeId, s: Slot) {
        let i = id as usize;
        if self.slots.len() <= i {
            self.slots.resize(self.paths.len().max(i + 1), ABSENT);
        }
        self.slots[i] = s;
    }

    /// Remove every present descendant of `id` (not `id` itself). A present path's
    /// parent is always present, so absent subtrees are skipped.
    fn remove_children(&mut self, id: NodeId) {
        self.memo = None;
        let mut stack: Vec<NodeId> = self.paths.children(id).collect();
        while let Some(n) = stack.pop() {
            if self.slot(n).writer == NONE {
                continue;
            }
            self.set(n, ABSENT);
            stack.extend(self.paths.children(n));
        }
    }

    fn remove_tree(&mut self, id: NodeId) {
        self.remove_children(id);
        if id != ROOT {
            self.set(id, ABSENT);
        }
    }

    fn implicit(&mut self, id: NodeId, layer: u32) {
        if self.slot(id).writer != NONE {
            self.memo = None;
        }
        self.set(
            id,
            Slot {
                writer: layer,
                src_layer: NONE,
                src_rec: NONE,
            },
        );
    }

    /// The real directory `link` (a symlink) names, if it is one.
    fn resolve_dir(&self, link: NodeId) -> Option<NodeId> {
        let real = Building(self.look())
            .resolve(&self.paths.path(link))
            .ok()??;
        let id = self.paths.lookup(&real)?;
        (id == ROOT || self.kind(id) == Some(FileKind::Dir)).then_some(id)
    }

    /// Make sure every ancestor of `node` is a directory, the way a chrooted
    /// extraction sees it: an ancestor that is a symlink is followed inside the image
    /// root; a missing one is created; a file in the way is replaced. Returns the
    /// node to write.
    fn place(&mut self, node: NodeId, layer: u32) -> Result<NodeId, ImageError> {
        let full = |_| ImageError::new("", "more distinct paths than one image may hold");
        let Some(parent) = self.paths.parent(node) else {
            return Ok(node);
        };
        if parent == ROOT {
            return Ok(node);
        }
        match self.kind(parent) {
            Some(FileKind::Dir) => return Ok(node),
            Some(FileKind::Symlink) => {
                let real = match self.memo {
                    Some((p, r)) if p == parent => Some(r),
                    _ => self.resolve_dir(parent),
                };
                if let Some(real) = real {
                    self.memo = Some((parent, real));
                    let name = self.paths.name(node).to_vec();
                    return self.paths.intern_child(real, &name).map_err(full);
                }
            }
            _ => {}
        }
        // Walk the ancestors from the top.
        let mut chain = Vec::new();
        let mut cur = parent;
        while cur != ROOT {
            chain.push(cur);
            cur = self.paths.parent(cur).unwrap_or(ROOT);
        }
        let mut real_parent = ROOT;
        for c in chain.into_iter().rev() {
            let name = self.paths.name(c).to_vec();
            let candidate = self.paths.intern_child(real_parent, &name).map_err(full)?;
            match self.kind(candidate) {
                Some(FileKind::Dir) => real_parent = candidate,
                Some(FileKind::Symlink) => match self.resolve_dir(candidate) {
                    Some(real) => real_parent = real,
                    None => {
                        // A dangling or looping link in the way: replaced by a directory.
                        self.implicit(candidate, layer);
                        real_parent = candidate;
                    }
                },
                Some(_) | None => {
                    self.implicit(candidate, layer);
                    real_parent = candidate;
                }
            }
        }
        let name = self.paths.name(node).to_vec();
        self.paths.intern_child(real_parent, &name).map_err(full)
    }

    /// Apply one layer.
    fn apply(&mut self, li: usize, input: &str) -> Result<(), ImageError> {
        let layers = self.layers;
        let Some(layer) = layers.get(li) else {
            return Ok(());
        };
        let diff = layer.diff_id.as_str();
        let l32 = u32::try_from(li).unwrap_or(NONE - 2);
        let ctx = || format!("{input}: layer {diff}");
        // Whiteouts hide lower layers only: apply them before this layer's entries.
        for r in &layer.index.recs {
            match r.kind {
                RawKind::Whiteout => self.remove_tree(r.node),
                RawKind::Opaque => self.remove_children(r.node),
                _ => {}
            }
        }
        for (ri, r) in layer.index.recs.iter().enumerate() {
            if matches!(r.kind, RawKind::Whiteout | RawKind::Opaque) || r.node == ROOT {
                continue;
            }
            let node = self.place(r.node, l32).map_err(|e| e.within(&ctx()))?;
            if node == ROOT {
                continue;
            }
            let slot = if r.kind == RawKind::Hardlink {
                let target = self.paths.path(r.link);
                let t = self.slot(r.link);
                if r.link == ROOT || t.writer == NONE {
                    return Err(ImageError::new(
                        ctx(),
                        format!(
                            "hardlink {} points at {target}, which does not exist in the image",
                            self.paths.path(r.node)
                        ),
                    ));
                }
                if self.kind(r.link) == Some(FileKind::Dir) {
                    return Err(ImageError::new(
                        ctx(),
                        format!(
                            "hardlink {} points at a directory ({target})",
                            self.paths.path(r.node)
                        ),
                    ));
                }
                Slot {
                    writer: l32,
                    src_layer: t.src_layer,
                    src_rec: t.src_rec,
                }
            } else {
                Slot {
                    writer: l32,
                    src_layer: l32,
                    src_rec: u32::try_from(ri).unwrap_or(NONE),
                }
            };
            let new_is_dir = r.kind == RawKind::Dir;
            let old = self.kind(node);
            if old.is_some() || r.kind == RawKind::Symlink {
                self.memo = None;
            }
            if !(old == Some(FileKind::Dir) && new_is_dir) {
                // A non-directory replaces a directory with everything below it.
                if old == Some(FileKind::Dir) {
                    self.remove_children(node);
                }
            }
            self.set(node, slot);
        }
        Ok(())
    }

    /// The present paths, component-wise sorted, root excluded.
    fn order(&self) -> Vec<NodeId> {
        let look = self.look();
        let mut out = Vec::new();
        let mut stack = vec![ROOT];
        let mut kids: Vec<NodeId> = Vec::new();
        while let Some(n) = stack.pop() {
            if n != ROOT {
                out.push(n);
            }
            kids.clear();
            kids.extend(
                self.paths
                    .children(n)
                    .filter(|&c| look.slot(c).writer != NONE),
            );
            kids.sort_unstable_by(|a, b| self.paths.name(*b).cmp(self.paths.name(*a)));
            stack.extend_from_slice(&kids);
        }
        out
    }
}

/// The tree as a resolver, to resolve symlinked parents while squashing.
struct Building<'a>(Look<'a>);

impl FileResolver for Building<'_> {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        Box::new(std::iter::empty())
    }
    fn lstat(&self, path: &str) -> Option<FileMeta> {
        let id = self.0.paths.lookup(path)?;
        self.0.meta(id)
    }
    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        Err(FsError::not_found(path))
    }
}

/// The squashed view of all layers: each entry knows the layer (diff_id) that last
/// wrote it; file contents are read from the cached layer tars, never extracted.
pub struct LayeredView {
    layers: Vec<LayerData>,
    paths: Paths,
    slots: Vec<Slot>,
    order: Vec<NodeId>,
}

impl std::fmt::Debug for LayeredView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayeredView")
            .field("layers", &self.layers.len())
            .field("entries", &self.order.len())
            .finish()
    }
}

impl LayeredView {
    pub(crate) fn build(
        layers: Vec<UnpackedLayer>,
        paths: Paths,
        input: &str,
    ) -> Result<Self, ImageError> {
        let layers: Vec<LayerData> = layers
            .into_iter()
            .map(|l| LayerData {
                diff_id: l.diff_id,
                file: l.file,
                index: l.entries,
                raw: OnceLock::new(),
            })
            .collect();
        let (paths, slots, order) = {
            let mut t = Tree {
                layers: &layers,
                paths,
                slots: Vec::new(),
                memo: None,
            };
            for li in 0..layers.len() {
                t.apply(li, input)?;
            }
            let order = t.order();
            let mut slots = t.slots;
            slots.shrink_to_fit();
            (t.paths, slots, order)
        };
        Ok(LayeredView {
            layers,
            paths,
            slots,
            order,
        })
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
        self.layers.get(index).map(|l| l.raw(&self.paths))
    }

    /// One layer alone as a resolver (its own files; whiteouts via [`LayerView::whiteouts`]).
    pub fn layer_view(&self, index: usize) -> Option<LayerView<'_>> {
        let layer = self.layers.get(index)?;
        Some(LayerView::new(layer, &self.paths))
    }
}
impl LayeredView {
    fn look(&self) -> Look<'_> {
        Look {
            layers: &self.layers,
            paths: &self.paths,
            slots: &self.slots,
        }
    }
}

impl FileResolver for LayeredView {
    fn entries(&self) -> Box<dyn Iterator<Item = FileMeta> + '_> {
        let look = self.look();
        Box::new(self.order.iter().filter_map(move |&id| look.meta(id)))
    }

    fn lstat(&self, path: &str) -> Option<FileMeta> {
        let id = self.paths.lookup(path)?;
        self.look().meta(id)
    }

    fn xattrs(&self, path: &str) -> Vec<(String, Vec<u8>)> {
        let look = self.look();
        let Some(id) = self.paths.lookup(path) else {
            return Vec::new();
        };
        let s = look.slot(id);
        if s.writer == NONE {
            return Vec::new();
        }
        match look.rec(s) {
            Some((idx, i, _)) => idx
                .xattrs_of(i)
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
            None => Vec::new(),
        }
    }

    fn open_resolved(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let look = self.look();
        let id = self
            .paths
            .lookup(path)
            .ok_or_else(|| FsError::not_found(path))?;
        if look.kind(id).is_none() {
            return Err(FsError::not_found(path));
        }
        match look.content(id) {
            Some((li, offset, size)) => {
                let layer = self
                    .layers
                    .get(li)
                    .ok_or_else(|| FsError::not_found(path))?;
                Ok(Box::new(RangeReader::new(&layer.file, offset, size)))
            }
            None => Err(FsError::new(
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
    paths: &'a Paths,
    nodes: BTreeMap<String, Node>,
}

impl<'a> LayerView<'a> {
    fn new(layer: &'a LayerData, paths: &'a Paths) -> Self {
        let diff = layer.diff_id.as_str();
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for e in layer.raw(paths) {
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
                        xattrs: e.xattrs.clone(),
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
                    xattrs: e.xattrs.clone(),
                }
            };
            nodes.insert(key(&e.path), node);
        }
        LayerView {
            layer,
            paths,
            nodes,
        }
    }

    /// The layer's diff_id.
    pub fn diff_id(&self) -> &str {
        &self.layer.diff_id
    }

    /// Paths this layer deletes from lower layers (`.wh.NAME`), in tar order.
    pub fn whiteouts(&self) -> Vec<&str> {
        self.layer
            .raw(self.paths)
            .iter()
            .filter(|e| e.kind == RawKind::Whiteout)
            .map(|e| e.path.as_str())
            .collect()
    }

    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    pub fn opaque_dirs(&self) -> Vec<&str> {
        self.layer
            .raw(self.paths)
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

    fn xattrs(&self, path: &str) -> Vec<(String, Vec<u8>)> {
        self.nodes
            .get(&key(path))
            .map(|n| n.xattrs.clone())
            .unwrap_or_default()
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
