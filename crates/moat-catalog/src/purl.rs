//! PURLs per ecosystem, the way syft writes them.

use moat_model::{Distro, Purl};

/// `pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12[&upstream=SRC[@SRCVER]]`.
pub fn os(
    ty: &str,
    distro: Option<&Distro>,
    default_ns: &str,
    name: &str,
    version: &str,
    arch: &str,
    upstream: Option<&str>,
) -> String {
    let ns = distro.map(|d| d.id.as_str()).filter(|s| !s.is_empty());
    let mut p = Purl::new(ty, Some(ns.unwrap_or(default_ns)), name, Some(version))
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
    p.to_string()
}

/// PyPI names are lowercased with `_` replaced by `-` (PURL spec).
pub fn pypi(name: &str, version: &str) -> String {
    let n = name.to_ascii_lowercase().replace(['_', '.'], "-");
    Purl::new("pypi", None, &n, Some(version)).to_string()
}

/// `@scope/name` becomes namespace `@scope`.
pub fn npm(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => {
            Purl::new("npm", Some(scope), n, Some(version)).to_string()
        }
        _ => Purl::new("npm", None, name, Some(version)).to_string(),
    }
}

/// `github.com/x/y` becomes namespace `github.com/x`, name `y`.
pub fn golang(module: &str, version: &str) -> String {
    match module.rsplit_once('/') {
        Some((ns, n)) => Purl::new("golang", Some(ns), n, Some(version)).to_string(),
        None => Purl::new("golang", None, module, Some(version)).to_string(),
    }
}

/// A PURL whose name may carry a `/`-separated namespace (composer `vendor/name`).
pub fn namespaced(ty: &str, full: &str, version: &str) -> String {
    match full.rsplit_once('/') {
        Some((ns, n)) => Purl::new(ty, Some(ns), n, Some(version)).to_string(),
        None => Purl::new(ty, None, full, Some(version)).to_string(),
    }
}

pub fn simple(ty: &str, name: &str, version: &str) -> String {
    Purl::new(ty, None, name, Some(version)).to_string()
}

pub fn maven(group: &str, artifact: &str, version: &str) -> String {
    Purl::new("maven", Some(group), artifact, Some(version)).to_string()
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
