//! Image references, parsed and normalised the way docker does:
//! `[host[:port]/]repo/path[:tag][@sha256:HEX]`.

use super::error::RegistryError;
use std::fmt;

/// The registry docker uses for names without a host.
pub const DOCKER_HUB: &str = "docker.io";
/// Where docker.io's Registry API really lives.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]` as written, `docker.io` when none was given.
    pub registry: String,
    /// Repository path, with `library/` added for single-component Docker Hub names.
    pub repository: String,
    /// The tag (`latest` when neither a tag nor a digest was given).
    pub tag: Option<String>,
    /// `sha256:HEX` when pinned by digest (the tag, if any, is then ignored as docker does).
    pub digest: Option<String>,
}

impl Reference {
    /// Parse `s`; the error says what is wrong with it.
    pub fn parse(s: &str) -> Result<Reference, RegistryError> {
        if s.is_empty() {
            return Err("empty image reference".into());
        }
        if s.len() > 512 {
            return Err("image reference longer than 512 characters".into());
        }
        let (name_tag, digest) = match s.split_once('@') {
            Some((n, d)) => {
                check_digest(d)?;
                (n, Some(d.to_string()))
            }
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/'.
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_tag[..at], Some(name_tag[at + 1..].to_string()))
            }
            None => (name_tag, None),
        };
        if let Some(t) = &tag {
            check_tag(t)?;
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        check_host(&registry)?;
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_string()
        } else {
            registry
        };
        check_repository(&repository)?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_string())
        } else {
            tag
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host (and port) the Registry API is reached at.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// What to ask the registry for: the digest when pinned, else the tag.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `sha256:` and 64 lowercase hex digits: the only digest form accepted (it becomes a file name).
pub fn check_digest(d: &str) -> Result<(), RegistryError> {
    match d.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(is_lower_hex) => Ok(()),
        Some((alg, _)) if alg != "sha256" => {
            Err(format!("digest {d:?} uses algorithm {alg:?}; only sha256 is supported").into())
        }
        _ => Err(format!("invalid digest {d:?} (want sha256: and 64 lowercase hex digits)").into()),
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn check_tag(t: &str) -> Result<(), RegistryError> {
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid tag {t:?}").into())
    }
}

fn check_host(h: &str) -> Result<(), RegistryError> {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !host.starts_with(['.', '-']);
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!("invalid registry host {h:?}").into())
    }
}

/// Path components: lowercase alphanumerics joined by `.`, `_`, `__` or runs of `-`.
/// No component can be `.` or `..`, so the repository is safe as a relative path.
fn check_repository(r: &str) -> Result<(), RegistryError> {
    let bad = || Err(format!("invalid repository name {r:?}").into());
    if r.is_empty() || r.len() > 255 {
        return bad();
    }
    for comp in r.split('/') {
        let b = comp.as_bytes();
        let (Some(first), Some(last)) = (b.first(), b.last()) else {
            return bad();
        };
        if !(first.is_ascii_lowercase() || first.is_ascii_digit())
            || !(last.is_ascii_lowercase() || last.is_ascii_digit())
        {
            return bad();
        }
        let mut prev_sep: Option<u8> = None;
        let mut run = 0usize;
        for &c in b {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                prev_sep = None;
                run = 0;
                continue;
            }
            match (c, prev_sep) {
                (b'-', None | Some(b'-')) => {}
                (b'.', None) => {}
                (b'_', None) => {}
                (b'_', Some(b'_')) if run == 1 => {}
                _ => return bad(),
            }
            prev_sep = Some(c);
            run += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    #[test]
    fn docker_hub_defaults() {
        let r = p("alpine");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/alpine");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(p("user/app:1.0").repository, "user/app");
        assert_eq!(p("index.docker.io/library/debian:12").registry, "docker.io");
    }

    #[test]
    fn host_port_tag_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("127.0.0.1:5000/test/base:1@{d}"));
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "test/base");
        assert_eq!(r.tag.as_deref(), Some("1"));
        assert_eq!(r.reference(), d);
        let r = p("localhost/app");
        assert_eq!(r.registry, "localhost");
        assert_eq!(r.reference(), "latest");
        let r = p("localhost:5000/a/b/c");
        assert_eq!(r.repository, "a/b/c");
        assert_eq!(r.to_string(), "localhost:5000/a/b/c:latest");
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "UPPER/case",
            "host:5000/../etc",
            "a/./b",
            "a//b",
            "x:bad tag",
            "x@sha256:abc",
            "x@md5:0123",
            "host:99999/x",
            "x:-tag",
            "a/b_-c",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            Reference::parse(&format!("x@sha512:{}", "0".repeat(128)))
                .unwrap_err()
                .to_string()
                .contains("only sha256")
        );
    }
}
