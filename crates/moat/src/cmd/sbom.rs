//! `moat sbom SOURCE`: the inventory of an image or a source tree as CycloneDX 1.6,
//! SPDX 2.3, moat's JSON or a table.

use crate::Global;
use anyhow::Context;
use moat_model::Inventory;
use moat_report::{Format, SbomMeta};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to inventory: docker-archive:PATH, oci-dir:PATH, oci-archive:PATH,
    /// registry:REF, docker:REF, rootfs:PATH, dir:PATH (also reads lockfiles), a path,
    /// or sbom:FILE (another SBOM, converted).
    pub source: String,
    /// Output format.
    #[arg(long, short = 'f', default_value = "table",
          value_parser = super::formats(&[Format::CyclonedxJson, Format::SpdxJson, Format::Json, Format::Table]))]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub image: super::source::SourceArgs,
    /// Never use the network (a registry source is refused).
    #[arg(long)]
    pub offline: bool,
    /// Do not reuse cached inventories.
    #[arg(long)]
    pub no_cache: bool,
}

/// Catalog `source` through the scan pipeline's plan (the same source parsing, cache,
/// `--platform` and size limit as `moat scan`): `dir:` runs the lockfile catalogers too;
/// `rootfs:` and images catalog installed packages only.
pub fn inventory(global: &Global, args: &Args) -> anyhow::Result<Inventory> {
    let opts = moat_scan::ScanOptions {
        image: args.image.open_options(global),
        scanners: moat_scan::Scanners {
            vuln: false,
            misconfig: false,
        },
        db_path: global.db_path(),
        severities: None,
        ignore_unfixed: false,
        ignore_file: None,
        vex: Vec::new(),
        max_db_age_days: u64::MAX,
        use_cache: !args.no_cache,
        now: time::OffsetDateTime::now_utc(),
        offline: args.offline,
        catalog_limits: args.image.catalog_limits(),
    };
    let plan = moat_scan::ScanPlan::new(&args.source, opts)?;
    Ok(plan.inventory()?.inventory)
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
    let inv = inventory(global, &args)?;
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
        _ => unreachable!("clap admits only sbom's formats"),
    }
    w.flush().context("writing the SBOM")?;
    Ok(ExitCode::SUCCESS)
}
