//! One module per command; each owns its clap `Args` and a `run` function.

pub mod agent;
pub mod audit;
pub mod db;
pub mod inspect;
pub mod lint;
pub mod monitor;
pub mod network;
pub mod respond;
pub mod rules;
pub mod sbom;
pub mod scan;
pub mod serve;
pub mod source;
pub mod verify;

use moat_report::Format;

/// A clap parser for `--format` that admits only `allowed` (a command's subset of the one
/// [`Format`] enum), listing them in `--help` and in the error.
pub fn formats(allowed: &'static [Format]) -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(allowed.iter().map(|f| f.as_str()))
        .try_map(|s| s.parse::<Format>())
}
