//! Layer and archive compression, told by magic bytes; how entry names are quoted in
//! messages; bounded reads of tar extension headers. Shared by the blob stores and the
//! layer reader (so neither imports the other).

use crate::{Budget, ImageError, Limits};
use std::fmt;
use std::io::{self, BufRead, Read};

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

/// An entry name for a message: quoted, at most 200 characters.
pub(crate) fn show(raw: &str) -> String {
    if raw.chars().count() > 200 {
        let head: String = raw.chars().take(200).collect();
        format!("{head:?}...")
    } else {
        format!("{raw:?}")
    }
}

/// Read the content of an extension entry (GNU long name, PAX records), at most
/// `limit` bytes: the `tar` crate would read any size into memory.
pub(crate) fn read_extension<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    limit: u64,
    budget: Budget,
    what: &str,
) -> Result<Vec<u8>, ImageError> {
    let size = entry.size();
    if size > limit {
        return Err(ImageError::budget(
            "",
            format!("a {what} of {size} bytes"),
            budget,
            limit,
        ));
    }
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry
        .take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| ImageError::new("", format!("reading a {what}: {e}")))?;
    if buf.last() == Some(&0) {
        buf.pop();
    }
    Ok(buf)
}

/// The extension records (GNU long name and link, PAX `path`, `linkpath`, `uid`, `gid`)
/// that apply to the next real entry of a tar read in raw mode.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) path: Option<Vec<u8>>,
    pub(crate) link: Option<Vec<u8>>,
    pub(crate) uid: Option<u64>,
    pub(crate) gid: Option<u64>,
    /// Extended attributes (PAX `SCHILY.xattr.NAME`), at most [`MAX_XATTRS`] with
    /// values of at most [`MAX_XATTR_VALUE`] bytes; others are not kept.
    pub(crate) xattrs: Vec<(String, Vec<u8>)>,
}

/// Extended attributes kept per entry (Linux allows far more, but no image needs
/// them: capabilities, SELinux labels, ACLs).
pub(crate) const MAX_XATTRS: usize = 16;
/// Bytes of one kept extended attribute's value (a file capability is 20-24 bytes, an
/// ACL of a few entries under 100).
pub(crate) const MAX_XATTR_VALUE: usize = 1024;

/// When `entry` is an extension header (GNU long name or link, PAX local or global),
/// read it within the budgets of `limits` into `pending` and return true; a real entry
/// returns false. Shared by layer tars and the outer archive: both are read in raw mode
/// so that no extension record is ever read unbounded.
pub(crate) fn take_extension<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    limits: &Limits,
    pending: &mut Pending,
) -> Result<bool, ImageError> {
    let et = entry.header().entry_type();
    if et.is_gnu_longname() {
        pending.path = Some(read_extension(
            entry,
            (limits.max_path_bytes as u64).saturating_add(1),
            Budget::PathBytes,
            "GNU long name",
        )?);
        return Ok(true);
    }
    if et.is_gnu_longlink() {
        pending.link = Some(read_extension(
            entry,
            (limits.max_link_target_bytes as u64).saturating_add(1),
            Budget::LinkTargetBytes,
            "GNU long link name",
        )?);
        return Ok(true);
    }
    if et.is_pax_global_extensions() {
        return Ok(true);
    }
    if !et.is_pax_local_extensions() {
        return Ok(false);
    }
    let data = read_extension(
        entry,
        limits.max_extension_header_bytes,
        Budget::ExtensionHeaderBytes,
        "PAX extension header",
    )?;
    for ext in tar::PaxExtensions::new(&data) {
        let ext = ext.map_err(|e| ImageError::new("", format!("bad PAX record: {e}")))?;
        match ext.key_bytes() {
            b"path" => pending.path = Some(ext.value_bytes().to_vec()),
            b"linkpath" => pending.link = Some(ext.value_bytes().to_vec()),
            b"uid" => pending.uid = ext.value().ok().and_then(|v| v.parse().ok()),
            b"gid" => pending.gid = ext.value().ok().and_then(|v| v.parse().ok()),
            k if k.starts_with(b"SCHILY.xattr.") => {
                let name = &k[b"SCHILY.xattr.".len()..];
                let v = ext.value_bytes();
                // A file capability is always kept: junk records before it cannot
                // push it out.
                if (pending.xattrs.len() < MAX_XATTRS || name == b"security.capability")
                    && !name.is_empty()
                    && name.len() <= 255
                    && v.len() <= MAX_XATTR_VALUE
                {
                    pending
                        .xattrs
                        .push((String::from_utf8_lossy(name).into_owned(), v.to_vec()));
                }
            }
            b"size" => {
                // The tar reader would skip the wrong number of bytes.
                return Err(ImageError::new(
                    "",
                    "a PAX size record (an entry over 8 GiB) is not supported",
                ));
            }
            _ => {}
        }
    }
    Ok(true)
}
