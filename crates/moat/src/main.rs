//! The `moat` binary: parse flags, call a library, render, choose the exit code
//! (0 clean, 1 policy failed, 2 error).

mod cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "moat",
    version,
    about = "Container security: images, configuration, engines."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command understands.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// The advisory database (default: moat's cache directory).
    #[arg(long, global = true, env = "MOAT_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// moat's scratch and cache directory (default: the user's cache directory).
    #[arg(long, global = true, env = "MOAT_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl Global {
    /// The cache directory in force.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(|| {
            dirs::cache_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join("moat")
        })
    }

    /// The advisory database in force: `--db`, `MOAT_DB`, else `<cache>/db/moat.db`.
    pub fn db_path(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| self.cache_dir().join("db").join("moat.db"))
    }
}

// Parsed once per run: the size of the largest variant (scan's flags) does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Show an image's config, layers and history, without a daemon.
    Inspect(cmd::inspect::Args),
    /// Inventory an image's packages as an SBOM.
    Sbom(cmd::sbom::Args),
    /// Find vulnerabilities (and misconfigurations) in an image.
    Scan(cmd::scan::Args),
    /// Manage the advisory database.
    Db(cmd::db::Args),
    /// Lint Dockerfiles, compose files and daemon.json.
    Lint(cmd::lint::Args),
    /// List every lint and audit rule.
    Rules(cmd::rules::Args),
    /// Audit a live Docker Engine and its containers (CIS Docker Benchmark).
    Audit(cmd::audit::Args),
    /// Verify images' sources, pinning, signatures and attestations against a policy.
    Verify(cmd::verify::Args),
    /// Which containers can reach which, against a segmentation policy (compose or live).
    Network(cmd::network::Args),
    /// Contain a compromised container (isolate, pause, stop, kill), snapshot its
    /// evidence, verify an evidence bundle.
    Respond(cmd::respond::Args),
    /// Watch running containers, raise alerts on rules, keep a durable security log.
    Monitor(cmd::monitor::Args),
    /// Run moat as a service: API, dashboard, job queue (SQLite or PostgreSQL).
    Serve(cmd::serve::Args),
    /// Run a worker of `moat serve`'s queue (any number, any host).
    Worker(cmd::serve::WorkerArgs),
    /// Report this Docker host to `moat serve`: containers, image inventories, alerts.
    Agent(cmd::agent::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(a) => cmd::inspect::run(&cli.global, a),
        Command::Sbom(a) => cmd::sbom::run(&cli.global, a),
        Command::Scan(a) => cmd::scan::run(&cli.global, a),
        Command::Db(a) => cmd::db::run(&cli.global, a),
        Command::Lint(a) => cmd::lint::run(&cli.global, a),
        Command::Rules(a) => cmd::rules::run(&cli.global, a),
        Command::Audit(a) => cmd::audit::run(&cli.global, a),
        Command::Verify(a) => cmd::verify::run(&cli.global, a),
        Command::Network(a) => cmd::network::run(&cli.global, a),
        Command::Respond(a) => cmd::respond::run(&cli.global, a),
        Command::Monitor(a) => cmd::monitor::run(&cli.global, a),
        Command::Serve(a) => cmd::serve::run(&cli.global, a),
        Command::Worker(a) => cmd::serve::run_worker(&cli.global, a),
        Command::Agent(a) => cmd::agent::run(&cli.global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One line: the chain of contexts, outermost first ("docker-archive:x.tar: ...").
            // Error messages quote input (paths, names, server replies): escaped, so that
            // a control character can neither recolour the terminal nor forge a line.
            eprintln!(
                "moat: error: {}",
                moat_model::escape_control(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}
