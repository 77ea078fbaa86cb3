//! rpm: `var/lib/rpm/rpmdb.sqlite` (rpm >= 4.16), BerkeleyDB `Packages`, NDB
//! `Packages.db` (SUSE).
//!
//! Every backend stores the same thing: one RPM header blob per package (the
//! documented header structure: index count, data length, 16-byte index entries, data
//! store). There is no Rust crate for the BerkeleyDB hash or NDB container formats, so
//! they are read by hand here, following knqyf263/go-rpmdb (the reference that syft
//! and Trivy use); SQLite goes through rusqlite (bundled, read from memory).

use crate::{CatalogError, Cataloger, Ctx, Found, MAX_METADATA, Selector, license_list, package};
use moat_fs::FileMeta;
use moat_model::Ecosystem;

pub struct RpmDb;

const TAG_NAME: i32 = 1000;
const TAG_VERSION: i32 = 1001;
const TAG_RELEASE: i32 = 1002;
const TAG_EPOCH: i32 = 1003;
const TAG_VENDOR: i32 = 1011;
const TAG_LICENSE: i32 = 1014;
const TAG_ARCH: i32 = 1022;
const TAG_OLDFILENAMES: i32 = 1027;
const TAG_FILESTATES: i32 = 1029;
const TAG_FILEMODES: i32 = 1030;
const TAG_FILEDIGESTS: i32 = 1035;
const TAG_FILEFLAGS: i32 = 1037;
const TAG_FILEVERIFYFLAGS: i32 = 1045;
const TAG_FILEDIGESTALGO: i32 = 5011;
const TAG_SOURCERPM: i32 = 1044;
const TAG_PROVIDENAME: i32 = 1047;
const TAG_REQUIRENAME: i32 = 1049;
const TAG_DIRINDEXES: i32 = 1116;
const TAG_BASENAMES: i32 = 1117;
const TAG_DIRNAMES: i32 = 1118;

/// One package read from an RPM header.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RpmEntry {
    pub name: String,
    pub epoch: Option<i32>,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub source_rpm: String,
    pub license: String,
    pub vendor: String,
    pub files: Vec<String>,
    /// `Requires` names (`libc.so.6()(64bit)`, `/bin/sh`, `bash`), `rpmlib(...)` left out.
    pub requires: Vec<String>,
    /// `Provides` names.
    pub provides: Vec<String>,
    /// Every file of [`RpmEntry::files`] with what the header records about it (same
    /// order; a per-file array whose length differs from the file list is ignored).
    pub file_entries: Vec<RpmFile>,
}

/// `RPMFILE_CONFIG`: a `%config` file.
pub const RPMFILE_CONFIG: u32 = 1 << 0;
/// `RPMFILE_GHOST`: a `%ghost` file (owned, not shipped: no content to compare).
pub const RPMFILE_GHOST: u32 = 1 << 6;

/// The digest algorithm of a package's `FILEDIGESTS` (`FILEDIGESTALGO`, rpm's
/// `pgpHashAlgo` numbers; absent means MD5).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RpmDigestAlgo {
    #[default]
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    /// A number rpm does not use for file digests.
    Other(u32),
}

impl RpmDigestAlgo {
    pub fn from_tag(v: u32) -> RpmDigestAlgo {
        match v {
            1 => RpmDigestAlgo::Md5,
            2 => RpmDigestAlgo::Sha1,
            8 => RpmDigestAlgo::Sha256,
            9 => RpmDigestAlgo::Sha384,
            10 => RpmDigestAlgo::Sha512,
            n => RpmDigestAlgo::Other(n),
        }
    }

    /// Length of the hex digest.
    pub fn hex_len(self) -> Option<usize> {
        match self {
            RpmDigestAlgo::Md5 => Some(32),
            RpmDigestAlgo::Sha1 => Some(40),
            RpmDigestAlgo::Sha256 => Some(64),
            RpmDigestAlgo::Sha384 => Some(96),
            RpmDigestAlgo::Sha512 => Some(128),
            RpmDigestAlgo::Other(_) => None,
        }
    }
}

