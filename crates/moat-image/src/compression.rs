//! Layer and archive compression, told by magic bytes; how entry names are quoted in
//! messages; bounded reads of tar extension headers. Shared by the blob stores and the
//! layer reader (so neither imports the other).

use crate::{Budget, ImageError};
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
