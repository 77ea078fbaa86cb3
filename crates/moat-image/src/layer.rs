//! One layer: stream its blob once (verifying the blob digest on the compressed bytes
//! and the diff_id on the uncompressed bytes, enforcing the unpacked-size budget),
//! store the uncompressed tar in the cache keyed by diff_id, and index its entries
//! (header data and the byte offset of each file's content). Nothing is extracted.

pub(crate) use crate::compression::Compression;
use crate::compression::{Pending, show, take_extension};
use crate::paths::{self, NONE, NodeId, Paths, ROOT};
use crate::store::{Store, check_digest};
use crate::{Budget, ImageError, Limits};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// What a layer's tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RawKind {
    File,
    Dir,
    Symlink,
    /// A hard link; `link` names the target (a path inside the image).
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: `path` is the deleted NAME.
    Whiteout,
    /// `.wh..wh..opq`: `path` is the directory whose lower content is hidden.
    Opaque,
    /// Sparse files and other entry types: listed, never opened.
    Other,
}

/// One indexed tar entry of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// Absolute, normalized path inside the image.
    pub path: String,
    pub kind: RawKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Content size of a regular file; 0 otherwise.
    pub size: u64,
    /// Byte offset of the content in the uncompressed layer tar.
    pub offset: u64,
    /// Symlink target (raw) or hardlink target (normalized absolute path).
    pub link: Option<String>,
    /// Extended attributes recorded for the entry (PAX `SCHILY.xattr.*`), sorted by
    /// name; bounded per entry and per layer (see [`LayerIndex::push`]).
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// One indexed tar entry, compact: its path is a node of the image's [`Paths`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rec {
    pub node: NodeId,
    pub kind: RawKind,
    /// Permission bits (`0o7777` fits in 16 bits).
    pub mode: u16,
    /// `u32::MAX` when the real id is in [`LayerIndex::wide_ids`].
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub offset: u64,
    /// Symlink: index into [`LayerIndex::links`]; hardlink: the target's node; else NONE.
    pub link: u32,
}

/// The entries of one layer, in tar order.
#[derive(Debug, Default)]
pub(crate) struct LayerIndex {
    pub recs: Vec<Rec>,
    /// Raw symlink targets.
    pub links: Vec<Box<str>>,
    /// Owner ids that do not fit in 32 bits, by record index.
    pub wide_ids: BTreeMap<u32, (u64, u64)>,
    /// Extended attributes, by record index (most entries have none).
    pub xattrs: BTreeMap<u32, Xattrs>,
    /// Bytes of names and values in `xattrs`.
    xattr_bytes: usize,
}

/// One entry's extended attributes (name, value), sorted by name.
pub(crate) type Xattrs = Box<[(Box<str>, Box<[u8]>)]>;

/// Bytes of extended attributes kept per layer; past this only file capabilities
/// (`security.capability`) are kept, so padding cannot hide one.
pub(crate) const MAX_XATTR_BYTES_PER_LAYER: usize = 8 << 20;

impl LayerIndex {
    pub(crate) fn len(&self) -> usize {
        self.recs.len()
    }

    pub(crate) fn ids(&self, i: usize, r: &Rec) -> (u64, u64) {
        if r.uid == u32::MAX || r.gid == u32::MAX {
            let key = u32::try_from(i).unwrap_or(u32::MAX);
            if let Some(&w) = self.wide_ids.get(&key) {
                return w;
            }
        }
        (u64::from(r.uid), u64::from(r.gid))
    }

    /// The extended attributes of record `i`.
    pub(crate) fn xattrs_of(&self, i: usize) -> &[(Box<str>, Box<[u8]>)] {
        u32::try_from(i)
            .ok()
            .and_then(|k| self.xattrs.get(&k))
            .map_or(&[], |v| &v[..])
    }

    pub(crate) fn symlink_target(&self, r: &Rec) -> Option<&str> {
        match r.kind {
            RawKind::Symlink => self.links.get(r.link as usize).map(|b| &**b),
            _ => None,
        }
    }

