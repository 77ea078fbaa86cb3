//! moat as a service (`moat serve`, `moat worker`): an HTTP API over a job queue on
//! SQLite (one process, no setup) or PostgreSQL (replicas and workers on many hosts),
//! workers that scan with moat-scan and store the reports, a re-match of every stored
//! inventory when the advisory database changes, HMAC-signed webhooks for new findings,
//! tenant-scoped tokens with roles, an audit log and a server-rendered dashboard.
//! Layout and API: docs/serve.md.

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod fleet;
pub mod keys;
pub mod matching;
pub mod openapi;
pub mod queue;
pub mod rematch;
pub mod state;
pub mod store;
pub mod tls;
pub mod webhook;
pub mod worker;

pub use auth::Role;
pub use config::WorkerConfig;
pub use error::{Error, Result};
pub use store::Store;

use std::net::SocketAddr;
use std::sync::Arc;

/// How `moat serve` runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// `sqlite:PATH` or `postgres://…`.
    pub database: String,
    /// Workers run inside this process (the default on SQLite, where no other
    /// process may share the queue).
    pub workers: usize,
    pub worker: WorkerConfig,
    /// HTTPS: a PEM certificate chain and its private key.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// Serve until `shutdown` resolves; `ready` gets the bound address first.
pub async fn serve(
    cfg: ServeConfig,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    // A bad certificate or key is an error before anything starts.
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let store = Store::open(&cfg.database).await?;
    let app = Arc::new(api::App {
        store: store.clone(),
        verifier: auth::Verifier::default(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker_cfg = Arc::new(cfg.worker.clone());
    let mut workers = Vec::new();
    for n in 0..cfg.workers {
        let mut w = (*worker_cfg).clone();
        w.owner = format!("{}-{n}", w.owner);
        workers.push(tokio::spawn(worker::run(
            store.clone(),
            Arc::new(w),
            stop_rx.clone(),
            |line| eprintln!("moat serve: worker: {}", moat_model::escape_control(line)),
        )));
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| Error::Config(format!("--listen {}: {e}", cfg.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(format!("--listen {}: {e}", cfg.listen)))?;
    ready(addr);
    let served = match tls {
        Some(t) => {
            let l = tls::TlsListener::new(listener, t)
                .map_err(|e| Error::Config(format!("--listen {}: {e}", cfg.listen)))?;
            axum::serve(l, api::router(app))
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            axum::serve(listener, api::router(app))
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    served.map_err(|e| Error::Internal(format!("serving {addr}: {e}")))?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    Ok(())
}

/// Run a worker until `shutdown` resolves.
pub async fn run_worker(
    database: &str,
    cfg: WorkerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    log: impl Fn(&str) + Send + Sync + 'static,
) -> Result<()> {
    let store = Store::open(database).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    worker::run(store, Arc::new(cfg), stop_rx, log).await
}
