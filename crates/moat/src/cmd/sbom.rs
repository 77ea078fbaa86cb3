//! `moat sbom SOURCE`: the inventory of an image or a source tree as CycloneDX 1.6,
//! SPDX 2.3, moat's JSON or a table.

use crate::Global;
use anyhow::Context;
use moat_catalog::{Mode, Options};
use moat_model::Inventory;
use moat_report::SbomMeta;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    #[value(name = "cyclonedx-json")]
    CyclonedxJson,
    #[value(name = "spdx-json")]
    SpdxJson,
    Json,
    Table,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to inventory: docker-archive:PATH, oci-dir:PATH, oci-archive:PATH,
    /// registry:REF, docker:REF, rootfs:PATH, dir:PATH (also reads lockfiles), or a path.
    pub source: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Catalog `source`: `dir:` runs the lockfile catalogers too; `rootfs:` and images
/// catalog installed packages only.
pub fn inventory(global: &Global, source: &str) -> anyhow::Result<Inventory> {
    let (scheme, rest) = source.split_once(':').unwrap_or(("", source));
    let dir = match scheme {
        "dir" => Some((rest, Mode::Directory)),
        "rootfs" => Some((rest, Mode::Image)),
        "" if Path::new(source).is_dir() => Some((source, Mode::Directory)),
        _ => None,
    };
    if let Some((path, mode)) = dir {
        let r = moat_fs::DirResolver::new(path).with_context(|| source.to_string())?;
        return Ok(moat_catalog::catalog(&r, &Options { mode }));
    }
    let opts = moat_image::OpenOptions {
        cache_dir: global.cache_dir(),
        platform: None,
        insecure_registries: Vec::new(),
        max_unpacked_size: 8 << 30,
        docker_host: None,
        limits: moat_image::Limits::from_env(),
    };
    let image = moat_image::open(source, &opts).with_context(|| format!("opening {source}"))?;
    Ok(moat_catalog::catalog(
        image.resolver(),
        &Options { mode: Mode::Image },
    ))
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
pub fn timestamp() -> anyhow::Result<String> {
    let secs = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    };
    Ok(moat_report::rfc3339(secs))
}

/// Open `--output` or standard output.
pub fn output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let inv = inventory(global, &args.source)?;
    let meta = SbomMeta {
        source: args.source.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        timestamp: timestamp()?,
    };
    let mut w = output(args.output.as_deref())?;
    match args.format {
        Format::CyclonedxJson => moat_report::cyclonedx::render(&inv, &meta, &mut w)?,
        Format::SpdxJson => moat_report::spdx::render(&inv, &meta, &mut w)?,
        Format::Json => moat_report::packages::json(&inv, &mut w)?,
        Format::Table => moat_report::packages::table(&inv, &mut w)?,
    }
    w.flush().context("writing the SBOM")?;
    Ok(ExitCode::SUCCESS)
}