    fn push(&mut self, e: RawEntry, paths: &mut Paths) -> Result<(), ImageError> {
        let full = |_| ImageError::new("", "more distinct paths than one image may hold");
        let node = if e.path == "/" {
            ROOT
        } else {
            paths.intern(&e.path).map_err(full)?
        };
        let link = match (e.kind, e.link) {
            (RawKind::Symlink, Some(t)) => {
                self.links.push(t.into_boxed_str());
                u32::try_from(self.links.len() - 1).map_err(|_| full(paths::Full))?
            }
            (RawKind::Hardlink, Some(t)) => paths.intern(&t).map_err(full)?,
            _ => NONE,
        };
        let narrow = |v: u64| u32::try_from(v).ok().filter(|&v| v != u32::MAX);
        let (uid, gid) = match (narrow(e.uid), narrow(e.gid)) {
            (Some(u), Some(g)) => (u, g),
            _ => {
                let i = u32::try_from(self.recs.len()).map_err(|_| full(paths::Full))?;
                self.wide_ids.insert(i, (e.uid, e.gid));
                (u32::MAX, u32::MAX)
            }
        };
        if !e.xattrs.is_empty() {
            let i = u32::try_from(self.recs.len()).map_err(|_| full(paths::Full))?;
            let mut kept: Vec<(Box<str>, Box<[u8]>)> = Vec::new();
            for (k, v) in e.xattrs {
                let n = k.len() + v.len();
                if self.xattr_bytes + n > MAX_XATTR_BYTES_PER_LAYER && k != "security.capability" {
                    continue;
                }
                self.xattr_bytes += n;
                kept.push((k.into_boxed_str(), v.into_boxed_slice()));
            }
            kept.sort();
            if !kept.is_empty() {
                self.xattrs.insert(i, kept.into_boxed_slice());
            }
        }
        self.recs.push(Rec {
            node,
            kind: e.kind,
            mode: (e.mode & 0o7777) as u16,
            uid,
            gid,
            size: e.size,
            offset: e.offset,
            link,
        });
        Ok(())
    }

    /// The entries as [`RawEntry`]s (paths spelled out).
    pub(crate) fn raw_entries(&self, paths: &Paths) -> Vec<RawEntry> {
        self.recs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (uid, gid) = self.ids(i, r);
                RawEntry {
                    path: paths.path(r.node),
                    kind: r.kind,
                    mode: u32::from(r.mode),
                    uid,
                    gid,
                    size: r.size,
                    offset: r.offset,
                    link: match r.kind {
                        RawKind::Symlink => self.symlink_target(r).map(str::to_string),
                        RawKind::Hardlink => Some(paths.path(r.link)),
                        _ => None,
                    },
                    xattrs: self
                        .xattrs_of(i)
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_vec()))
                        .collect(),
                }
            })
            .collect()
    }
}

/// What one layer is expected to be.
pub(crate) struct LayerSpec {
    /// The blob's name in its store (`blobs/sha256/...`, `abc/layer.tar`).
    pub name: String,
    /// The blob digest when the manifest states it.
    pub blob_digest: Option<String>,
    /// The diff_id from the image config.
    pub diff_id: String,
}

/// An unpacked layer; a layer listed several times in a manifest is unpacked once and
/// shared (the file and the index are reference-counted).
#[derive(Clone)]
pub(crate) struct UnpackedLayer {
    pub diff_id: String,
    /// The verified (or, where the manifest states none, computed) blob digest.
    pub blob_digest: String,
    pub compressed_size: u64,
    pub size: u64,
    pub compression: Compression,
    pub file: Arc<File>,
    pub entries: Arc<LayerIndex>,
}

struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Hashes, counts and (optionally) copies what passes through; fails past `limit`.
struct Tee<'a, W: Write> {
    inner: Box<dyn Read + Send + 'a>,
    hasher: Sha256,
    out: Option<W>,
    count: u64,
    limit: u64,
    exceeded: bool,
}

