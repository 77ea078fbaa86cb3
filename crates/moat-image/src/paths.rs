//! Interned paths: every distinct path of an image is one node of a trie of path
//! components, stored once (its last component in one byte arena, its parent as a
//! node id), found through one hash table of node ids. The layer indexes and the
//! squashed view refer to paths by node id, so memory per entry does not grow with
//! the depth of a path (issue 12: at most 150 bytes per entry).

use std::hash::BuildHasher;

/// A node id; [`ROOT`] is `/`.
pub(crate) type NodeId = u32;
pub(crate) const ROOT: NodeId = 0;
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct PNode {
    parent: NodeId,
    name_off: u32,
    name_len: u32,
    first_child: NodeId,
    next_sibling: NodeId,
}

/// The trie. Insert-only: a path once seen keeps its id.
#[derive(Debug)]
pub(crate) struct Paths {
    names: Vec<u8>,
    nodes: Vec<PNode>,
    /// Open addressing, linear probing; `NONE` is an empty slot.
    table: Vec<u32>,
    hasher: std::collections::hash_map::RandomState,
}

/// The arena or the node count would pass `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

impl Default for Paths {
    fn default() -> Self {
        Paths::new()
    }
}

impl Paths {
    pub(crate) fn new() -> Paths {
        Paths {
            names: Vec::new(),
            nodes: vec![PNode {
                parent: NONE,
                name_off: 0,
                name_len: 0,
                first_child: NONE,
                next_sibling: NONE,
            }],
            table: vec![NONE; 1024],
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    fn hash(&self, parent: NodeId, name: &[u8]) -> usize {
        self.hasher.hash_one((parent, name)) as usize
    }

    pub(crate) fn name(&self, id: NodeId) -> &[u8] {
        let n = &self.nodes[id as usize];
        let start = n.name_off as usize;
        &self.names[start..start + n.name_len as usize]
    }

    pub(crate) fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.nodes[id as usize].parent;
        (p != NONE).then_some(p)
    }

    /// The child `name` of `parent`, if that path was ever interned.
    pub(crate) fn child(&self, parent: NodeId, name: &[u8]) -> Option<NodeId> {
        let mask = self.table.len() - 1;
        let mut i = self.hash(parent, name) & mask;
        loop {
            let id = self.table[i];
            if id == NONE {
                return None;
            }
            let n = &self.nodes[id as usize];
            if n.parent == parent && self.name(id) == name {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    /// The child `name` of `parent`, interned if new.
    pub(crate) fn intern_child(&mut self, parent: NodeId, name: &[u8]) -> Result<NodeId, Full> {
        if let Some(id) = self.child(parent, name) {
            return Ok(id);
        }
        let id = u32::try_from(self.nodes.len()).map_err(|_| Full)?;
        let name_off = u32::try_from(self.names.len()).map_err(|_| Full)?;
        let name_len = u32::try_from(name.len()).map_err(|_| Full)?;
        if id == NONE || u32::try_from(self.names.len() + name.len()).is_err() {
            return Err(Full);
        }
        self.names.extend_from_slice(name);
        let p = &mut self.nodes[parent as usize];
        let next_sibling = p.first_child;
        p.first_child = id;
        self.nodes.push(PNode {
            parent,
            name_off,
            name_len,
            first_child: NONE,
            next_sibling,
        });
        if self.nodes.len() * 4 > self.table.len() * 3 {
            self.grow();
        } else {
            self.place(id);
        }
        Ok(id)
    }

    fn place(&mut self, id: NodeId) {
        let n = self.nodes[id as usize];
        let mask = self.table.len() - 1;
        let start = n.name_off as usize;
        let name = &self.names[start..start + n.name_len as usize];
        let mut i = self.hasher.hash_one((n.parent, name)) as usize & mask;
        while self.table[i] != NONE {
            i = (i + 1) & mask;
        }
        self.table[i] = id;
    }

    fn grow(&mut self) {
        self.table = vec![NONE; self.table.len() * 2];
        for id in 1..self.nodes.len() as u32 {
            self.place(id);
        }
    }

    /// Intern an absolute path (`/a/b`; empty components and `.` skipped; no `..`).
    pub(crate) fn intern(&mut self, path: &str) -> Result<NodeId, Full> {
        let mut cur = ROOT;
        for c in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
            cur = self.intern_child(cur, c.as_bytes())?;
        }
        Ok(cur)
    }

    /// Look up an absolute, normalized path without interning it.
    pub(crate) fn lookup(&self, path: &str) -> Option<NodeId> {
        let mut cur = ROOT;
        for c in path.split('/').filter(|c| !c.is_empty()) {
            cur = self.child(cur, c.as_bytes())?;
        }
        Some(cur)
    }

    /// The absolute path of a node (`/` for the root).
    pub(crate) fn path(&self, id: NodeId) -> String {
        if id == ROOT {
            return "/".to_string();
        }
        let mut chain = Vec::new();
        let mut cur = id;
        while cur != ROOT && cur != NONE {
            chain.push(cur);
            cur = self.nodes[cur as usize].parent;
        }
        let mut bytes = Vec::new();
        for n in chain.iter().rev() {
            bytes.push(b'/');
            bytes.extend_from_slice(self.name(*n));
        }
        // Names come from `str`s, so whole paths are valid UTF-8.
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    /// The children of a node, unsorted.
    pub(crate) fn children(&self, id: NodeId) -> ChildIter<'_> {
        ChildIter {
            paths: self,
            next: self.nodes[id as usize].first_child,
        }
    }

    /// Bytes of heap this table holds (for the benchmark's accounting).
    #[allow(dead_code)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.names.capacity()
            + self.nodes.capacity() * std::mem::size_of::<PNode>()
            + self.table.capacity() * 4
    }
}

pub(crate) struct ChildIter<'a> {
    paths: &'a Paths,
    next: NodeId,
}

impl Iterator for ChildIter<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.paths.nodes[id as usize].next_sibling;
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_finds_paths() {
        let mut p = Paths::new();
        let a = p.intern("/usr/bin/env").unwrap();
        assert_eq!(p.intern("/usr/bin/env").unwrap(), a);
        assert_eq!(p.lookup("/usr/bin/env"), Some(a));
        assert_eq!(p.lookup("/usr/bin"), p.parent(a));
        assert_eq!(p.lookup("/usr/sbin"), None);
        assert_eq!(p.path(a), "/usr/bin/env");
        assert_eq!(p.lookup("/"), Some(ROOT));
        for i in 0..5000 {
            p.intern(&format!("/d/{i}")).unwrap();
        }
        let d = p.lookup("/d").unwrap();
        assert_eq!(p.children(d).count(), 5000);
        assert_eq!(p.path(p.lookup("/d/4999").unwrap()), "/d/4999");
    }
}