/// One file of a package as its header records it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RpmFile {
    pub path: String,
    /// Lower-case hex content digest (`FILEDIGESTS`); empty for directories, symlinks,
    /// ghosts and when the header has none.
    pub digest: String,
    pub algo: RpmDigestAlgo,
    /// `FILEFLAGS` (`RPMFILE_CONFIG`, `RPMFILE_GHOST`, ...); 0 when absent.
    pub flags: u32,
    /// `FILEMODES` (type and permission bits, `0o100644`); 0 when absent.
    pub mode: u16,
    /// `FILESTATES`: 0 normal, 1 replaced (another package's file now), 2 not installed
    /// (`--excludedocs`, `%_install_langs`), 3 net shared, 4 wrong colour (the other
    /// architecture's copy of a multilib file); 0 when absent.
    pub state: u8,
    /// `FILEVERIFYFLAGS` (what `rpm -V` checks; `%verify(not md5)` clears
    /// [`RPMVERIFY_FILEDIGEST`]); every bit set when absent, as rpm assumes.
    pub verify: u32,
}

/// `RPMVERIFY_FILEDIGEST`: `rpm -V` compares the file's digest.
pub const RPMVERIFY_FILEDIGEST: u32 = 1 << 0;

impl RpmFile {
    /// A regular file (by its recorded mode).
    pub fn is_regular(&self) -> bool {
        self.mode & 0o170000 == 0o100000
    }
    pub fn is_config(&self) -> bool {
        self.flags & RPMFILE_CONFIG != 0
    }
    pub fn is_ghost(&self) -> bool {
        self.flags & RPMFILE_GHOST != 0
    }
    /// The content can be compared with [`RpmFile::digest`]: a regular file in the
    /// normal state, not a ghost, not `%verify(not md5)`, with a digest.
    pub fn verifiable(&self) -> bool {
        self.is_regular()
            && self.state == 0
            && !self.is_ghost()
            && self.verify & RPMVERIFY_FILEDIGEST != 0
            && !self.digest.is_empty()
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parse one header blob (no lead, no magic: `il`, `dl`, index, data).
pub fn parse_header(blob: &[u8]) -> Result<RpmEntry, CatalogError> {
    parse_header_limited(blob, crate::Limits::default().max_file_bytes)
}

/// [`parse_header`], the file list (directory + base name of every file) refused when
/// it would grow past `max_files` bytes. Every count is checked against the bytes the
/// blob really has before anything is allocated.
pub fn parse_header_limited(blob: &[u8], max_files: u64) -> Result<RpmEntry, CatalogError> {
    let il = be32(blob, 0).ok_or("header too short")? as usize;
    let dl = be32(blob, 4).ok_or("header too short")? as usize;
    let data_start = il
        .checked_mul(16)
        .and_then(|x| x.checked_add(8))
        .ok_or("header index too large")?;
    let data_end = data_start.checked_add(dl).ok_or("header data too large")?;
    if il > 100_000 || data_end > blob.len() {
        return Err(CatalogError::Malformed(format!(
            "header claims {il} entries and {dl} data bytes, blob has {}",
            blob.len()
        )));
    }
    let data = &blob[data_start..data_end];
    let mut e = RpmEntry::default();
    let (mut dirindexes, mut basenames, mut dirnames) = (Vec::new(), Vec::new(), Vec::new());
    let (mut digests, mut flags, mut modes) = (Vec::new(), Vec::<u32>::new(), Vec::<u16>::new());
    let mut verify = Vec::<u32>::new();
    let mut states: &[u8] = &[];
    let mut algo = RpmDigestAlgo::Md5;
    // At most `count` NUL-terminated strings from `off`; the count was checked against
    // the bytes left, so the vector is bounded by the data size.
    let strings = |off: usize, count: usize| -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = data.get(off..).unwrap_or(&[]);
        for _ in 0..count {
            if rest.is_empty() {
                break;
            }
            let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            rest = rest.get(end + 1..).unwrap_or(&[]);
        }
        out
    };
    let mut done = std::collections::HashSet::new();
    for i in 0..il {
        let at = 8 + i * 16;
        let tag = be32(blob, at).ok_or("truncated index")? as i32;
        let ty = be32(blob, at + 4).ok_or("truncated index")?;
        let off = be32(blob, at + 8).ok_or("truncated index")? as usize;
        let count = be32(blob, at + 12).ok_or("truncated index")? as usize;
        let left = data.len().saturating_sub(off);
        let fits = match ty {
            // int32: 4 bytes each; int16: 2; char, int8, bin: 1; strings: at least
            // their NUL each.
            4 => count.checked_mul(4).is_some_and(|n| n <= left),
            3 => count.checked_mul(2).is_some_and(|n| n <= left),
            1 | 2 | 7 | 6 | 8 | 9 => count <= left,
            _ => true,
        };
        if !fits || off > data.len() {
            return Err(CatalogError::Malformed(format!(
                "header entry {i} (tag {tag}) claims {count} values at offset {off}, the data has {} bytes",
                data.len()
            )));
        }
        // A tag repeated in the index is read once (the first one, as rpm does).
        if !done.insert(tag) {
            continue;
        }
        let first = || strings(off, 1).into_iter().next().unwrap_or_default();
        match (tag, ty) {
            (TAG_NAME, 6 | 9) => e.name = first(),
            (TAG_VERSION, 6 | 9) => e.version = first(),
            (TAG_RELEASE, 6 | 9) => e.release = first(),
            (TAG_ARCH, 6 | 9) => e.arch = first(),
            (TAG_SOURCERPM, 6 | 9) => e.source_rpm = first(),
            (TAG_LICENSE, 6 | 9) => e.license = first(),
            (TAG_VENDOR, 6 | 9) => e.vendor = first(),
            (TAG_EPOCH, 4) => e.epoch = be32(data, off).map(|v| v as i32),
            (TAG_BASENAMES, 8) => basenames = strings(off, count),
            (TAG_DIRNAMES, 8) => dirnames = strings(off, count),
            (TAG_OLDFILENAMES, 8) => e.files = strings(off, count),
            (TAG_REQUIRENAME, 8) => {
                e.requires = strings(off, count)
                    .into_iter()
                    .filter(|r| !r.starts_with("rpmlib("))
                    .collect();
                e.requires.sort();
                e.requires.dedup();
            }
            (TAG_PROVIDENAME, 8) => e.provides = strings(off, count),
            (TAG_DIRINDEXES, 4) => {
                dirindexes = (0..count).map_while(|k| be32(data, off + 4 * k)).collect()
            }
            (TAG_FILEDIGESTS, 8) => digests = strings(off, count),
            (TAG_FILEFLAGS, 4) => {
                flags = (0..count).map_while(|k| be32(data, off + 4 * k)).collect()
            }
            (TAG_FILESTATES, 1 | 2) => states = data.get(off..off + count).unwrap_or(&[]),
            (TAG_FILEVERIFYFLAGS, 4) => {
                verify = (0..count).map_while(|k| be32(data, off + 4 * k)).collect()
            }
            (TAG_FILEMODES, 3) => {
                modes = (0..count)
                    .map_while(|k| {
                        let s = data.get(off + 2 * k..off + 2 * k + 2)?;
                        Some(u16::from_be_bytes([s[0], s[1]]))
                    })
                    .collect()
            }
            (TAG_FILEDIGESTALGO, 4) => {
                if let Some(v) = be32(data, off) {
                    algo = RpmDigestAlgo::from_tag(v);
                }
            }
            _ => {}
        }
    }
    // (index into the per-file arrays, path): old headers list whole paths.
    let mut paths: Vec<(usize, String)> = std::mem::take(&mut e.files)
        .into_iter()
        .enumerate()
        .collect();
    let mut total = paths.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
    if !basenames.is_empty() {
        paths.clear();
        total = 0;
    }
    for (k, (b, d)) in basenames.iter().zip(dirindexes.iter()).enumerate() {
        if let Some(dir) = dirnames.get(*d as usize) {
            total += (dir.len() + b.len()) as u64;
            if total > max_files {
                return Err(CatalogError::OverBudget {
                    what: format!("package {}: file list", e.name),
                    limit: max_files,
                    budget: "max_file_bytes",
                });
            }
            paths.push((k, format!("{dir}{b}")));
        }
    }
    // Per-file arrays count for the whole list (`basenames`/old file names) or not
    // at all: a header whose arrays disagree gives no digests, flags or modes.
    let n = if basenames.is_empty() {
        paths.len()
    } else {
        basenames.len()
    };
    let digests = if digests.len() == n {
        digests
    } else {
        Vec::new()
    };
    let flags = if flags.len() == n { flags } else { Vec::new() };
    let modes = if modes.len() == n { modes } else { Vec::new() };
    let verify = if verify.len() == n {
        verify
    } else {
        Vec::new()
    };
    let states = if states.len() == n { states } else { &[] };
    for (k, path) in paths {
        let mut digest = digests.get(k).cloned().unwrap_or_default();
        digest.make_ascii_lowercase();
        if algo.hex_len() != Some(digest.len()) || !digest.bytes().all(|c| c.is_ascii_hexdigit()) {
            digest.clear();
        }
        e.file_entries.push(RpmFile {
            path: path.clone(),
            digest,
            algo,
            flags: flags.get(k).copied().unwrap_or(0),
            mode: modes.get(k).copied().unwrap_or(0),
            verify: verify.get(k).copied().unwrap_or(u32::MAX),
            state: states.get(k).copied().unwrap_or(0),
        });
        e.files.push(path);
    }
    if e.name.is_empty() {
        return Err("header without a name".into());
    }
    Ok(e)
}

/// `util-linux-2.32.1-42.el8_8.src.rpm` → (`util-linux`, `2.32.1-42.el8_8`).
pub fn split_source_rpm(s: &str) -> Option<(String, String)> {
    let base = s.strip_suffix(".rpm")?;
    let base = base.rsplit_once('.').map(|(b, _arch)| b).unwrap_or(base);
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_string(), format!("{version}-{release}")))
}

