//! One module per command; each owns its clap `Args` and a `run` function.

pub mod audit;
pub mod db;
pub mod inspect;
pub mod lint;
pub mod rules;
pub mod sbom;
pub mod scan;
