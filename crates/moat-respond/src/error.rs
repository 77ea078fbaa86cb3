//! The errors of moat-respond: each names the container, file or request it is about.

use std::path::PathBuf;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RespondError {
    /// The engine could not be reached or did not answer in time or in bounds.
    #[error(transparent)]
    Engine(#[from] moat_engine::raw::RawError),
    /// The host string is not one the bounded client speaks.
    #[error(transparent)]
    Host(#[from] moat_engine::EngineError),
    /// The engine answered a request with an error status.
    #[error("{what}: the engine answered HTTP {status}: {message}")]
    Api {
        what: String,
        status: u16,
        message: String,
    },
    /// The engine's reply was not what the API promises.
    #[error("{what}: unexpected reply from the engine: {reason}")]
    Reply { what: String, reason: String },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The action log refused a record.
    #[error("action log {}: {reason}", path.display())]
    Log { path: PathBuf, reason: String },
    /// A state record of an isolation is unreadable.
    #[error("isolation state {}: {reason}", path.display())]
    State { path: PathBuf, reason: String },
    /// The image scan for the remediation plan failed.
    #[error("scanning image {image}: {message}")]
    Scan { image: String, message: String },
    /// An evidence bundle cannot be read at all (not even as a damaged bundle).
    #[error("evidence bundle {}: {reason}", path.display())]
    Bundle { path: PathBuf, reason: String },
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
}

impl RespondError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RespondError::Io {
            path: path.into(),
            source,
        }
    }

    /// The HTTP status when the engine refused a request.
    pub fn status(&self) -> Option<u16> {
        match self {
            RespondError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}
