//! The Go toolchain a binary was built with (`stdlib`, version `go1.x.y`), matched in the
//! `Go` namespace as the `stdlib` module, without the `go` prefix.

use crate::family::{Matcher, Query, comparable_version};
use moat_model::finding::MatcherKind;
use moat_model::{Distro, Ecosystem, Package};

pub struct GoStdlibMatcher;

impl Matcher for GoStdlibMatcher {
    fn kind(&self) -> MatcherKind {
        MatcherKind::GoStdlib
    }
    fn query(
        &self,
        p: &Package,
        _distro: Option<&Distro>,
    ) -> Option<Result<Query, crate::family::NamespaceError>> {
        (p.ecosystem == Ecosystem::Golang && p.name == "stdlib").then(|| {
            Ok(Query {
                namespace: "Go".into(),
                name: p.name.clone(),
                version: comparable_version(p.ecosystem, &p.name, &p.version),
            })
        })
    }
}