/// Header blobs of an SQLite rpmdb.
pub fn sqlite_blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, CatalogError> {
    sqlite_blobs_limited(data, &crate::Limits::default())
}

/// [`sqlite_blobs`] within budgets: `Packages` must be a table (a view can compute
/// rows forever), at most `max_sqlite_rows` rows, the query interrupted after
/// `max_sqlite_kilosteps` thousand VM steps, no value longer than `max_file_bytes`.
pub fn sqlite_blobs_limited(
    data: &[u8],
    limits: &crate::Limits,
) -> Result<Vec<Vec<u8>>, CatalogError> {
    let bad = |e: rusqlite::Error| CatalogError::Malformed(e.to_string());
    // A WAL-mode database (header bytes 18/19 = 2) cannot be opened from memory:
    // mark the copy as a rollback-journal database; the content is the same.
    let data: std::borrow::Cow<'_, [u8]> = if data.get(18..20) == Some(&[2, 2]) {
        let mut copy = data.to_vec();
        if let Some(b) = copy.get_mut(18..20) {
            b.copy_from_slice(&[1, 1]);
        }
        copy.into()
    } else {
        data.into()
    };
    let mut conn = rusqlite::Connection::open_in_memory().map_err(bad)?;
    let max_len = i32::try_from(limits.max_file_bytes).unwrap_or(i32::MAX);
    conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, max_len)
        .map_err(bad)?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, &data[..], data.len(), true)
        .map_err(|e| format!("not an SQLite database: {e}"))?;
    conn.pragma_update(None, "query_only", true).map_err(bad)?;
    let kind: Option<String> = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |r| r.get(0),
        )
        .ok();
    if kind.as_deref() != Some("table") {
        return Err(CatalogError::Malformed(format!(
            "no Packages table (found {})",
            kind.as_deref().unwrap_or("nothing")
        )));
    }
    // Every 1000 VM steps: stop after the budget (a huge table scan or a costly
    // generated column).
    let budget = limits.max_sqlite_kilosteps;
    let steps = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = steps.clone();
    conn.progress_handler(
        1000,
        Some(move || counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= budget),
    )
    .map_err(bad)?;
    let mut st = conn
        .prepare("SELECT blob FROM Packages")
        .map_err(|e| format!("no Packages table: {e}"))?;
    let mut rows = st.query([]).map_err(bad)?;
    let mut out = Vec::new();
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                return Err(CatalogError::OverCount {
                    what: "the Packages query".into(),
                    limit: budget.saturating_mul(1000),
                    budget: "max_sqlite_kilosteps (SQLite steps)",
                });
            }
            Err(e) => return Err(bad(e)),
        };
        if out.len() >= limits.max_sqlite_rows {
            return Err(CatalogError::OverCount {
                what: "the rows of Packages".into(),
                limit: limits.max_sqlite_rows as u64,
                budget: "max_sqlite_rows",
            });
        }
        out.push(row.get::<_, Vec<u8>>(0).map_err(bad)?);
    }
    Ok(out)
}

