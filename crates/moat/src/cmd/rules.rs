//! `moat rules`: every lint rule and every audit rule, with its metadata, sorted by code.

use crate::Global;
use moat_report::Format;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, default_value = "table",
          value_parser = super::formats(&[Format::Table, Format::Json]))]
    pub format: Format,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut metas = moat_lint::rules::metas();
    metas.extend(moat_audit::rules());
    metas.sort_by_key(|m| m.code);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => moat_report::json::write(&metas, &mut out)?,
        Format::Table => moat_report::table::rules(&metas, &mut out)?,
        _ => unreachable!("clap admits only rules' formats"),
    }
    Ok(ExitCode::SUCCESS)
}
