//! Where blobs come from: a directory (OCI layout) or an indexed tar archive (docker
//! save output, oci-archive). Neither ever follows a host symlink or writes anything
//! outside the cache directory.

use crate::compression::{Pending, show, take_extension};
use crate::{Budget, ImageError, Limits, OpenOptions};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A source of named blobs.
pub(crate) trait Store {
    /// The largest JSON document (index, manifest, config) [`Store::read_small`] reads.
    fn json_limit(&self) -> u64;
    /// Open a blob by its path inside the layout or archive; returns its size too.
    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), ImageError>;
    /// Whether `name` exists.
    fn exists(&self, name: &str) -> bool;

    /// Read a whole (small) blob, verifying it against `expected` when given.
    fn read_small(&self, name: &str, expected: Option<&str>) -> Result<Vec<u8>, ImageError> {
        let (r, size) = self.open(name)?;
        let limit = self.json_limit();
        if size > limit {
            return Err(ImageError::budget(
                name,
                format!("a JSON document of {size} bytes"),
                crate::Budget::JsonBytes,
                limit,
            ));
        }
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        r.take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| ImageError::new(name, format!("read failed: {e}")))?;
        if buf.len() as u64 != size {
            return Err(ImageError::new(
                name,
                format!("truncated: {} of {size} bytes", buf.len()),
            ));
        }
        if let Some(d) = expected {
            verify_bytes(name, d, &buf)?;
        }
        Ok(buf)
    }
}

/// `sha256:HEX` of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Split and validate `sha256:HEX` (the only algorithm images use in practice).
pub(crate) fn check_digest(input: &str, digest: &str) -> Result<String, ImageError> {
    match digest.split_once(':') {
        Some(("sha256", hex))
            if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(hex.to_string())
        }
        Some(("sha256", _)) => Err(ImageError::new(
            input,
            format!("malformed digest {digest:?}"),
        )),
        _ => Err(ImageError::new(
            input,
            format!("unsupported or malformed digest {digest:?} (only sha256 is supported)"),
        )),
    }
}

/// `blobs/sha256/HEX` for a digest.
pub(crate) fn blob_path(input: &str, digest: &str) -> Result<String, ImageError> {
    let hex = check_digest(input, digest)?;
    Ok(format!("blobs/sha256/{hex}"))
}

pub(crate) fn verify_bytes(name: &str, expected: &str, bytes: &[u8]) -> Result<(), ImageError> {
    check_digest(name, expected)?;
    let got = sha256_digest(bytes);
    if got != expected {
        return Err(ImageError::new(
            name,
            format!("digest mismatch: expected {expected}, content is {got}"),
        ));
    }
    Ok(())
}

/// Components of a relative archive/layout path; `..` and absolute names are refused.
fn clean_relative(name: &str) -> Result<Vec<&str>, ImageError> {
    if name.starts_with('/') {
        return Err(ImageError::new(name, "absolute path"));
    }
    let mut out = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(ImageError::new(name, "path climbs out of the root (`..`)"));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A bounded reader over a byte range of a file, by `pread` (no shared cursor).
pub(crate) struct RangeReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl<'a> RangeReader<'a> {
    pub(crate) fn new(file: &'a File, offset: u64, size: u64) -> Self {
        RangeReader {
            file,
            pos: offset,
            end: offset.saturating_add(size),
        }
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let got = self.file.read_at(&mut buf[..n], self.pos)?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file ends before the entry's content",
            ));
        }
        self.pos += got as u64;
        Ok(got)
    }
}

/// An OCI image layout directory.
pub(crate) struct DirStore {
    root: PathBuf,
    json_limit: u64,
}

impl DirStore {
    pub(crate) fn new(root: &Path, json_limit: u64) -> Result<Self, ImageError> {
        let m = std::fs::metadata(root)
            .map_err(|e| ImageError::new(root.display().to_string(), e.to_string()))?;
        if !m.is_dir() {
            return Err(ImageError::new(
                root.display().to_string(),
                "not a directory",
            ));
        }
        Ok(DirStore {
            root: root.into(),
            json_limit,
        })
    }

