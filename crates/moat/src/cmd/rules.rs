//! `moat rules`: every lint rule and every audit rule, with its metadata, sorted by code.

use crate::Global;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut metas = moat_lint::rules::metas();
    metas.extend(moat_audit::rules());
    metas.sort_by_key(|m| m.code);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &metas)?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
            t.set_header([
                "CODE",
                "SEVERITY",
                "TARGET",
                "TITLE",
                "REFERENCES",
                "ALIASES",
            ]);
            for m in &metas {
                t.add_row([
                    m.code.to_string(),
                    m.severity.to_string(),
                    m.target.as_str().to_string(),
                    m.title.to_string(),
                    m.references.join(", "),
                    m.aliases.join(", "),
                ]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