impl<W: Write> Read for Tee<'_, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("unpacked-size limit exceeded"));
        }
        self.hasher.update(&buf[..n]);
        if let Some(out) = self.out.as_mut() {
            out.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

fn io_err(input: &str, what: &str, e: impl fmt::Display) -> ImageError {
    ImageError::new(input, format!("{what}: {e}"))
}

/// Unpack (or find in the cache) one layer. `budget` is the unpacked size still
/// allowed for the whole image; it is reduced by this layer's size.
pub(crate) fn unpack(
    store: &dyn Store,
    spec: &LayerSpec,
    cache_dir: &Path,
    budget: &mut u64,
    total_limit: u64,
    limits: &Limits,
    paths: &mut Paths,
) -> Result<UnpackedLayer, ImageError> {
    let name = spec.name.as_str();
    let diff_hex = check_digest(name, &spec.diff_id)?;
    let dir = cache_dir.join("layers").join("sha256");
    let marker_dir = cache_dir.join("layers").join("by-blob");
    let cached = dir.join(format!("{diff_hex}.tar"));

    // Cache hit: this very blob was verified to unpack to this diff_id before. A blob
    // whose digest the manifest does not state (docker-archive) is hashed first, which
    // is much cheaper than decompressing it, but only when its diff_id is cached.
    let known = match &spec.blob_digest {
        Some(b) => Some(b.clone()),
        None if cached.is_file() => Some(hash_blob(store, name)?),
        None => None,
    };
    if let Some(blob) = known {
        let blob_hex = check_digest(name, &blob)?;
        let marker = std::fs::read_to_string(marker_dir.join(&blob_hex)).unwrap_or_default();
        let mut words = marker.split_whitespace();
        let marker_ok = words.next() == Some(spec.diff_id.as_str());
        let compression = match words.next() {
            Some("gzip") => Compression::Gzip,
            Some("zstd") => Compression::Zstd,
            _ => Compression::None,
        };
        if marker_ok && let Ok(file) = File::open(&cached) {
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            take_budget(name, budget, size, total_limit)?;
            let (_, compressed_size) = store.open(name)?;
            let entries = index_file(&file, limits, paths).map_err(|e| {
                if e.exceeded_budget().is_some() {
                    e.within(name)
                } else {
                    ImageError::new(
                        cached.display().to_string(),
                        format!(
                            "cached layer unreadable ({}); delete the cache directory",
                            e.message
                        ),
                    )
                }
            })?;
            return Ok(UnpackedLayer {
                diff_id: spec.diff_id.clone(),
                blob_digest: blob,
                compressed_size,
                size,
                compression,
                file: Arc::new(file),
                entries: Arc::new(entries),
            });
        }
    }

    std::fs::create_dir_all(&dir)
        .map_err(|e| io_err(&dir.display().to_string(), "cannot create", e))?;
    let (raw, compressed_size) = store.open(name)?;
    let mut hr = HashReader {
        inner: raw,
        hasher: Sha256::new(),
        count: 0,
    };
    // A blob of unknown digest (legacy `ID/layer.tar`) whose diff_id is cached: verify
    // it by streaming, but do not store it again.
    let reuse = spec.blob_digest.is_none() && cached.is_file();
    let tmp = if reuse {
        None
    } else {
        Some(tempfile::NamedTempFile::new_in(&dir).map_err(|e| {
            io_err(
                &dir.display().to_string(),
                "cannot create a temporary file",
                e,
            )
        })?)
    };
    let (entries, diff_hash, size, compression, exceeded, index_err) = {
        let mut br = BufReader::with_capacity(1 << 18, &mut hr);
        let magic = br.fill_buf().map_err(|e| io_err(name, "read failed", e))?;
        let compression = Compression::detect(magic);
        let dec = compression
            .decoder(br)
            .map_err(|e| io_err(name, &format!("bad {compression} stream"), e))?;
        let mut tee = Tee {
            inner: dec,
            hasher: Sha256::new(),
            out: tmp
                .as_ref()
                .map(|t| BufWriter::with_capacity(1 << 20, t.as_file())),
            count: 0,
            limit: *budget,
            exceeded: false,
        };
        let result = {
            let mut tr = BufReader::with_capacity(1 << 17, &mut tee);
            let r = {
                let mut ar = tar::Archive::new(&mut tr);
                match ar.entries() {
                    Ok(e) => index_entries(e, limits, paths),
                    Err(e) => Err(ImageError::new("", e.to_string())),
                }
            };
            // Hash the end-of-archive blocks and anything after them too.
            r.and_then(|entries| {
                io::copy(&mut tr, &mut io::sink())
                    .map(|_| entries)
                    .map_err(|e| ImageError::new("", e.to_string()))
            })
        };
        let (entries, index_err) = match result {
            Ok(e) => (e, None),
            Err(m) => (LayerIndex::default(), Some(m)),
        };
        let flushed = match tee.out.take() {
            Some(mut w) => w.flush(),
            None => Ok(()),
        };
        if index_err.is_none() {
            flushed.map_err(|e| io_err(&dir.display().to_string(), "write failed", e))?;
        }
        (
            entries,
            tee.hasher.finalize(),
            tee.count,
            compression,
            tee.exceeded,
            index_err,
        )
    };
    if exceeded {
        return Err(unpacked_over(name, total_limit));
    }
    if let Some(e) = index_err {
        if e.exceeded_budget().is_some() {
            return Err(e.within(name));
        }
        return Err(ImageError::new(
            name,
            format!("layer is not a valid {compression} tar: {}", e.message),
        ));
    }
    // The blob digest covers every byte of the blob, also any after the stream's end.
    io::copy(&mut hr, &mut io::sink()).map_err(|e| io_err(name, "read failed", e))?;
    let blob_digest = format!("sha256:{}", hex::encode(hr.hasher.finalize()));
    if let Some(expected) = &spec.blob_digest
        && &blob_digest != expected
    {
        return Err(ImageError::new(
            name,
            format!("blob digest mismatch: expected {expected}, content is {blob_digest}"),
        ));
    }
    if hr.count != compressed_size {
        return Err(ImageError::new(
            name,
            format!("truncated blob: {} of {compressed_size} bytes", hr.count),
        ));
    }
    let diff_id = format!("sha256:{}", hex::encode(diff_hash));
    if diff_id != spec.diff_id {
        return Err(ImageError::new(
            name,
            format!(
                "diff_id mismatch: the image config says {}, the uncompressed layer is {diff_id}",
                spec.diff_id
            ),
        ));
    }
    take_budget(name, budget, size, total_limit)?;
    // Atomic publish: concurrent writers of the same diff_id write identical bytes.
    let stored = match tmp {
        Some(tmp) => tmp.persist(&cached).map_err(|e| e.error),
        None => File::open(&cached),
    };
    let file =
        stored.map_err(|e| io_err(&cached.display().to_string(), "cannot store the layer", e))?;
    if std::fs::create_dir_all(&marker_dir).is_ok()
        && let Ok(blob_hex) = check_digest(name, &blob_digest)
        && let Ok(mut m) = tempfile::NamedTempFile::new_in(&marker_dir)
        && m.write_all(format!("{diff_id} {compression}\n").as_bytes())
            .is_ok()
    {
        // A missing marker only costs a re-read next time.
        let _ = m.persist(marker_dir.join(blob_hex));
    }
    Ok(UnpackedLayer {
        diff_id,
        blob_digest,
        compressed_size,
        size,
        compression,
        file: Arc::new(file),
        entries: Arc::new(entries),
    })
}

/// `sha256:HEX` of a whole blob, without decompressing it.
fn hash_blob(store: &dyn Store, name: &str) -> Result<String, ImageError> {
    let (raw, _) = store.open(name)?;
    let mut hr = HashReader {
        inner: raw,
        hasher: Sha256::new(),
        count: 0,
    };
    io::copy(&mut hr, &mut io::sink()).map_err(|e| io_err(name, "read failed", e))?;
    Ok(format!("sha256:{}", hex::encode(hr.hasher.finalize())))
}

fn take_budget(
    name: &str,
    budget: &mut u64,
    size: u64,
    total_limit: u64,
) -> Result<(), ImageError> {
    if size > *budget {
        return Err(unpacked_over(name, total_limit));
    }
    *budget -= size;
    Ok(())
}

fn unpacked_over(name: &str, total_limit: u64) -> ImageError {
    ImageError::budget(
        name,
        "the layers unpack to more bytes (a possible decompression bomb)",
        Budget::UnpackedBytes,
        total_limit,
    )
}

/// Index a stored, uncompressed layer tar (seeking over file contents).
fn index_file(file: &File, limits: &Limits, paths: &mut Paths) -> Result<LayerIndex, ImageError> {
    let mut ar = tar::Archive::new(file);
    let entries = ar
        .entries_with_seek()
        .map_err(|e| ImageError::new("", e.to_string()))?;
    index_entries(entries, limits, paths)
}

/// The absolute path of an entry name; `None` for the root itself.
///
/// An absolute name (`/ko-app/app`, as ko and some other builders write) is taken
/// relative to the image root, as Docker, containerd and GNU tar do: it cannot leave
/// the root. `..` is applied (`a/../b` is `/b`, as Docker cleans names); a name that
/// climbs above the root is refused.
fn entry_path(raw: &str) -> Result<Option<String>, ImageError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ImageError::new(
                        "",
                        format!(
                            "entry {} climbs out of the image root (`..` in its name)",
                            show(raw)
                        ),
                    ));
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for c in parts {
        out.push('/');
        out.push_str(c);
    }
    Ok(Some(out))
}

