//! The Docker Engine API (bollard) behind a small trait.
