//! Alpine packages (apk), by origin in `Alpine:vX.Y`.

use crate::family::{Matcher, Query};
use moat_model::finding::MatcherKind;
use moat_model::{Distro, Ecosystem, Package};

pub struct ApkMatcher;

impl Matcher for ApkMatcher {
    fn kind(&self) -> MatcherKind {
        MatcherKind::ApkOrigin
    }
    fn query(
        &self,
        p: &Package,
        distro: Option<&Distro>,
    ) -> Option<Result<Query, crate::family::NamespaceError>> {
        crate::os::source_query(Ecosystem::Apk, p, distro)
    }
}
