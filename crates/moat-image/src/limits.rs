//! Budgets for reading untrusted images (issue 12): every one has a default here, is
//! carried in [`crate::OpenOptions::limits`], and when exceeded gives an
//! [`crate::ImageError`] of kind [`crate::ImageErrorKind::Budget`] naming the input and
//! the budget. See `docs/limits.md`.

use std::fmt;
use std::time::Duration;

/// One budget, named in errors (`the max-path-bytes budget (4096)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Budget {
    /// Entries in one layer tar.
    EntriesPerLayer,
    /// Entries over all layers of an image (a repeated layer counts each time).
    EntriesPerImage,
    /// Bytes of one entry's path.
    PathBytes,
    /// Components of one entry's path.
    PathDepth,
    /// Bytes of one symlink or hardlink target.
    LinkTargetBytes,
    /// Bytes of one JSON document (index, manifest, config, docker manifest.json).
    JsonBytes,
    /// Bytes of one tar extension header (PAX records, GNU long names).
    ExtensionHeaderBytes,
    /// Unpacked bytes of all layers (`--max-unpacked-size`), also the size a blob
    /// descriptor may claim and the bytes of an engine export.
    UnpackedBytes,
    /// Seconds to establish a connection.
    ConnectTimeout,
    /// Seconds without a single byte from a server.
    IdleTimeout,
    /// Seconds for a whole pull or export.
    TotalTimeout,
}

impl Budget {
    /// The budget's name, as in `docs/limits.md` and `MOAT_IMAGE_LIMITS`.
    pub fn name(self) -> &'static str {
        match self {
            Budget::EntriesPerLayer => "max-entries-per-layer",
            Budget::EntriesPerImage => "max-entries-per-image",
            Budget::PathBytes => "max-path-bytes",
            Budget::PathDepth => "max-path-depth",
            Budget::LinkTargetBytes => "max-link-target-bytes",
            Budget::JsonBytes => "max-json-bytes",
            Budget::ExtensionHeaderBytes => "max-extension-header-bytes",
            Budget::UnpackedBytes => "max-unpacked-size",
            Budget::ConnectTimeout => "connect-timeout",
            Budget::IdleTimeout => "idle-timeout",
            Budget::TotalTimeout => "total-timeout",
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every budget of image reading, with defaults ([`Limits::default`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_entries_per_layer: usize,
    pub max_entries_per_image: usize,
    /// Bytes of an entry path (Linux's PATH_MAX).
    pub max_path_bytes: usize,
    /// Components of an entry path.
    pub max_path_depth: usize,
    /// Bytes of a symlink or hardlink target.
    pub max_link_target_bytes: usize,
    /// Bytes of one JSON document of an image (index, manifest, config).
    pub max_json_bytes: u64,
    /// Bytes of one PAX extension header of a layer tar.
    pub max_extension_header_bytes: u64,
    /// Time to connect to a registry, token server or engine.
    pub connect_timeout: Duration,
    /// Longest silence of a registry, token server or engine (no byte received).
    pub idle_timeout: Duration,
    /// Whole pull from a registry / export from an engine.
    pub total_timeout: Duration,
}

pub const DEFAULT_MAX_ENTRIES_PER_LAYER: usize = 1_500_000;
pub const DEFAULT_MAX_ENTRIES_PER_IMAGE: usize = 3_000_000;
pub const DEFAULT_MAX_PATH_BYTES: usize = 4096;
pub const DEFAULT_MAX_PATH_DEPTH: usize = 512;
pub const DEFAULT_MAX_LINK_TARGET_BYTES: usize = 4096;
pub const DEFAULT_MAX_JSON_BYTES: u64 = 16 << 20;
pub const DEFAULT_MAX_EXTENSION_HEADER_BYTES: u64 = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries_per_layer: DEFAULT_MAX_ENTRIES_PER_LAYER,
            max_entries_per_image: DEFAULT_MAX_ENTRIES_PER_IMAGE,
            max_path_bytes: DEFAULT_MAX_PATH_BYTES,
            max_path_depth: DEFAULT_MAX_PATH_DEPTH,
            max_link_target_bytes: DEFAULT_MAX_LINK_TARGET_BYTES,
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
            max_extension_header_bytes: DEFAULT_MAX_EXTENSION_HEADER_BYTES,
            connect_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(60),
            total_timeout: Duration::from_secs(3600),
        }
    }
}

/// Why a `MOAT_IMAGE_LIMITS` setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MOAT_IMAGE_LIMITS: {0}")]
pub struct LimitsParseError(String);

impl Limits {
    /// The defaults with `MOAT_IMAGE_LIMITS` applied when it is set and valid
    /// (`idle-timeout=5,max-entries-per-layer=1000`; times in seconds). An invalid
    /// value leaves the defaults in force.
    pub fn from_env() -> Limits {
        let mut l = Limits::default();
        if let Ok(spec) = std::env::var("MOAT_IMAGE_LIMITS")
            && let Ok(parsed) = l.clone().with_overrides(&spec)
        {
            l = parsed;
        }
        l
    }

    /// Apply `name=value` pairs separated by commas (the names of [`Budget`]).
    pub fn with_overrides(mut self, spec: &str) -> Result<Limits, LimitsParseError> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| LimitsParseError(format!("{pair:?} is not NAME=VALUE")))?;
            let n: u64 = v
                .trim()
                .parse()
                .map_err(|_| LimitsParseError(format!("{k}: {v:?} is not a whole number")))?;
            let size = usize::try_from(n).unwrap_or(usize::MAX);
            match k.trim() {
                "max-entries-per-layer" => self.max_entries_per_layer = size,
                "max-entries-per-image" => self.max_entries_per_image = size,
                "max-path-bytes" => self.max_path_bytes = size,
                "max-path-depth" => self.max_path_depth = size,
                "max-link-target-bytes" => self.max_link_target_bytes = size,
                "max-json-bytes" => self.max_json_bytes = n,
                "max-extension-header-bytes" => self.max_extension_header_bytes = n,
                "connect-timeout" => self.connect_timeout = Duration::from_secs(n),
                "idle-timeout" => self.idle_timeout = Duration::from_secs(n),
                "total-timeout" => self.total_timeout = Duration::from_secs(n),
                other => return Err(LimitsParseError(format!("unknown budget {other:?}"))),
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides() {
        let l = Limits::default()
            .with_overrides("idle-timeout=2, max-entries-per-layer=10")
            .unwrap();
        assert_eq!(l.idle_timeout, Duration::from_secs(2));
        assert_eq!(l.max_entries_per_layer, 10);
        assert!(Limits::default().with_overrides("nope=1").is_err());
        assert!(Limits::default().with_overrides("idle-timeout=x").is_err());
    }
}