    fn host_path(&self, name: &str) -> Result<PathBuf, ImageError> {
        let comps = clean_relative(name)?;
        let mut p = self.root.clone();
        let last = comps.len().saturating_sub(1);
        for (i, c) in comps.iter().enumerate() {
            p.push(c);
            if i < last {
                // Intermediate components must be real directories, never links.
                match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.file_type().is_dir() => {}
                    Ok(_) => {
                        return Err(ImageError::new(
                            name,
                            "a path component is not a directory (links are not followed)",
                        ));
                    }
                    Err(_) => return Err(ImageError::new(name, "missing")),
                }
            }
        }
        Ok(p)
    }
}

impl Store for DirStore {
    fn json_limit(&self) -> u64 {
        self.json_limit
    }
    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), ImageError> {
        let p = self.host_path(name)?;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&p)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    ImageError::new(name, "missing (the layout does not contain this blob)")
                } else {
                    ImageError::new(name, format!("cannot open: {e}"))
                }
            })?;
        let m = f
            .metadata()
            .map_err(|e| ImageError::new(name, e.to_string()))?;
        if !m.is_file() {
            return Err(ImageError::new(name, "not a regular file"));
        }
        Ok((Box::new(f), m.len()))
    }

    fn exists(&self, name: &str) -> bool {
        self.host_path(name)
            .ok()
            .and_then(|p| std::fs::symlink_metadata(p).ok())
            .is_some_and(|m| m.is_file())
    }
}

#[derive(Debug, Clone)]
enum Item {
    File { offset: u64, size: u64 },
    Symlink(String),
    Hardlink(String),
    Other,
}

/// A tar archive (plain, or gzip/zstd compressed as a whole: then decompressed once
/// into an anonymous scratch file in the cache directory), indexed by entry name.
pub(crate) struct TarStore {
    file: File,
    items: BTreeMap<String, Item>,
    json_limit: u64,
}

