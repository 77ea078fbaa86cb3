//! One layer: stream its blob once (verifying the blob digest on the compressed bytes
//! and the diff_id on the uncompressed bytes, enforcing the unpacked-size budget),
//! store the uncompressed tar in the cache keyed by diff_id, and index its entries
//! (header data and the byte offset of each file's content). Nothing is extracted.

use crate::ImageError;
use crate::store::{Store, check_digest};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

/// Entries one layer may hold (bounds the memory of the index).
pub(crate) const MAX_ENTRIES_PER_LAYER: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

impl Compression {
    /// By magic bytes, never by media type (which may lie).
    pub(crate) fn detect(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub(crate) fn decoder<'a, B: BufRead + Send + 'a>(
        self,
        b: B,
    ) -> io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::None => Box::new(b),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(b)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(b)?),
        })
    }

    pub(crate) fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

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

pub(crate) struct UnpackedLayer {
    pub diff_id: String,
    /// The verified (or, where the manifest states none, computed) blob digest.
    pub blob_digest: String,
    pub compressed_size: u64,
    pub size: u64,
    pub compression: Compression,
    pub file: File,
    pub entries: Vec<RawEntry>,
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
            let entries = index_file(&file).map_err(|m| {
                ImageError::new(
                    cached.display().to_string(),
                    format!("cached layer unreadable ({m}); delete the cache directory"),
                )
            })?;
            return Ok(UnpackedLayer {
                diff_id: spec.diff_id.clone(),
                blob_digest: blob,
                compressed_size,
                size,
                compression,
                file,
                entries,
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
                    Ok(e) => index_entries(e),
                    Err(e) => Err(e.to_string()),
                }
            };
            // Hash the end-of-archive blocks and anything after them too.
            r.and_then(|entries| {
                io::copy(&mut tr, &mut io::sink())
                    .map(|_| entries)
                    .map_err(|e| e.to_string())
            })
        };
        let (entries, index_err) = match result {
            Ok(e) => (e, None),
            Err(m) => (Vec::new(), Some(m)),
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
        return Err(ImageError::new(
            name,
            format!(
                "layers unpack to more than {total_limit} bytes (the unpacked-size limit); refusing a possible decompression bomb"
            ),
        ));
    }
    if let Some(m) = index_err {
        return Err(ImageError::new(
            name,
            format!("layer is not a valid {compression} tar: {m}"),
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
    if entries.len() > MAX_ENTRIES_PER_LAYER {
        return Err(ImageError::new(
            name,
            format!("more than {MAX_ENTRIES_PER_LAYER} entries in one layer"),
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
        file,
        entries,
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
        return Err(ImageError::new(
            name,
            format!(
                "layers unpack to more than {total_limit} bytes (the unpacked-size limit); refusing a possible decompression bomb"
            ),
        ));
    }
    *budget -= size;
    Ok(())
}

/// Index a stored, uncompressed layer tar (seeking over file contents).
fn index_file(file: &File) -> Result<Vec<RawEntry>, String> {
    let mut ar = tar::Archive::new(file);
    let entries = ar.entries_with_seek().map_err(|e| e.to_string())?;
    index_entries(entries)
}

/// The absolute path of an entry name; `None` for the root itself.
/// An entry name for a message: quoted, at most 200 characters.
pub(crate) fn show(raw: &str) -> String {
    if raw.chars().count() > 200 {
        let head: String = raw.chars().take(200).collect();
        format!("{head:?}...")
    } else {
        format!("{raw:?}")
    }
}

///
/// An absolute name (`/ko-app/app`, as ko and some other builders write) is taken
/// relative to the image root, as Docker, containerd and GNU tar do: it cannot leave
/// the root. `..` is applied (`a/../b` is `/b`, as Docker cleans names); a name that
/// climbs above the root is refused.
fn entry_path(raw: &str) -> Result<Option<String>, String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "entry {} climbs out of the image root (`..` in its name)",
                        show(raw)
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

fn index_entries<R: Read>(entries: tar::Entries<'_, R>) -> Result<Vec<RawEntry>, String> {
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        if out.len() >= MAX_ENTRIES_PER_LAYER {
            return Err(format!("more than {MAX_ENTRIES_PER_LAYER} entries"));
        }
        let header = entry.header();
        let et = header.entry_type();
        if matches!(
            et,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName
        ) || matches!(et, tar::EntryType::GNULongLink)
        {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = entry_path(&raw)? else {
            continue; // the root directory itself
        };
        // Tolerant: some writers leave numeric fields empty.
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let (parent, base) = match path.rfind('/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path.as_str()),
        };
        if let Some(rest) = base.strip_prefix(".wh.") {
            if rest == ".wh..opq" {
                let dir = if parent.is_empty() { "/" } else { parent };
                out.push(RawEntry {
                    path: dir.to_string(),
                    kind: RawKind::Opaque,
                    mode,
                    uid,
                    gid,
                    size: 0,
                    offset: 0,
                    link: None,
                });
            } else if !rest.starts_with(".wh.") && !rest.is_empty() && rest != "." && rest != ".." {
                out.push(RawEntry {
                    path: format!("{parent}/{rest}"),
                    kind: RawKind::Whiteout,
                    mode,
                    uid,
                    gid,
                    size: 0,
                    offset: 0,
                    link: None,
                });
            }
            // Other `.wh..wh.*` names are aufs bookkeeping: ignored.
            continue;
        }
        let link_raw = || {
            entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default()
        };
        let (kind, link) = match et {
            tar::EntryType::Regular | tar::EntryType::Continuous => (RawKind::File, None),
            tar::EntryType::Directory => (RawKind::Dir, None),
            tar::EntryType::Symlink => (RawKind::Symlink, Some(link_raw())),
            tar::EntryType::Link => {
                let t = link_raw();
                let target = entry_path(&t)
                    .map_err(|m| {
                        format!("hardlink {} points outside the image root: {m}", show(&raw))
                    })?
                    .ok_or_else(|| {
                        format!("hardlink {} points at the root directory", show(&raw))
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
        out.push(RawEntry {
            path,
            kind,
            mode,
            uid,
            gid,
            size,
            offset,
            link,
        });
    }
    Ok(out)
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
