//! `moat scan SOURCE`: for now the package inventory (`packages`, `unknowns`,
//! `distro`); vulnerability matching, `--scanners` and `--fail-on` come with the scan
//! pipeline and add their fields next to these.

use crate::Global;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to scan (see `moat sbom --help` for the source syntax).
    pub source: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let inv = super::sbom::inventory(global, &args.source)?;
    let mut w = super::sbom::output(args.output.as_deref())?;
    match args.format {
        Format::Json => moat_report::packages::json(&inv, &mut w)?,
        Format::Table => moat_report::packages::table(&inv, &mut w)?,
    }
    w.flush().context("writing the report")?;
    Ok(ExitCode::SUCCESS)
}
