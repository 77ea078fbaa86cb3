//! What the distribution matchers (dpkg, apk, rpm) share: OS packages match only their
//! release's advisories, by **source** package name and version.

use crate::family::{Query, os_namespace};
use moat_model::{Distro, Ecosystem, Package};

/// The query of an OS package of `eco`, or `None` when `p` is not one.
pub(crate) fn source_query(
    eco: Ecosystem,
    p: &Package,
    distro: Option<&Distro>,
) -> Option<Result<Query, crate::family::NamespaceError>> {
    if p.ecosystem != eco {
        return None;
    }
    Some(os_namespace(distro, eco).map(|namespace| {
        Query {
            namespace,
            name: p.source_name.clone().unwrap_or_else(|| p.name.clone()),
            version: p
                .source_version
                .clone()
                .unwrap_or_else(|| p.version.clone()),
        }
    }))
}
