//! `moat serve` and `moat worker`: moat as a service (moat-server; docs/serve.md).
//!
//! `moat serve [--listen ADDR] [--database sqlite:PATH|postgres://…] [--tls-cert F
//! --tls-key F]` runs the API (HTTPS with a certificate) and
//! the dashboard; on SQLite it also runs the workers (one process, no setup). On
//! PostgreSQL any number of `serve` replicas and `moat worker --database …` processes
//! share one queue. `--create-token TENANT:ROLE` prints a new token and exits (the
//! first admin token of a tenant comes from here).
//!
//! Exit codes: 0 stopped cleanly (SIGINT/SIGTERM), 2 error.

use crate::Global;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The default database: one SQLite file in moat's cache directory.
fn default_database(global: &Global) -> String {
    format!("sqlite:{}", global.cache_dir().join("serve.db").display())
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// sqlite:PATH (default: <cache dir>/serve.db) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "MOAT_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM), with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM), with --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Workers inside this process (default: 1 on SQLite, 0 on PostgreSQL).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Print a new token for TENANT with ROLE (admin, submitter, reader) and exit.
    #[arg(long, value_name = "TENANT:ROLE")]
    pub create_token: Option<String>,
    #[command(flatten)]
    pub worker: WorkerFlags,
}

/// The flags of a worker (`moat worker`, and the workers inside `moat serve`).
#[derive(clap::Args, Debug, Clone)]
pub struct WorkerFlags {
    /// Local image sources (archives, OCI layouts, directories) are read only under
    /// this directory (repeatable); by default only registry references and uploaded SBOMs.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_paths: Vec<PathBuf>,
    /// A claimed job's lease, renewed every third of it; when a worker dies its jobs
    /// are claimed again after this.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub lease_secs: u64,
    /// Do not watch the advisory database for changes (re-match only on request).
    #[arg(long)]
    pub no_watch: bool,
    /// Trust these CA certificates (PEM) for https webhook receivers, instead of the
    /// WebPKI roots (receivers with a private CA).
    #[arg(long, value_name = "FILE")]
    pub webhook_ca_cert: Option<PathBuf>,
}

impl WorkerFlags {
    fn config(&self, global: &Global) -> anyhow::Result<moat_server::WorkerConfig> {
        if self.lease_secs == 0 || self.lease_secs > 3600 {
            anyhow::bail!("--lease-secs {}: 1 to 3600", self.lease_secs);
        }
        let mut cfg = moat_server::WorkerConfig::new(global.db_path(), global.cache_dir());
        cfg.allow_paths = self.allow_paths.clone();
        cfg.lease = Duration::from_secs(self.lease_secs);
        cfg.watch_advisories = !self.no_watch;
        if let Some(ca) = &self.webhook_ca_cert {
            // Read now: a bad file is an error at start, not at the first delivery.
            moat_server::client::read_ca("--webhook-ca-cert", ca)?;
            cfg.webhook_ca = Some(ca.clone());
        }
        Ok(cfg)
    }
}

#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// The queue: postgres://USER@HOST:PORT/DB (or sqlite:PATH, for one host).
    #[arg(long, env = "MOAT_DATABASE", value_name = "URL")]
    pub database: String,
    #[command(flatten)]
    pub worker: WorkerFlags,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let database = args
        .database
        .clone()
        .unwrap_or_else(|| default_database(global));
    let rt = runtime()?;
    if let Some(spec) = &args.create_token {
        let (tenant, role) = spec.split_once(':').context("--create-token TENANT:ROLE")?;
        let role = moat_server::Role::parse(role).with_context(|| {
            format!("--create-token: role {role:?}: admin, submitter or reader")
        })?;
        let token = rt.block_on(async {
            let store = moat_server::Store::open(&database).await?;
            moat_server::auth::create_token(&store, tenant, role, "created by --create-token").await
        })?;
        println!("{token}");
        return Ok(ExitCode::SUCCESS);
    }
    if database.starts_with("sqlite:")
        && let Some(dir) = database
            .strip_prefix("sqlite:")
            .map(PathBuf::from)
            .and_then(|p| p.parent().map(PathBuf::from))
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let workers = args.workers.unwrap_or(if database.starts_with("sqlite:") {
        1
    } else {
        0
    });
    let cfg = moat_server::ServeConfig {
        listen: args.listen,
        database,
        workers,
        worker: args.worker.config(global)?,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
    };
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    rt.block_on(moat_server::serve(
        cfg,
        |addr| eprintln!("moat serve: listening on {scheme}://{addr}"),
        shutdown_signal(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_worker(global: &Global, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let cfg = args.worker.config(global)?;
    eprintln!(
        "moat worker: {} on {}",
        cfg.owner,
        moat_server::error::redact(&args.database)
    );
    let rt = runtime()?;
    rt.block_on(moat_server::run_worker(
        &args.database,
        cfg,
        shutdown_signal(),
        |line| eprintln!("moat worker: {}", moat_model::escape_control(line)),
    ))?;
    Ok(ExitCode::SUCCESS)
}
