//! Which kind of configuration file is this, by name and content.

use crate::Kind;

/// The kind implied by a file name alone.
pub fn kind_by_name(path: &str) -> Option<Kind> {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let l = base.to_ascii_lowercase();
    let ext = l.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let not_text = !matches!(
        ext,
        "md" | "txt"
            | "json"
            | "yml"
            | "yaml"
            | "sh"
            | "py"
            | "go"
            | "rs"
            | "j2"
            | "tpl"
            | "orig"
            | "bak"
    );
    if l.ends_with("dockerfile")
        || l.ends_with("containerfile")
        || (l.contains("dockerfile.") || l.contains("containerfile.")) && not_text
    {
        return Some(Kind::Dockerfile);
    }
    let yaml = l.ends_with(".yml") || l.ends_with(".yaml");
    let stem = l.trim_end_matches(".yml").trim_end_matches(".yaml");
    if yaml
        && (l.starts_with("docker-compose")
            || l.starts_with("compose")
            || stem.ends_with("compose")
            || stem.contains("docker-compose"))
    {
        return Some(Kind::Compose);
    }
    if l == "daemon.json" {
        return Some(Kind::Daemon);
    }
    None
}

/// The kind implied by content, for files whose name says nothing.
pub fn kind_by_content(text: &str) -> Option<Kind> {
    let t = text.trim_start_matches('\u{feff}');
    let first = t
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if first.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(t).ok()?;
        let o = v.as_object()?;
        const KEYS: &[&str] = &[
            "icc",
            "userns-remap",
            "live-restore",
            "no-new-privileges",
            "hosts",
            "insecure-registries",
            "log-driver",
            "log-opts",
            "storage-driver",
            "data-root",
            "tls",
            "tlsverify",
            "default-ulimits",
            "registry-mirrors",
            "iptables",
            "experimental",
            "features",
            "userland-proxy",
            "seccomp-profile",
        ];
        return o
            .keys()
            .any(|k| KEYS.contains(&k.as_str()))
            .then_some(Kind::Daemon);
    }
    let kw = first
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if kw == "FROM" || kw == "ARG" {
        return Some(Kind::Dockerfile);
    }
    if t.lines().any(|l| l.starts_with("services:")) {
        return Some(Kind::Compose);
    }
    // Old compose (v1) files: top-level services with `image:` or `build:` keys.
    if t.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("image:") || l.starts_with("build:")
    }) && !t.contains("apiVersion:")
    {
        return Some(Kind::Compose);
    }
    None
}

/// The kind of a file: by name first, then by content.
pub fn detect_kind(path: &str, text: &str) -> Option<Kind> {
    kind_by_name(path).or_else(|| kind_by_content(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_and_content() {
        assert_eq!(kind_by_name("a/Dockerfile.dev"), Some(Kind::Dockerfile));
        assert_eq!(kind_by_name("web.Dockerfile"), Some(Kind::Dockerfile));
        assert_eq!(kind_by_name("docker-compose.prod.yml"), Some(Kind::Compose));
        assert_eq!(kind_by_name("/etc/docker/daemon.json"), Some(Kind::Daemon));
        assert_eq!(kind_by_name("x.yml"), None);
        assert_eq!(kind_by_name("a__b__Dockerfile"), Some(Kind::Dockerfile));
        assert_eq!(kind_by_name("Dockerfile.md"), None);
        assert_eq!(kind_by_content("# c\nFROM x\n"), Some(Kind::Dockerfile));
        assert_eq!(kind_by_content("{\"icc\": false}"), Some(Kind::Daemon));
        assert_eq!(
            kind_by_content("version: '3'\nservices:\n  a: {}\n"),
            Some(Kind::Compose)
        );
        assert_eq!(
            kind_by_content("web:\n  image: nginx\n"),
            Some(Kind::Compose)
        );
    }
}
