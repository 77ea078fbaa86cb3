//! Debian and Ubuntu packages (dpkg), by source package in `Debian:N` / `Ubuntu:N`.

use crate::family::{Matcher, Query};
use moat_model::finding::MatcherKind;
use moat_model::{Distro, Ecosystem, Package};

pub struct DpkgMatcher;

impl Matcher for DpkgMatcher {
    fn kind(&self) -> MatcherKind {
        MatcherKind::DpkgSource
    }
    fn query(
        &self,
        p: &Package,
        distro: Option<&Distro>,
    ) -> Option<Result<Query, crate::family::NamespaceError>> {
        crate::os::source_query(Ecosystem::Deb, p, distro)
    }
}
