//! Compose files (stub, filled below).
#[derive(Debug, Clone, Default)]
pub struct Compose {}
