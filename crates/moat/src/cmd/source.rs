//! The flags every command that opens an image shares (`inspect`, `sbom`, `scan`): which
//! platform, which registries may be plain HTTP, and the budgets that bound what a
//! hostile image or server can make moat read, hold or wait for (docs/limits.md).
//! Each budget defaults to `moat_image::Limits` (itself overridable with
//! `MOAT_IMAGE_LIMITS=name=value,...`); a flag wins over both.

use crate::Global;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct SourceArgs {
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Registry hosts that may be reached over plain HTTP (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub insecure_registry: Vec<String>,
    /// Refuse images whose layers unpack to more than this (bytes, or K/M/G/T).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size, default_value = "8G")]
    pub max_unpacked_size: u64,
    /// Refuse a layer with more entries than this (default 1500000).
    #[arg(long, value_name = "N")]
    pub max_entries_per_layer: Option<usize>,
    /// Refuse an image with more entries, all layers together (default 3000000).
    #[arg(long, value_name = "N")]
    pub max_entries_per_image: Option<usize>,
    /// Refuse a path longer than this many bytes (default 4096).
    #[arg(long, value_name = "BYTES")]
    pub max_path_bytes: Option<usize>,
    /// Refuse a path deeper than this many components (default 512).
    #[arg(long, value_name = "N")]
    pub max_path_depth: Option<usize>,
    /// Refuse a symlink target longer than this many bytes (default 4096).
    #[arg(long, value_name = "BYTES")]
    pub max_link_target_bytes: Option<usize>,
    /// Refuse a manifest, index or config larger than this (default 16M).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size)]
    pub max_json_size: Option<u64>,
    /// Give up connecting to a registry or engine after this many seconds (default 15).
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,
    /// Give up when a registry or engine sends nothing for this many seconds (default 60).
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,
    /// Give up a whole pull or export after this many seconds (default 3600).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Skip (as an unknown) a package database, lockfile or manifest larger than this (default 64M).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size)]
    pub max_file_size: Option<u64>,
    /// Skip (as an unknown) a binary, jar or rpm database larger than this (default 512M).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size)]
    pub max_binary_size: Option<u64>,
}

impl SourceArgs {
    /// The catalogers' budgets these flags describe.
    pub fn catalog_limits(&self) -> moat_catalog::Limits {
        let mut l = moat_catalog::Limits::default();
        set(&mut l.max_file_bytes, self.max_file_size);
        set(&mut l.max_binary_bytes, self.max_binary_size);
        l
    }

    /// The image options these flags describe.
    pub fn open_options(&self, global: &Global) -> moat_image::OpenOptions {
        let mut o = moat_image::OpenOptions::new(global.cache_dir());
        o.platform = self.platform.clone();
        o.insecure_registries = self.insecure_registry.clone();
        o.max_unpacked_size = self.max_unpacked_size;
        let l = &mut o.limits;
        set(&mut l.max_entries_per_layer, self.max_entries_per_layer);
        set(&mut l.max_entries_per_image, self.max_entries_per_image);
        set(&mut l.max_path_bytes, self.max_path_bytes);
        set(&mut l.max_path_depth, self.max_path_depth);
        set(&mut l.max_link_target_bytes, self.max_link_target_bytes);
        set(&mut l.max_json_bytes, self.max_json_size);
        set(
            &mut l.connect_timeout,
            self.connect_timeout.map(Duration::from_secs),
        );
        set(
            &mut l.idle_timeout,
            self.idle_timeout.map(Duration::from_secs),
        );
        set(&mut l.total_timeout, self.timeout.map(Duration::from_secs));
        o
    }
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}
