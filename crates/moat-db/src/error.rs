//! Errors of the advisory database; each names the file, URL or database it concerns.

use std::path::PathBuf;

/// An error of the advisory database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A file is not well-formed JSON.
    #[error("{location}: malformed JSON: {error}")]
    Json {
        location: String,
        error: serde_json::Error,
    },
    /// A zip archive cannot be read.
    #[error("{location}: bad zip archive: {error}")]
    Zip {
        location: String,
        error: zip::result::ZipError,
    },
    /// The database failed.
    #[error("{}: database error: {error}", path.display())]
    Sql {
        path: PathBuf,
        error: rusqlite::Error,
    },
    /// The file is not a moat database of this schema version.
    #[error("{}: {reason}", path.display())]
    NotADatabase { path: PathBuf, reason: String },
    /// The database does not exist yet.
    #[error("{}: no advisory database here (run `moat db import` or `moat db update`)", path.display())]
    Missing { path: PathBuf },
    /// An input is of no known advisory format.
    #[error("{location}: {reason}")]
    Unrecognized { location: String, reason: String },
    /// A download failed.
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    /// The sources configuration is invalid.
    #[error("{}: {reason}", path.display())]
    Config { path: PathBuf, reason: String },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn sql(path: impl Into<PathBuf>, error: rusqlite::Error) -> Self {
        Error::Sql {
            path: path.into(),
            error,
        }
    }
}
