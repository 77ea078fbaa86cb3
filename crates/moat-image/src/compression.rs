//! Layer and archive compression, told by magic bytes; and how entry names are quoted
//! in messages. Shared by the blob stores and the layer reader (no cycle between them).

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
