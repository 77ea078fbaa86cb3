//! PURLs per ecosystem, the way syft writes them.

use moat_model::{Distro, Purl, PurlParts};

/// `pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12[&upstream=SRC[@SRCVER]]`.
pub fn os(
    ty: &str,
    distro: Option<&Distro>,
    default_ns: &str,
    name: &str,
    version: &str,
    arch: &str,
    upstream: Option<&str>,
) -> Purl {
    let ns = distro.map(|d| d.id.as_str()).filter(|s| !s.is_empty());
    let mut p = PurlParts::new(ty, Some(ns.unwrap_or(default_ns)), name, Some(version))
        .with_qualifier("arch", arch);
    if let Some(d) = distro
        && !d.id.is_empty()
        && !d.version_id.is_empty()
    {
        p = p.with_qualifier("distro", &format!("{}-{}", d.id, d.version_id));
    }
    if let Some(u) = upstream {
        p = p.with_qualifier("upstream", u);
    }
    p.build()
}

/// PyPI names are lowercased with `_` replaced by `-` (PURL spec).
pub fn pypi(name: &str, version: &str) -> Purl {
    let n = name.to_ascii_lowercase().replace(['_', '.'], "-");
    PurlParts::new("pypi", None, &n, Some(version)).build()
}

/// `@scope/name` becomes namespace `@scope`.
pub fn npm(name: &str, version: &str) -> Purl {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => {
            PurlParts::new("npm", Some(scope), n, Some(version)).build()
        }
        _ => PurlParts::new("npm", None, name, Some(version)).build(),
    }
}

/// `github.com/x/y` becomes namespace `github.com/x`, name `y`.
pub fn golang(module: &str, version: &str) -> Purl {
    match module.rsplit_once('/') {
        Some((ns, n)) => PurlParts::new("golang", Some(ns), n, Some(version)).build(),
        None => PurlParts::new("golang", None, module, Some(version)).build(),
    }
}

/// A PURL whose name may carry a `/`-separated namespace (composer `vendor/name`).
pub fn namespaced(ty: &str, full: &str, version: &str) -> Purl {
    match full.rsplit_once('/') {
        Some((ns, n)) => PurlParts::new(ty, Some(ns), n, Some(version)).build(),
        None => PurlParts::new(ty, None, full, Some(version)).build(),
    }
}

pub fn simple(ty: &str, name: &str, version: &str) -> Purl {
    PurlParts::new(ty, None, name, Some(version)).build()
}

pub fn maven(group: &str, artifact: &str, version: &str) -> Purl {
    PurlParts::new("maven", Some(group), artifact, Some(version)).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_follow_the_spec() {
        assert_eq!(pypi("Django_Rest.x", "3.2"), "pkg:pypi/django-rest-x@3.2");
        assert_eq!(npm("@babel/core", "7.0.0"), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(
            golang("github.com/opencontainers/runc", "v1.1.5"),
            "pkg:golang/github.com/opencontainers/runc@v1.1.5"
        );
        assert_eq!(
            namespaced("composer", "psr/log", "1.0"),
            "pkg:composer/psr/log@1.0"
        );
        let d = Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Default::default()
        };
        assert_eq!(
            os(
                "deb",
                Some(&d),
                "debian",
                "libc6",
                "2.36-9",
                "amd64",
                Some("glibc")
            ),
            "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc"
        );
    }
}
