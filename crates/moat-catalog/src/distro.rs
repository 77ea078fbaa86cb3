//! Which operating-system release an image is built on.
//!
//! Order, as syft and Trivy do it: `etc/os-release`, `usr/lib/os-release`, then the
//! older per-distro files (`etc/lsb-release`, `etc/alpine-release`,
//! `etc/debian_version`, `etc/redhat-release`, `etc/centos-release`,
//! `etc/fedora-release`, `etc/system-release`).

use moat_fs::FileResolver;
use moat_model::Distro;

const LIMIT: u64 = 64 << 10;

/// The distro of the tree, if one is recognized.
pub fn detect(r: &dyn FileResolver) -> Option<Distro> {
    let read = |p: &str| {
        r.read_limited(p, LIMIT)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    for p in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(d) = read(p).and_then(|s| parse_os_release(&s)) {
            return Some(d);
        }
    }
    if let Some(d) = read("/etc/lsb-release").and_then(|s| parse_lsb_release(&s)) {
        return Some(d);
    }
    if let Some(s) = read("/etc/alpine-release") {
        let v = s.trim();
        if !v.is_empty() {
            return Some(Distro {
                id: "alpine".into(),
                version_id: v.to_string(),
                pretty_name: format!("Alpine Linux v{v}"),
                ..Default::default()
            });
        }
    }
    if let Some(s) = read("/etc/debian_version") {
        let v = s.trim();
        // `12.5` → `12`; testing/sid write `trixie/sid`, which has no number.
        let major = v.split('.').next().unwrap_or("");
        if !v.is_empty() {
            return Some(Distro {
                id: "debian".into(),
                version_id: if major.chars().all(|c| c.is_ascii_digit()) {
                    major.to_string()
                } else {
                    String::new()
                },
                pretty_name: format!("Debian GNU/Linux {v}"),
                ..Default::default()
            });
        }
    }
    for p in [
        "/etc/redhat-release",
        "/etc/centos-release",
        "/etc/fedora-release",
        "/etc/system-release",
    ] {
        if let Some(d) = read(p).and_then(|s| parse_redhat_release(&s)) {
            return Some(d);
        }
    }
    None
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"")
}

fn kv(s: &str) -> impl Iterator<Item = (&str, String)> {
    s.lines().filter_map(|l| {
        let l = l.trim();
        if l.starts_with('#') {
            return None;
        }
        let (k, v) = l.split_once('=')?;
        Some((k.trim(), unquote(v)))
    })
}

/// Parse an os-release file; `None` without an `ID`.
pub fn parse_os_release(s: &str) -> Option<Distro> {
    let mut d = Distro::default();
    for (k, v) in kv(s) {
        match k {
            "ID" => d.id = v.to_ascii_lowercase(),
            "VERSION_ID" => d.version_id = v,
            "VERSION_CODENAME" => d.version_codename = v,
            "PRETTY_NAME" => d.pretty_name = v,
            "ID_LIKE" => d.id_like = v.split_whitespace().map(str::to_string).collect(),
            _ => {}
        }
    }
    (!d.id.is_empty()).then_some(d)
}

fn parse_lsb_release(s: &str) -> Option<Distro> {
    let mut d = Distro::default();
    for (k, v) in kv(s) {
        match k {
            "DISTRIB_ID" => d.id = v.to_ascii_lowercase(),
            "DISTRIB_RELEASE" => d.version_id = v,
            "DISTRIB_CODENAME" => d.version_codename = v,
            "DISTRIB_DESCRIPTION" => d.pretty_name = v,
            _ => {}
        }
    }
    (!d.id.is_empty()).then_some(d)
}

/// `CentOS Linux release 7.9.2009 (Core)`, `Red Hat Enterprise Linux Server release 7.2 (Maipo)`.
pub fn parse_redhat_release(s: &str) -> Option<Distro> {
    let line = s.lines().next()?.trim();
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?.to_string();
    let lname = name.to_ascii_lowercase();
    let id = if lname.contains("red hat") {
        "rhel"
    } else if lname.contains("centos") {
        "centos"
    } else if lname.contains("fedora") {
        "fedora"
    } else if lname.contains("rocky") {
        "rocky"
    } else if lname.contains("alma") {
        "almalinux"
    } else if lname.contains("oracle") {
        "ol"
    } else if lname.contains("amazon") {
        "amzn"
    } else {
        return None;
    };
    Some(Distro {
        id: id.into(),
        version_id: version,
        pretty_name: line.to_string(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_fs::MemResolver;

    #[test]
    fn os_release_wins_then_fallbacks() {
        let r = MemResolver::new().file(
            "/etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        let d = detect(&r).unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str()), ("debian", "12"));
        let r = MemResolver::new().file("/etc/alpine-release", "3.23.6\n");
        assert_eq!(detect(&r).unwrap().version_id, "3.23.6");
        let r = MemResolver::new().file(
            "/etc/redhat-release",
            "CentOS Linux release 7.9.2009 (Core)\n",
        );
        let d = detect(&r).unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str()),
            ("centos", "7.9.2009")
        );
        assert!(detect(&MemResolver::new()).is_none());
    }
}
