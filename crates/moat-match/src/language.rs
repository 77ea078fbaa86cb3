//! Language packages in their ecosystem's namespace (`PyPI`, `npm`, `crates.io`, `Go`,
//! `Maven`, `RubyGems`, `Packagist`, `NuGet`), by name as the database normalises it.

use crate::family::{Matcher, Query, comparable_version, language_namespace};
use moat_model::finding::MatcherKind;
use moat_model::{Distro, Package};

pub struct EcosystemMatcher;

impl Matcher for EcosystemMatcher {
    fn kind(&self) -> MatcherKind {
        MatcherKind::Ecosystem
    }
    fn query(
        &self,
        p: &Package,
        _distro: Option<&Distro>,
    ) -> Option<Result<Query, crate::family::NamespaceError>> {
        let ns = language_namespace(p.ecosystem)?;
        Some(Ok(Query {
            namespace: ns.to_string(),
            name: p.name.clone(),
            version: comparable_version(p.ecosystem, &p.name, &p.version),
        }))
    }
}
