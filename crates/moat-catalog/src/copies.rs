//! Copies of one content (hard links, the same file stored twice): parsed once.
//!
//! A file is recognised as a copy of one already parsed by the same cataloger when its
//! size, mode and owner are equal and its first [`HEAD`] bytes have the same SHA-256
//! (the whole content for files up to that size). Binaries and archives differ in
//! their first bytes (ELF notes with build IDs, the first zip entry with its CRC), so
//! this finds hard links without reading a big file again and again.

use crate::{Ctx, Found, location};
use moat_fs::FileMeta;
use moat_model::{Location, Unknown};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;

/// Bytes hashed to recognise a copy.
const HEAD: u64 = 64 << 10;
/// Smaller files are parsed again (cheaper than hashing them).
const MIN_SIZE: u64 = 4 << 10;
/// Copies of one content listed as extra locations; beyond, one unknown says so.
pub const MAX_COPIES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    cataloger: usize,
    size: u64,
    mode: u32,
    uid: u64,
    gid: u64,
    head: [u8; 32],
    /// The file name, for catalogers whose result depends on it.
    name: Option<String>,
}

struct Original {
    path: String,
    packages: Range<usize>,
    unknowns: Range<usize>,
    copies: usize,
}

#[derive(Default)]
pub struct Copies {
    seen: HashMap<Key, Original>,
}

/// The key of `meta` for cataloger `ci`, or `None` for a file too small to bother or
/// unreadable (it is then parsed, and fails, normally).
pub fn key(ctx: &Ctx<'_>, meta: &FileMeta, ci: usize, name_matters: bool) -> Option<Key> {
    if meta.size < MIN_SIZE {
        return None;
    }
    let mut r = ctx.resolver.open(&meta.path).ok()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 8 << 10];
    let mut left = HEAD;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = r.read(&mut buf[..want]).ok()?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    ctx.count_read(HEAD - left);
    Some(Key {
        cataloger: ci,
        size: meta.size,
        mode: meta.mode,
        uid: meta.uid,
        gid: meta.gid,
        head: h.finalize().into(),
        name: name_matters.then(|| meta.path.rsplit('/').next().unwrap_or("").to_string()),
    })
}

/// `loc` of the original moved to the copy at `to`: the file itself, or an entry
/// inside it (`/a.jar:lib/b.jar`).
fn moved(loc: &Location, from: &str, to: &FileMeta) -> Option<Location> {
    let rest = loc.path.strip_prefix(from)?;
    if !(rest.is_empty() || rest.starts_with(':')) {
        return None;
    }
    Some(Location {
        path: format!("{}{rest}", to.path),
        layer: to.layer.clone(),
    })
}

impl Copies {
    /// When `meta` is a copy of a file already parsed, add its locations to what that
    /// file gave and return true (the copy is not parsed).
    pub fn add_copy(&mut self, key: &Key, meta: &FileMeta, found: &mut Found) -> bool {
        let Some(orig) = self.seen.get_mut(key) else {
            return false;
        };
        orig.copies += 1;
        if orig.copies > MAX_COPIES {
            if orig.copies == MAX_COPIES + 1 {
                found.unknowns.push(Unknown {
                    location: location(meta),
                    reason: format!(
                        "catalog: more than {MAX_COPIES} copies (hard links) of the content of {}: this one and further ones are not listed",
                        orig.path
                    ),
                });
            }
            return true;
        }
        for p in found
            .packages
            .get_mut(orig.packages.clone())
            .unwrap_or_default()
        {
            let extra: Vec<Location> = p
                .locations
                .iter()
                .filter_map(|l| moved(l, &orig.path, meta))
                .collect();
            p.locations.extend(extra);
        }
        let extra: Vec<Unknown> = found
            .unknowns
            .get(orig.unknowns.clone())
            .unwrap_or_default()
            .iter()
            .filter_map(|u| {
                Some(Unknown {
                    location: moved(&u.location, &orig.path, meta)?,
                    reason: u.reason.clone(),
                })
            })
            .collect();
        found.unknowns.extend(extra);
        true
    }

    /// Remember what parsing `meta` gave (`before`: the lengths before it was parsed).
    pub fn record(&mut self, key: Key, meta: &FileMeta, before: (usize, usize), found: &Found) {
        self.seen.insert(
            key,
            Original {
                path: meta.path.clone(),
                packages: before.0..found.packages.len(),
                unknowns: before.1..found.unknowns.len(),
                copies: 0,
            },
        );
    }
}