/// Parse every package of a database file, whatever its backend.
pub fn parse_db(path: &str, data: &[u8]) -> Result<Vec<RpmEntry>, CatalogError> {
    parse_db_limited(path, data, &crate::Limits::default())
}

/// [`parse_db`] within `limits`.
pub fn parse_db_limited(
    path: &str,
    data: &[u8],
    limits: &crate::Limits,
) -> Result<Vec<RpmEntry>, CatalogError> {
    let blobs = if data.starts_with(b"SQLite format 3\0") {
        sqlite_blobs_limited(data, limits)?
    } else if data.get(0..4) == Some(b"RpmP") {
        ndb_blobs(data)?
    } else if data.get(12..16) == Some(&[0x61, 0x15, 0x06, 0x00]) {
        bdb_blobs(data)?
    } else {
        return Err(CatalogError::Malformed(format!(
            "{path}: not an SQLite, NDB or BerkeleyDB hash rpm database"
        )));
    };
    let mut out = Vec::new();
    let mut files = 0u64;
    for b in blobs {
        let e = parse_header_limited(&b, limits.max_file_bytes.saturating_sub(files))?;
        files += e.files.iter().map(|f| f.len() as u64).sum::<u64>();
        // `gpg-pubkey` entries are keys, not packages (rpm -qa lists them; syft drops them).
        if e.name != "gpg-pubkey" {
            out.push(e);
        }
    }
    Ok(out)
}

