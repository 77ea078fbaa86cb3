//! daemon.json (stub).
#[derive(Debug, Clone, Default)]
pub struct Daemon {}