/// Index the entries of a layer tar, applying GNU long names and PAX records
/// ourselves (raw mode) so that their size is bounded, and every budget of `limits`.
fn index_entries<R: Read>(
    entries: tar::Entries<'_, R>,
    limits: &Limits,
    paths: &mut Paths,
) -> Result<LayerIndex, ImageError> {
    let io = |e: std::io::Error| ImageError::new("", e.to_string());
    let mut out = LayerIndex::default();
    let mut pending = Pending::default();
    for entry in entries.raw(true) {
        let mut entry = entry.map_err(io)?;
        if take_extension(&mut entry, limits, &mut pending)? {
            continue;
        }
        if entry.header().as_gnu().is_some_and(|g| g.is_extended()) {
            return Err(ImageError::new(
                "",
                "a GNU sparse entry with extension headers is not supported",
            ));
        }
        let p = std::mem::take(&mut pending);
        if out.len() >= limits.max_entries_per_layer {
            return Err(ImageError::budget(
                "",
                "entries in one layer",
                Budget::EntriesPerLayer,
                limits.max_entries_per_layer as u64,
            ));
        }
        if let Some(e) = index_one(&entry, p, limits)? {
            out.push(e, paths)?;
        }
    }
    if pending.path.is_some() || pending.link.is_some() {
        return Err(ImageError::new(
            "",
            "extension headers describing a member but no member found",
        ));
    }
    Ok(out)
}