/// Where an image keeps its rpm database, in the order [`installed`] tries them:
/// SQLite before NDB before BerkeleyDB (a converted database leaves nothing of the
/// old one behind, a stale copy is the older format), `/var/lib/rpm` first (often a
/// symlink to `/usr/lib/sysimage/rpm`, the same files).
pub const DB_PATHS: &[&str] = &[
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpm/Packages",
    "/usr/lib/sysimage/rpm/Packages",
];

/// The installed packages of the image's rpm database (the first of [`DB_PATHS`]
/// that is a file), with that path; `Ok(None)` when there is none. The database is
/// read up to `max_binary_bytes`, parsed within `limits`.
pub fn installed(
    r: &dyn moat_fs::FileResolver,
    limits: &crate::Limits,
) -> Result<Option<(String, Vec<RpmEntry>)>, CatalogError> {
    for p in DB_PATHS {
        let Some(meta) = r.stat(p)? else { continue };
        if meta.kind != moat_fs::FileKind::File {
            continue;
        }
        if meta.size > limits.max_binary_bytes {
            return Err(CatalogError::OverBudget {
                what: format!("{p} ({} bytes)", meta.size),
                limit: limits.max_binary_bytes,
                budget: "max_binary_bytes",
            });
        }
        let data = r.read_limited(p, limits.max_binary_bytes)?;
        return Ok(Some((p.to_string(), parse_db_limited(p, &data, limits)?)));
    }
    Ok(None)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// NDB (`Packages.db`): a 4 KiB-paged file; slot pages after the 16-byte header hold
/// 16-byte slots (magic `Slot`, package index, block offset, block count); each blob
/// starts at `blkoff * 16` with a 16-byte blob header (magic `BlbS`, pkg index,
/// checksum, length).
fn ndb_blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, CatalogError> {
    const PAGE: usize = 4096;
    const BLK: usize = 16;
    let slot_pages = le32(data, 12).ok_or("NDB header too short")? as usize;
    if slot_pages == 0 || slot_pages > 2048 {
        return Err(CatalogError::Malformed(format!(
            "NDB: implausible slot page count {slot_pages}"
        )));
    }
    let mut out = Vec::new();
    let slots_end = (slot_pages * PAGE).min(data.len());
    let mut at = 16usize * 2; // the header occupies the first two slot positions
    while at + 16 <= slots_end {
        if data.get(at..at + 4) == Some(b"Slot") {
            let pkg = le32(data, at + 4).unwrap_or(0);
            let blkoff = le32(data, at + 8).unwrap_or(0) as usize;
            if pkg != 0 && blkoff != 0 {
                let bs = blkoff * BLK;
                if data.get(bs..bs + 4) != Some(b"BlbS") {
                    return Err(CatalogError::Malformed(format!(
                        "NDB: slot of package {pkg} points to no blob"
                    )));
                }
                let len = le32(data, bs + 12).ok_or("NDB: truncated blob header")? as usize;
                let blob = data
                    .get(bs + 16..bs + 16 + len)
                    .ok_or(format!("NDB: blob of package {pkg} runs past the end"))?;
                out.push(blob.to_vec());
            }
        }
        at += 16;
    }
    Ok(out)
}

/// BerkeleyDB hash database (`Packages`, rpm < 4.16). Pages of `pagesize` bytes; hash
/// pages (type 13, `P_HASH`) hold key/data item pairs; a data item of type 3
/// (`H_OFFPAGE`) points to a chain of overflow pages (type 7) holding the header blob.
fn bdb_blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, CatalogError> {
    let pagesize = le32(data, 20).ok_or("BDB metadata too short")? as usize;
    if !(512..=65536).contains(&pagesize) || !pagesize.is_power_of_two() {
        return Err(CatalogError::Malformed(format!(
            "BDB: bad page size {pagesize}"
        )));
    }
    let last = le32(data, 32).ok_or("BDB metadata too short")? as usize;
    let page = |n: usize| data.get(n * pagesize..(n + 1) * pagesize);
    let u16le = |b: &[u8], at: usize| {
        b.get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
    };
    let mut out = Vec::new();
    for n in 1..=last {
        let Some(p) = page(n) else { break };
        if p.get(25) != Some(&13) {
            continue;
        }
        let entries = u16le(p, 20).unwrap_or(0);
        // Item offsets follow the 26-byte page header; pairs are (key, data).
        for i in (1..entries).step_by(2) {
            let Some(off) = u16le(p, 26 + 2 * i) else {
                break;
            };
            if p.get(off) != Some(&3) {
                continue;
            }
            let mut pgno = le32(p, off + 4).unwrap_or(0) as usize;
            let total = le32(p, off + 8).unwrap_or(0) as usize;
            if total > MAX_METADATA as usize {
                return Err(CatalogError::Malformed(format!(
                    "BDB: overflow item of {total} bytes"
                )));
            }
            let mut blob = Vec::with_capacity(total);
            let mut hops = 0;
            while pgno != 0 && blob.len() < total && hops <= last {
                let op = page(pgno).ok_or(format!("BDB: overflow page {pgno} past the end"))?;
                if op.get(25) != Some(&7) {
                    return Err(CatalogError::Malformed(format!(
                        "BDB: page {pgno} is not an overflow page"
                    )));
                }
                // hf_offset (bytes used) is at 22 for overflow pages.
                let used = u16le(op, 22).unwrap_or(0);
                let chunk = op
                    .get(26..26 + used)
                    .ok_or("BDB: overflow page too short")?;
                blob.extend_from_slice(chunk);
                pgno = le32(op, 16).unwrap_or(0) as usize;
                hops += 1;
            }
            blob.truncate(total);
            out.push(blob);
        }
    }
    Ok(out)
}

impl Cataloger for RpmDb {
    fn name(&self) -> &'static str {
        "rpm-db"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&[
            "**/var/lib/rpm/rpmdb.sqlite",
            "**/var/lib/rpm/Packages",
            "**/var/lib/rpm/Packages.db",
            "**/usr/lib/sysimage/rpm/rpmdb.sqlite",
            "**/usr/lib/sysimage/rpm/Packages",
            "**/usr/lib/sysimage/rpm/Packages.db",
        ])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_binary(file)?;
        let entries = parse_db_limited(&file.path, &data, &ctx.limits)?;
        // Files some package requires by path (`/bin/sh`): their owners provide them.
        let wanted: std::collections::HashSet<&str> = entries
            .iter()
            .flat_map(|e| e.requires.iter())
            .filter(|r| r.starts_with('/'))
            .map(String::as_str)
            .collect();
        let mut file_provides = Vec::new();
        for e in &entries {
            for f in e.files.iter().filter(|f| wanted.contains(f.as_str())) {
                file_provides.push((e.name.clone(), f.clone()));
            }
        }
        for e in entries {
            let vr = format!("{}-{}", e.version, e.release);
            let version = match e.epoch {
                Some(ep) => format!("{ep}:{vr}"),
                None => vr.clone(),
            };
            let mut p = moat_model::PurlParts::new(
                "rpm",
                Some(
                    ctx.distro
                        .map(|d| d.id.as_str())
                        .filter(|s| !s.is_empty())
                        .unwrap_or("redhat"),
                ),
                &e.name,
                Some(&vr),
            )
            .with_qualifier("arch", &e.arch);
            if let Some(ep) = e.epoch {
                p = p.with_qualifier("epoch", &ep.to_string());
            }
            if let Some(d) = ctx.distro.filter(|d| !d.version_id.is_empty()) {
                p = p.with_qualifier("distro", &format!("{}-{}", d.id, d.version_id));
            }
            if !e.source_rpm.is_empty() {
                p = p.with_qualifier("upstream", &e.source_rpm);
            }
            let mut pk = package(&e.name, &version, Ecosystem::Rpm, p.build(), file);
            match split_source_rpm(&e.source_rpm) {
                Some((sn, sv)) => {
                    pk.source_name = Some(sn);
                    if sv != vr {
                        pk.source_version = Some(sv);
                    }
                }
                None => pk.source_name = Some(e.name.clone()),
            }
            pk.licenses = license_list(&e.license);
            for r in &e.requires {
                found
                    .deps
                    .push(crate::DepRef::of(&pk, Ecosystem::Rpm, r, None));
            }
            for v in &e.provides {
                found
                    .provides
                    .push((Ecosystem::Rpm, v.clone(), pk.purl.clone()));
            }
            for (_, f) in file_provides.iter().filter(|(n, _)| *n == e.name) {
                found
                    .provides
                    .push((Ecosystem::Rpm, f.clone(), pk.purl.clone()));
            }
            found.packages.push(pk);
            found.owned_files.extend(e.files);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    /// An rpmdb.sqlite image of `rows` one-byte blobs.
    fn sqlite_with_rows(rows: usize) -> Vec<u8> {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL);
             WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 20000)
             INSERT INTO Packages (blob) SELECT x'00' FROM r;",
        )
        .unwrap();
        c.execute("DELETE FROM Packages WHERE hnum > ?1", [rows as i64])
            .unwrap();
        c.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
    }

    #[test]
    fn sqlite_rows_and_steps_are_bounded() {
        let db = sqlite_with_rows(20_000);
        assert_eq!(sqlite_blobs(&db).unwrap().len(), 20_000);
        let rows = Limits {
            max_sqlite_rows: 100,
            ..Limits::default()
        };
        let e = sqlite_blobs_limited(&db, &rows).unwrap_err().to_string();
        assert!(e.contains("max_sqlite_rows"), "{e}");
        let steps = Limits {
            max_sqlite_kilosteps: 5,
            ..Limits::default()
        };
        let e = sqlite_blobs_limited(&db, &steps).unwrap_err().to_string();
        assert!(e.contains("max_sqlite_kilosteps"), "{e}");
    }

    #[test]
    fn header_counts_must_fit_the_data() {
        // One BASENAMES entry claiming 1,000 strings in 4 bytes of data.
        let mut blob = Vec::new();
        blob.extend_from_slice(&1u32.to_be_bytes());
        blob.extend_from_slice(&4u32.to_be_bytes());
        for v in [TAG_BASENAMES as u32, 8, 0, 1000] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
        blob.extend_from_slice(b"a\0b\0");
        let e = parse_header(&blob).unwrap_err().to_string();
        assert!(e.contains("claims 1000 values"), "{e}");
    }

    /// A header from (tag, type, bytes) entries, each value's bytes at its own offset.
    fn header(entries: &[(i32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, count, bytes) in entries {
            for v in [*tag as u32, *ty, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        blob.extend_from_slice(&index);
        blob.extend_from_slice(&data);
        blob
    }

    fn be32s(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    #[test]
    fn per_file_tags_stay_aligned_with_the_file_list() {
        let sha = "AB".repeat(32);
        let blob = header(&[
            (TAG_NAME, 6, 1, b"p\0".to_vec()),
            (TAG_DIRNAMES, 8, 2, b"/etc/\0/usr/bin/\0".to_vec()),
            (TAG_BASENAMES, 8, 3, b"p.conf\0p\0gone\0".to_vec()),
            // The third file's directory index points nowhere: it is dropped, the
            // other two keep their own digests.
            (TAG_DIRINDEXES, 4, 3, be32s(&[0, 1, 7])),
            (
                TAG_FILEDIGESTS,
                8,
                3,
                format!("{}\0{sha}\0\0", "cd".repeat(32)).into_bytes(),
            ),
            (
                TAG_FILEFLAGS,
                4,
                3,
                be32s(&[RPMFILE_CONFIG, 0, RPMFILE_GHOST]),
            ),
            (
                TAG_FILEMODES,
                3,
                3,
                [0o100644u16, 0o104755, 0o100644]
                    .iter()
                    .flat_map(|m| m.to_be_bytes())
                    .collect(),
            ),
            (TAG_FILEDIGESTALGO, 4, 1, be32s(&[8])),
            (TAG_FILESTATES, 1, 3, vec![0, 1, 2]),
        ]);
        let e = parse_header(&blob).unwrap();
        assert_eq!(e.files, ["/etc/p.conf", "/usr/bin/p"]);
        let f = &e.file_entries;
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].path.as_str(), f[0].flags),
            ("/etc/p.conf", RPMFILE_CONFIG)
        );
        assert_eq!(f[0].digest, "cd".repeat(32));
        assert!(f[0].is_config() && f[0].is_regular());
        assert_eq!(f[1].digest, "ab".repeat(32), "lower-cased");
        assert_eq!((f[1].mode, f[1].algo), (0o104755, RpmDigestAlgo::Sha256));
        assert_eq!((f[0].state, f[1].state), (0, 1));
        assert!(f[0].verifiable() && !f[1].verifiable(), "a replaced file");
    }

    #[test]
    fn hostile_per_file_tags_are_refused_or_ignored() {
        let base = || {
            vec![
                (TAG_NAME, 6, 1, b"p\0".to_vec()),
                (TAG_DIRNAMES, 8, 1, b"/\0".to_vec()),
                (TAG_BASENAMES, 8, 2, b"a\0b\0".to_vec()),
                (TAG_DIRINDEXES, 4, 2, be32s(&[0, 0])),
            ]
        };
        // FILEMODES claiming a million int16 values in 4 bytes: refused.
        let mut h = base();
        h.push((TAG_FILEMODES, 3, 1_000_000, vec![0x81, 0xa4, 0x81, 0xa4]));
        let e = parse_header(&header(&h)).unwrap_err().to_string();
        assert!(e.contains("claims 1000000 values"), "{e}");
        // FILESTATES (char) claiming more bytes than the data has: refused.
        let mut h = base();
        h.push((TAG_FILESTATES, 1, 3, vec![0, 1]));
        let e = parse_header(&header(&h)).unwrap_err().to_string();
        assert!(e.contains("claims 3 values"), "{e}");
        // FILEFLAGS claiming u32::MAX values: refused, no overflow.
        let mut h = base();
        h.push((TAG_FILEFLAGS, 4, u32::MAX, be32s(&[0, 0])));
        assert!(parse_header(&header(&h)).is_err());
        // Arrays of the wrong length (one digest and one mode for two files), a digest
        // of the wrong length for the algorithm, a non-hex digest: no digests, no
        // flags, no modes, no panic; the files are still listed.
        let mut h = base();
        h.push((TAG_FILEDIGESTS, 8, 1, b"00\0".to_vec()));
        h.push((TAG_FILEMODES, 3, 1, vec![0x81, 0xa4]));
        h.push((TAG_FILEFLAGS, 4, 2, be32s(&[1, 1])));
        h.push((TAG_FILESTATES, 1, 1, vec![1]));
        let e = parse_header(&header(&h)).unwrap();
        assert!(e.file_entries.iter().all(|f| f.state == 0));
        assert_eq!(e.files, ["/a", "/b"]);
        assert!(
            e.file_entries
                .iter()
                .all(|f| f.digest.is_empty() && f.mode == 0)
        );
        assert!(e.file_entries.iter().all(|f| f.flags == 1));
        let mut h = base();
        h.push((
            TAG_FILEDIGESTS,
            8,
            2,
            format!("{}\0{}\0", "zz".repeat(16), "ab".repeat(20)).into_bytes(),
        ));
        let e = parse_header(&header(&h)).unwrap();
        assert!(e.file_entries.iter().all(|f| f.digest.is_empty()), "{e:?}");
        // An unknown digest algorithm: digests are not trusted.
        let mut h = base();
        h.push((
            TAG_FILEDIGESTS,
            8,
            2,
            format!("{0}\0{0}\0", "ab".repeat(32)).into_bytes(),
        ));
        h.push((TAG_FILEDIGESTALGO, 4, 1, be32s(&[99])));
        let e = parse_header(&header(&h)).unwrap();
        assert_eq!(e.file_entries[0].algo, RpmDigestAlgo::Other(99));
        assert!(e.file_entries.iter().all(|f| f.digest.is_empty()));
    }
}
