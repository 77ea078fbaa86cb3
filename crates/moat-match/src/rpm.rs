//! RPM packages, by source RPM in the release's namespace.

use crate::family::{Matcher, Query};
use moat_model::finding::MatcherKind;
use moat_model::{Distro, Ecosystem, Package};

pub struct RpmMatcher;

impl Matcher for RpmMatcher {
    fn kind(&self) -> MatcherKind {
        MatcherKind::RpmSource
    }
    fn query(
        &self,
        p: &Package,
        distro: Option<&Distro>,
    ) -> Option<Result<Query, crate::family::NamespaceError>> {
        crate::os::source_query(Ecosystem::Rpm, p, distro)
    }
}
