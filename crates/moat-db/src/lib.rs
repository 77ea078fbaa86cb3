//! The advisory database: OSV and Alpine secdb ingest, SQLite store, queries, update.
