//! Packages found in an image or a source tree.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A package ecosystem, named by its PURL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Apk,
    Rpm,
    Pypi,
    Npm,
    Cargo,
    Golang,
    Maven,
    Gem,
    Composer,
    Nuget,
    /// Software without package metadata, named by a binary classifier
    /// (`pkg:generic/redis@7.0.15`); no advisory namespace matches it.
    Generic,
    /// conda packages (`conda-meta/*.json`); no advisory namespace matches them.
    Conda,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 13] = [
        Ecosystem::Deb,
        Ecosystem::Apk,
        Ecosystem::Rpm,
        Ecosystem::Pypi,
        Ecosystem::Npm,
        Ecosystem::Cargo,
        Ecosystem::Golang,
        Ecosystem::Maven,
        Ecosystem::Gem,
        Ecosystem::Composer,
        Ecosystem::Nuget,
        Ecosystem::Generic,
        Ecosystem::Conda,
    ];

    /// The PURL type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Golang => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::Gem => "gem",
            Ecosystem::Composer => "composer",
            Ecosystem::Nuget => "nuget",
            Ecosystem::Generic => "generic",
            Ecosystem::Conda => "conda",
        }
    }

    /// True for packages managed by the operating system's package manager.
    pub fn is_os(self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm)
    }

    pub fn from_purl_type(s: &str) -> Option<Ecosystem> {
        Ecosystem::ALL.into_iter().find(|e| e.purl_type() == s)
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.purl_type())
    }
}

/// The parts of a package URL (<https://github.com/package-url/purl-spec>), to build
/// a [`Purl`]: `PurlParts::new(ty, namespace, name, version).with_qualifier(k, v).into()`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PurlParts {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    /// Sorted by key, as the spec asks.
    pub qualifiers: Vec<(String, String)>,
    pub subpath: Option<String>,
}

/// Characters a PURL component keeps unencoded: ALPHA DIGIT `.-_~` and `:` (a deb or
/// rpm epoch, `1:2.38.1-5`, as the PURL spec allows and syft and packageurl-go write
/// it); `+` is encoded as `%2B`.
const PURL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b':');

fn enc(s: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(s, PURL_ENCODE)
}

impl PurlParts {
    /// The parts of a new package URL; `.into()` (or [`PurlParts::build`]) makes the PURL.
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> PurlParts {
        PurlParts {
            ty: ty.to_string(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
            name: name.to_string(),
            version: version.filter(|v| !v.is_empty()).map(str::to_string),
            qualifiers: Vec::new(),
            subpath: None,
        }
    }
}

impl PurlParts {
    pub fn with_qualifier(mut self, key: &str, value: &str) -> PurlParts {
        if !value.is_empty() {
            self.qualifiers.retain(|(k, _)| k != key);
            self.qualifiers.push((key.to_string(), value.to_string()));
            self.qualifiers.sort();
        }
        self
    }
}

impl PurlParts {
    /// The package URL these parts make, in its canonical text form.
    pub fn build(&self) -> Purl {
        Purl(self.to_string())
    }
}

impl From<PurlParts> for Purl {
    fn from(p: PurlParts) -> Purl {
        p.build()
    }
}

impl fmt::Display for PurlParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            for seg in ns.split('/').filter(|s| !s.is_empty()) {
                write!(f, "{}/", enc(seg))?;
            }
        }
        write!(f, "{}", enc(&self.name))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", enc(v))?;
        }
        for (i, (k, v)) in self.qualifiers.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{}={}", k, enc(v))?;
        }
        if let Some(sp) = &self.subpath {
            write!(f, "#{}", sp)?;
        }
        Ok(())
    }
}

/// A package URL in its canonical text form (`pkg:deb/debian/perl-base@5.36.0-7?arch=amd64`).
/// Built from [`PurlParts`]; read back (cache, reports) only when it has the PURL shape,
/// so an invalid one cannot exist. Empty means "no PURL" (a package moat cannot name).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Purl(String);

impl Purl {
    /// A PURL read back from text (checked for the PURL shape).
    pub fn parse(s: &str) -> Result<Purl, PurlError> {
        Purl::try_from(s.to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why a string is not a package URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a package URL (pkg:TYPE/NAME...): {0:?}")]
pub struct PurlError(pub String);

impl TryFrom<String> for Purl {
    type Error = PurlError;
    fn try_from(s: String) -> Result<Purl, PurlError> {
        let ok = s.is_empty()
            || s.strip_prefix("pkg:").is_some_and(|rest| {
                rest.split_once('/')
                    .is_some_and(|(ty, name)| !ty.is_empty() && !name.is_empty())
            });
        if ok { Ok(Purl(s)) } else { Err(PurlError(s)) }
    }
}

impl From<Purl> for String {
    fn from(p: Purl) -> String {
        p.0
    }
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for Purl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Purl {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Purl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Where a package (or a file) was found: its path inside the image, and the layer
/// (its `diff_id`) that last wrote that path. `layer` is `None` for directory scans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// One installed or declared package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub ecosystem: Ecosystem,
    pub purl: Purl,
    /// Source package name (dpkg `Source:`, apk origin, rpm source RPM), OS packages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// Source package version where it differs from `version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Which cataloger found it (for example `dpkg-status`, `python-dist-info`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub found_by: String,
    /// CPE 2.3 names, for packages a binary classifier found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
}

/// A file that looked like package metadata but could not be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unknown {
    pub location: Location,
    pub reason: String,
}

/// Everything a catalog found in one image or source tree: the inventory that SBOMs
/// and scans are built from. Packages are sorted and free of duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Inventory {
    /// The operating-system release, when one was recognized.
    pub distro: Option<crate::Distro>,
    pub packages: Vec<Package>,
    pub unknowns: Vec<Unknown>,
    /// Who depends on whom, by PURL (sorted; empty when nothing says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<crate::graph::Dependency>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_encodes_components_and_sorts_qualifiers() {
        let p = PurlParts::new(
            "deb",
            Some("debian"),
            "libstdc++6",
            Some("12.2.0-14+deb12u1"),
        )
        .with_qualifier("distro", "debian-12")
        .with_qualifier("arch", "amd64");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=amd64&distro=debian-12"
        );
        let n = PurlParts::new("npm", Some("@babel"), "core", Some("7.0.0"));
        assert_eq!(n.to_string(), "pkg:npm/%40babel/core@7.0.0");
    }

    #[test]
    fn purls_are_typed_and_checked_when_read_back() {
        let p: Purl = PurlParts::new("deb", Some("debian"), "perl-base", Some("5.36.0-7+deb12u1"))
            .with_qualifier("arch", "amd64")
            .into();
        assert_eq!(p, "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64");
        // Serialized as its text, read back only when it has the PURL shape.
        let json = serde_json::to_string(&p).unwrap_or_default();
        assert_eq!(
            json,
            "\"pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u1?arch=amd64\""
        );
        assert_eq!(serde_json::from_str::<Purl>(&json).ok(), Some(p));
        assert!(serde_json::from_str::<Purl>("\"not a purl\"").is_err());
        assert!(serde_json::from_str::<Purl>("\"pkg:npm\"").is_err());
        assert!(Purl::parse("").is_ok_and(|p| p.is_empty()));
    }
}
