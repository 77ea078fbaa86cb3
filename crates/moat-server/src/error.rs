//! The server's one error type; [`axum::response::IntoResponse`] maps it to an HTTP
//! status and a JSON body `{"error": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("database {target}: {message}")]
    Db { target: String, message: String },
    #[error("database pool: {0}")]
    Pool(String),
    #[error("the database connection lock was poisoned by a panic")]
    Poisoned,
    #[error("internal: {0}")]
    Internal(String),
    /// No or an unknown, wrong or revoked token.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// The token's role does not allow this action.
    #[error("forbidden: this action needs the {0} role")]
    Forbidden(&'static str),
    /// Not found, or another tenant's (the same answer, to hide existence).
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("scan: {0}")]
    Scan(String),
    /// A client's request to a server failed (moat agent, moat scan --server).
    #[error("{url}: {message}")]
    Remote { url: String, message: String },
    /// A client gave up waiting.
    #[error("timed out: {0}")]
    Timeout(String),
}

impl Error {
    pub fn db(target: &str, e: impl std::fmt::Display) -> Error {
        Error::Db {
            target: redact(target),
            message: e.to_string(),
        }
    }
    pub fn sqlite(e: rusqlite::Error) -> Error {
        Error::Db {
            target: "sqlite".into(),
            message: e.to_string(),
        }
    }
    pub fn pg(e: tokio_postgres::Error) -> Error {
        // The server's own message (e.g. "relation … does not exist") when there is one.
        let message = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        Error::Db {
            target: "postgres".into(),
            message,
        }
    }
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        // Internal details stay in the server's log, not in the reply.
        let msg = if status == StatusCode::INTERNAL_SERVER_ERROR {
            eprintln!(
                "moat serve: {}",
                moat_model::escape_control(&self.to_string())
            );
            "internal error".to_string()
        } else {
            self.to_string()
        };
        (status, axum::Json(serde_json::json!({ "error": msg }))).into_response()
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