impl TarStore {
    /// Errors name no input: the caller adds the source (which names the path).
    pub(crate) fn open(path: &Path, opts: &OpenOptions) -> Result<Self, ImageError> {
        let input = String::new();
        // Checked before opening: opening a FIFO would block.
        if !std::fs::metadata(path)
            .map_err(|e| ImageError::new(&input, e.to_string()))?
            .is_file()
        {
            return Err(ImageError::new(&input, "not a regular file"));
        }
        let mut f = File::open(path).map_err(|e| ImageError::new(&input, e.to_string()))?;
        let mut magic = [0u8; 4];
        let n =
            read_up_to(&mut f, &mut magic).map_err(|e| ImageError::new(&input, e.to_string()))?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| ImageError::new(&input, e.to_string()))?;
        let compression = crate::compression::Compression::detect(&magic[..n]);
        let file = if compression == crate::compression::Compression::None {
            f
        } else {
            let tmp_dir = opts.cache_dir.join("tmp");
            std::fs::create_dir_all(&tmp_dir)
                .map_err(|e| ImageError::new(tmp_dir.display().to_string(), e.to_string()))?;
            let mut out = tempfile::tempfile_in(&tmp_dir)
                .map_err(|e| ImageError::new(tmp_dir.display().to_string(), e.to_string()))?;
            let mut dec = compression
                .decoder(BufReader::with_capacity(1 << 17, f))
                .map_err(|e| ImageError::new(&input, format!("bad {compression} stream: {e}")))?;
            let limit = opts
                .max_unpacked_size
                .saturating_add(opts.limits.max_json_bytes);
            let copied = io::copy(&mut (&mut dec).take(limit.saturating_add(1)), &mut out)
                .map_err(|e| {
                    ImageError::new(&input, format!("decompressing the archive failed: {e}"))
                })?;
            if copied > limit {
                return Err(ImageError::new(
                    &input,
                    format!(
                        "decompresses to more than {limit} bytes (the unpacked-size limit); refusing a possible decompression bomb"
                    ),
                ));
            }
            out.seek(SeekFrom::Start(0))
                .map_err(|e| ImageError::new(&input, e.to_string()))?;
            out
        };
        let items = index_outer(&file, &opts.limits)?;
        Ok(TarStore {
            file,
            items,
            json_limit: opts.limits.max_json_bytes,
        })
    }

    fn lookup(&self, name: &str) -> Result<(u64, u64), ImageError> {
        let mut cur = normalize_rel(name)?;
        for _ in 0..moat_fs::MAX_SYMLINK_HOPS {
            match self.items.get(&cur) {
                None => {
                    return Err(ImageError::new(
                        name,
                        "missing (the archive does not contain this file)",
                    ));
                }
                Some(Item::File { offset, size }) => return Ok((*offset, *size)),
                Some(Item::Other) => return Err(ImageError::new(name, "not a regular file")),
                Some(Item::Symlink(t)) => {
                    let dir = moat_fs::parent(&format!("/{cur}")).to_string();
                    cur = moat_fs::join(&dir, t).trim_start_matches('/').to_string();
                }
                Some(Item::Hardlink(t)) => {
                    cur = normalize_rel(t).map_err(|e| ImageError::new(name, e.message))?;
                }
            }
        }
        Err(ImageError::new(name, "too many levels of links"))
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

fn normalize_rel(name: &str) -> Result<String, ImageError> {
    Ok(clean_relative(name)?.join("/"))
}

/// Index the outer archive (a docker-archive or oci-archive tar), in raw mode so that
/// GNU long names and PAX records are read within their budgets.
fn index_outer(file: &File, limits: &Limits) -> Result<BTreeMap<String, Item>, ImageError> {
    let bad = |e: io::Error| ImageError::new("", format!("not a readable tar archive: {e}"));
    let mut items = BTreeMap::new();
    let mut ar = tar::Archive::new(file);
    let entries = ar.entries_with_seek().map_err(bad)?;
    let end = file
        .metadata()
        .map_err(|e| ImageError::new("", e.to_string()))?
        .len();
    let mut pending = Pending::default();
    for entry in entries.raw(true) {
        let mut entry = entry.map_err(bad)?;
        if take_extension(&mut entry, limits, &mut pending)? {
            continue;
        }
        let et = entry.header().entry_type();
        if items.len() >= limits.max_entries_per_layer {
            return Err(ImageError::budget(
                "",
                "entries in the archive",
                Budget::EntriesPerLayer,
                limits.max_entries_per_layer as u64,
            ));
        }
        let raw = match pending.path.take() {
            Some(n) => String::from_utf8_lossy(&n).into_owned(),
            None => String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
        };
        let link_bytes = pending.link.take();
        pending = Pending::default();
        let name = normalize_rel(&raw).map_err(|e| {
            ImageError::new("", format!("archive entry {}: {}", show(&raw), e.message))
        })?;
        let link = || match &link_bytes {
            Some(l) => String::from_utf8_lossy(l).into_owned(),
            None => entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default(),
        };
        let item = match et {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let offset = entry.raw_file_position();
                let size = entry.size();
                if offset.saturating_add(size) > end {
                    return Err(ImageError::new(
                        "",
                        format!(
                            "truncated: entry {} claims {size} bytes past the end of the file",
                            show(&raw)
                        ),
                    ));
                }
                Item::File { offset, size }
            }
            tar::EntryType::Symlink => Item::Symlink(link()),
            tar::EntryType::Link => Item::Hardlink(link()),
            _ => Item::Other,
        };
        if !name.is_empty() {
            items.insert(name, item);
        }
    }
    Ok(items)
}

impl Store for TarStore {
    fn json_limit(&self) -> u64 {
        self.json_limit
    }
    fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), ImageError> {
        let (offset, size) = self.lookup(name)?;
        Ok((Box::new(RangeReader::new(&self.file, offset, size)), size))
    }

    fn exists(&self, name: &str) -> bool {
        self.lookup(name).is_ok()
    }
}
