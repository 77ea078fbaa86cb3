//! The vocabulary every matcher family shares: the [`Matcher`] trait, the [`Query`] it
//! answers, and the advisory namespaces of distributions and language ecosystems.

use moat_model::finding::MatcherKind;
use moat_model::{Distro, Ecosystem, Package};

/// What a matcher looks up for one package: the advisory namespace, the name and the
/// version to compare (for OS packages, the source package's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub namespace: String,
    pub name: String,
    pub version: String,
}

/// One matcher family. A new family is one file in this crate implementing this trait,
/// and one line in [`MATCHERS`].
pub trait Matcher: Sync {
    fn kind(&self) -> MatcherKind;
    /// `None` when `p` is not this family's package; `Some(Err(why))` when it is but
    /// cannot be matched (no known namespace for the distribution: a warning).
    fn query(&self, p: &Package, distro: Option<&Distro>) -> Option<Result<Query, NamespaceError>>;
}

/// Why OS packages have no advisory namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NamespaceError {
    #[error("the distribution could not be detected")]
    NoDistro,
    #[error("Debian release without VERSION_ID ({0})")]
    NoVersion(String),
    #[error("no advisory source is known for {id} {version}")]
    Unknown { id: String, version: String },
}

/// The advisory namespace for OS packages of `distro`, or why there is none.
pub fn os_namespace(distro: Option<&Distro>, eco: Ecosystem) -> Result<String, NamespaceError> {
    let Some(d) = distro else {
        return Err(NamespaceError::NoDistro);
    };
    let major_minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    let ns = match (eco, d.id.as_str()) {
        (Ecosystem::Deb, "debian") => {
            let major = d.version_id.split('.').next().unwrap_or("");
            if major.is_empty() {
                return Err(NamespaceError::NoVersion(
                    if d.version_codename.is_empty() {
                        "testing or unstable?".to_string()
                    } else {
                        d.version_codename.clone()
                    },
                ));
            }
            format!("Debian:{major}")
        }
        // Canonical's OSV names LTS releases `Ubuntu:18.04:LTS` and interim ones
        // `Ubuntu:19.10`; os-release says LTS in PRETTY_NAME/VERSION. (The
        // `Ubuntu:Pro:…` namespaces apply only to machines attached to Ubuntu Pro,
        // which an image does not say; they are not used.)
        (Ecosystem::Deb, "ubuntu") => {
            let v = major_minor(&d.version_id);
            if v.is_empty() {
                return Err(NamespaceError::NoVersion(d.version_codename.clone()));
            }
            if d.pretty_name.contains(" LTS") {
                format!("Ubuntu:{v}:LTS")
            } else {
                format!("Ubuntu:{v}")
            }
        }
        (Ecosystem::Apk, "alpine") => {
            if d.version_id.contains("_alpha") || d.version_id.is_empty() {
                "Alpine:edge".into()
            } else {
                format!("Alpine:v{}", major_minor(&d.version_id))
            }
        }
        (Ecosystem::Rpm, "rhel" | "centos" | "rocky" | "almalinux") => {
            format!("Red Hat:{}", d.version_id.split('.').next().unwrap_or(""))
        }
        (_, id) => {
            return Err(NamespaceError::Unknown {
                id: id.to_string(),
                version: d.version_id.clone(),
            });
        }
    };
    Ok(ns)
}

/// The namespace language packages of `eco` match in.
pub fn language_namespace(eco: Ecosystem) -> Option<&'static str> {
    Some(match eco {
        Ecosystem::Pypi => "PyPI",
        Ecosystem::Npm => "npm",
        Ecosystem::Cargo => "crates.io",
        Ecosystem::Golang => "Go",
        Ecosystem::Maven => "Maven",
        Ecosystem::Gem => "RubyGems",
        Ecosystem::Composer => "Packagist",
        Ecosystem::Nuget => "NuGet",
        Ecosystem::Deb
        | Ecosystem::Apk
        | Ecosystem::Rpm
        | Ecosystem::Generic
        | Ecosystem::Conda => return None,
    })
}

/// The version to compare: Go versions lose `v`/`go` prefixes (OSV's Go data is
/// written without them).
pub(crate) fn comparable_version(eco: Ecosystem, name: &str, v: &str) -> String {
    if eco == Ecosystem::Golang {
        let v = if name == "stdlib" || name == "toolchain" {
            v.trim_start_matches("go")
        } else {
            v
        };
        return v.trim_start_matches('v').to_string();
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, v: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: v.into(),
            ..Default::default()
        }
    }

    #[test]
    fn os_namespaces_follow_the_release() {
        assert_eq!(
            os_namespace(Some(&distro("debian", "12")), Ecosystem::Deb).unwrap(),
            "Debian:12"
        );
        assert_eq!(
            os_namespace(Some(&distro("alpine", "3.21.3")), Ecosystem::Apk).unwrap(),
            "Alpine:v3.21"
        );
        assert!(os_namespace(None, Ecosystem::Deb).is_err());
        assert!(os_namespace(Some(&distro("plan9", "4")), Ecosystem::Deb).is_err());
    }

    #[test]
    fn go_versions_lose_their_prefixes() {
        assert_eq!(
            comparable_version(Ecosystem::Golang, "stdlib", "go1.19.8"),
            "1.19.8"
        );
        assert_eq!(
            comparable_version(Ecosystem::Golang, "golang.org/x/net", "v0.7.0"),
            "0.7.0"
        );
        assert_eq!(
            comparable_version(Ecosystem::Pypi, "django", "3.2.0"),
            "3.2.0"
        );
    }
}
