//! Audit findings: the lint finding shape plus the audited object and the evidence seen.

pub use moat_model::audit::{AuditFinding, AuditObject, ObjectKind};
