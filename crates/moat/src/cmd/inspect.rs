//! `moat inspect SOURCE`: an image's config, layers, history and size, without a
//! daemon. Opening verifies every blob and warms the layer cache for a later scan.
//!
//! Exit codes: 0 shown, 2 the image cannot be opened (one line naming the input).

use crate::Global;
use moat_report::Format;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The image: docker-archive:PATH, oci-dir:PATH[:TAG|@DIGEST], oci-archive:PATH,
    /// registry:REF, docker:REF, dir:PATH, rootfs:PATH, or a bare path or reference.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    #[arg(long, default_value = "table",
          value_parser = super::formats(&[Format::Table, Format::Json]))]
    pub format: Format,
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Refuse images whose layers unpack to more than this (bytes, or with a K/M/G/T suffix).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "8G")]
    pub max_unpacked_size: u64,
    /// Registry hosts that may be reached over plain HTTP (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub insecure_registry: Vec<String>,
}

/// `123`, `10K`, `512M`, `8G`, `1T` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                'B' => 1,
                _ => return Err(format!("unknown size suffix in {s:?}")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut opts = moat_image::OpenOptions::new(global.cache_dir());
    opts.platform = args.platform.clone();
    opts.max_unpacked_size = args.max_unpacked_size;
    opts.insecure_registries = args.insecure_registry.clone();
    let image = moat_image::open(&args.source, &opts)?;
    let m = image.metadata();
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => moat_report::json::write(m, &mut stdout)?,
        Format::Table => moat_report::inspect::table(m, &mut stdout)?,
        _ => unreachable!("clap admits only inspect's formats"),
    }
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8G").unwrap(), 8 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
