//! The SQLite store: the schema ([`schema`]), the read-only [`Database`] ([`query`])
//! and the [`Writer`] ([`write`]).

mod query;
mod schema;
mod write;

pub use query::{Database, OriginStatus, Status};
pub use schema::SCHEMA_VERSION;
pub use write::Writer;