/// One real (non-extension) tar entry; `None` for the root directory itself and
/// ignored aufs bookkeeping.
fn index_one<R: Read>(
    entry: &tar::Entry<'_, R>,
    p: Pending,
    limits: &Limits,
) -> Result<Option<RawEntry>, ImageError> {
    let header = entry.header();
    let et = header.entry_type();
    let raw_bytes = match p.path {
        Some(b) => b,
        None => entry.path_bytes().into_owned(),
    };
    if raw_bytes.len() > limits.max_path_bytes {
        return Err(ImageError::budget(
            "",
            format!(
                "entry {} has a {}-byte path",
                show(&String::from_utf8_lossy(
                    &raw_bytes[..200.min(raw_bytes.len())]
                )),
                raw_bytes.len()
            ),
            Budget::PathBytes,
            limits.max_path_bytes as u64,
        ));
    }
    let raw = String::from_utf8_lossy(&raw_bytes).into_owned();
    let Some(path) = entry_path(&raw)? else {
        return Ok(None); // the root directory itself
    };
    let depth = path.bytes().filter(|&b| b == b'/').count();
    if depth > limits.max_path_depth {
        return Err(ImageError::budget(
            "",
            format!("entry {} is {depth} directories deep", show(&raw)),
            Budget::PathDepth,
            limits.max_path_depth as u64,
        ));
    }
    // Tolerant: some writers leave numeric fields empty.
    let mode = header.mode().unwrap_or(0) & 0o7777;
    let uid = p.uid.unwrap_or_else(|| header.uid().unwrap_or(0));
    let gid = p.gid.unwrap_or_else(|| header.gid().unwrap_or(0));
    let (parent, base) = match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path.as_str()),
    };
    let plain = |path: String, kind: RawKind| RawEntry {
        path,
        kind,
        mode,
        uid,
        gid,
        size: 0,
        offset: 0,
        link: None,
        xattrs: Vec::new(),
    };
    if let Some(rest) = base.strip_prefix(".wh.") {
        if rest == ".wh..opq" {
            let dir = if parent.is_empty() { "/" } else { parent };
            return Ok(Some(plain(dir.to_string(), RawKind::Opaque)));
        } else if !rest.starts_with(".wh.") && !rest.is_empty() && rest != "." && rest != ".." {
            return Ok(Some(plain(format!("{parent}/{rest}"), RawKind::Whiteout)));
        }
        // Other `.wh..wh.*` names are aufs bookkeeping: ignored.
        return Ok(None);
    }
    let link_bytes = match p.link {
        Some(b) => Some(b),
        None => entry.link_name_bytes().map(|l| l.into_owned()),
    };
    let link_raw = || -> Result<String, ImageError> {
        let b = link_bytes.as_deref().unwrap_or_default();
        if b.len() > limits.max_link_target_bytes {
            return Err(ImageError::budget(
                "",
                format!("link {} has a {}-byte target", show(&raw), b.len()),
                Budget::LinkTargetBytes,
                limits.max_link_target_bytes as u64,
            ));
        }
        Ok(String::from_utf8_lossy(b).into_owned())
    };
    let (kind, link) = match et {
        tar::EntryType::Regular | tar::EntryType::Continuous => (RawKind::File, None),
        tar::EntryType::Directory => (RawKind::Dir, None),
        tar::EntryType::Symlink => (RawKind::Symlink, Some(link_raw()?)),
        tar::EntryType::Link => {
            let t = link_raw()?;
            let target = entry_path(&t)
                .map_err(|e| {
                    ImageError::new(
                        "",
                        format!(
                            "hardlink {} points outside the image root: {}",
                            show(&raw),
                            e.message
                        ),
                    )
                })?
                .ok_or_else(|| {
                    ImageError::new(
                        "",
                        format!("hardlink {} points at the root directory", show(&raw)),
                    )
                })?;
            (RawKind::Hardlink, Some(target))
        }
        tar::EntryType::Char => (RawKind::CharDevice, None),
        tar::EntryType::Block => (RawKind::BlockDevice, None),
        tar::EntryType::Fifo => (RawKind::Fifo, None),
        _ => (RawKind::Other, None),
    };
    let (size, offset) = if kind == RawKind::File {
        (entry.size(), entry.raw_file_position())
    } else {
        (0, 0)
    };
    let mut xattrs = p.xattrs;
    xattrs.sort();
    Ok(Some(RawEntry {
        path,
        kind,
        mode,
        uid,
        gid,
        size,
        offset,
        link,
        xattrs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(entry_path("./etc/passwd").unwrap().unwrap(), "/etc/passwd");
        assert_eq!(entry_path("./").unwrap(), None);
        assert!(entry_path("../etc/passwd").is_err());
        assert!(entry_path("a/../../b").is_err());
        assert_eq!(entry_path("a/../b").unwrap().unwrap(), "/b");
        assert_eq!(entry_path("/etc/passwd").unwrap().unwrap(), "/etc/passwd");
        assert_eq!(entry_path("/ko-app/app").unwrap().unwrap(), "/ko-app/app");
        assert!(entry_path("/../etc/passwd").is_err());
    }

    /// PAX `SCHILY.xattr.*` records (as GNU tar `--xattrs` writes them): kept, bounded
    /// per entry (count, value size), a file capability always kept.
    #[test]
    fn xattrs_are_kept_bounded() {
        fn record(key: &str, value: &[u8]) -> Vec<u8> {
            let body = [key.as_bytes(), b"=", value, b"\n"].concat();
            let mut n = body.len() + 1;
            loop {
                let len = n.to_string().len() + 1 + body.len();
                if len == n {
                    break;
                }
                n = len;
            }
            [format!("{n} ").into_bytes(), body].concat()
        }
        let cap = [
            1u8, 0, 0, 2, 0, 0x20, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let mut pax = Vec::new();
        for i in 0..20 {
            pax.extend(record(&format!("SCHILY.xattr.user.k{i:02}"), b"v"));
        }
        pax.extend(record("SCHILY.xattr.user.big", &[b'x'; 2000]));
        pax.extend(record("SCHILY.xattr.security.capability", &cap));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::XHeader);
        h.set_size(pax.len() as u64);
        h.set_cksum();
        b.append(&h, &pax[..]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("usr/bin/x").unwrap();
        h.set_size(3);
        h.set_mode(0o755);
        h.set_cksum();
        b.append(&h, &b"abc"[..]).unwrap();
        let data = b.into_inner().unwrap();
        let mut ar = tar::Archive::new(std::io::Cursor::new(data));
        let mut paths = Paths::new();
        let idx = index_entries(ar.entries().unwrap(), &Limits::default(), &mut paths).unwrap();
        let e = &idx.raw_entries(&paths)[0];
        assert_eq!(e.path, "/usr/bin/x");
        assert_eq!(e.xattrs.len(), crate::compression::MAX_XATTRS + 1);
        let c = e.xattrs.iter().find(|(k, _)| k == "security.capability");
        assert_eq!(c.map(|(_, v)| v.as_slice()), Some(&cap[..]));
        assert!(!e.xattrs.iter().any(|(k, _)| k == "user.big"));
        assert!(e.xattrs.windows(2).all(|w| w[0].0 <= w[1].0), "sorted");
    }

    #[test]
    fn compression_by_magic() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"etc/"), Compression::None);
        assert_eq!(Compression::detect(b""), Compression::None);
    }
}
