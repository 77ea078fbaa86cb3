//! `moat rules` (not implemented yet).

use crate::Global;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`moat rules` is not implemented yet")
}
