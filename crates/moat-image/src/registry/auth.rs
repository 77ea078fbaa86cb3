//! Credentials from docker's `config.json` and the `WWW-Authenticate` challenge.

use super::error::RegistryError;
use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A user name and password (or token) for Basic authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

impl Credentials {
    /// The `Authorization: Basic ...` header value.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// What docker's config has for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Usable credentials.
    Found(Credentials),
    /// Something is configured that moat cannot use (a credential helper, an identity token).
    Unsupported(String),
    /// Nothing configured: anonymous access.
    None,
}

#[derive(serde::Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// The directory holding docker's `config.json`: `$DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn default_config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker"))
}

/// The names a registry may be filed under in `auths` (docker.io has several).
fn aliases(registry: &str) -> Vec<&str> {
    if registry == super::reference::DOCKER_HUB {
        vec![
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "registry.hub.docker.com",
        ]
    } else {
        vec![registry]
    }
}

/// `https://host:port/v1/` -> `host:port`.
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// Look `registry` up in `dir/config.json`. A missing file means anonymous access;
/// an unreadable or malformed one is an error naming the file.
pub fn lookup(dir: Option<&Path>, registry: &str) -> Result<Lookup, RegistryError> {
    let Some(dir) = dir else {
        return Ok(Lookup::None);
    };
    let path = dir.join("config.json");
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
    };
    if data.len() > 4 << 20 {
        return Err(format!("{} is larger than 4 MiB", path.display()).into());
    }
    let cfg: ConfigFile = serde_json::from_slice(&data)
        .map_err(|e| format!("malformed JSON in {}: {e}", path.display()))?;
    let names = aliases(registry);
    for name in &names {
        if let Some(helper) = cfg.cred_helpers.get(*name) {
            return Ok(Lookup::Unsupported(format!(
                "{} names credential helper docker-credential-{helper} for {name}; \
                 credential helpers are not supported, put the credentials under \"auths\"",
                path.display()
            )));
        }
    }
    let entry = cfg
        .auths
        .iter()
        .find(|(k, _)| names.contains(&key_host(k)))
        .map(|(_, v)| v);
    if let Some(e) = entry {
        if let Some(auth) = e.auth.as_deref().filter(|a| !a.is_empty()) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|err| {
                    format!(
                        "{}: auths entry for {registry} is not base64: {err}",
                        path.display()
                    )
                })?;
            let raw = String::from_utf8(raw).map_err(|_| {
                format!(
                    "{}: auths entry for {registry} is not UTF-8",
                    path.display()
                )
            })?;
            let Some((u, p)) = raw.split_once(':') else {
                return Err(format!(
                    "{}: auths entry for {registry} is not user:password",
                    path.display()
                )
                .into());
            };
            return Ok(Lookup::Found(Credentials {
                username: u.to_string(),
                password: p.to_string(),
            }));
        }
        if let (Some(u), Some(p)) = (&e.username, &e.password) {
            return Ok(Lookup::Found(Credentials {
                username: u.clone(),
                password: p.clone(),
            }));
        }
        if e.identity_token.is_some() {
            return Ok(Lookup::Unsupported(format!(
                "{} has an identity token for {registry}; identity tokens are not supported",
                path.display()
            )));
        }
    }
    if let Some(store) = &cfg.creds_store {
        return Ok(Lookup::Unsupported(format!(
            "{} uses credsStore docker-credential-{store}; credential stores are not supported, \
             put the credentials under \"auths\"",
            path.display()
        )));
    }
    Ok(Lookup::None)
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other(String),
}

/// Parse `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`.
pub fn parse_challenge(h: &str) -> Challenge {
    let h = h.trim();
    let (scheme, rest) = h.split_once(char::is_whitespace).unwrap_or((h, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Challenge::Basic,
        "bearer" => match params.get("realm") {
            Some(realm) => Challenge::Bearer {
                realm: realm.clone(),
                service: params.get("service").cloned(),
                scope: params.get("scope").cloned(),
            },
            None => Challenge::Other(h.to_string()),
        },
        _ => Challenge::Other(h.to_string()),
    }
}

/// `k="v", k2=v2` -> map (keys lowercased; quoted values may contain commas).
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq]
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => v.push(c),
                }
            }
            value = v;
            rest = q.get(end..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        out.insert(key, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#
            ),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull,push".into()),
            }
        );
        assert_eq!(parse_challenge(r#"Basic realm="test""#), Challenge::Basic);
        assert!(matches!(parse_challenge("Negotiate"), Challenge::Other(_)));
        assert!(matches!(
            parse_challenge("Bearer service=x"),
            Challenge::Other(_)
        ));
    }

    fn write_cfg(json: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("config.json"), json).unwrap();
        d
    }

    #[test]
    fn config_lookup() {
        let d = write_cfg(
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"127.0.0.1:5000":{"auth":"dXNlcjpwYTpzcw=="}}}"#,
        );
        let hub = lookup(Some(d.path()), "docker.io").unwrap();
        assert_eq!(
            hub,
            Lookup::Found(Credentials {
                username: "u".into(),
                password: "p".into()
            })
        );
        let Lookup::Found(c) = lookup(Some(d.path()), "127.0.0.1:5000").unwrap() else {
            panic!()
        };
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("user", "pa:ss")
        );
        assert_eq!(lookup(Some(d.path()), "other:1").unwrap(), Lookup::None);
        let missing = tempfile::tempdir().unwrap();
        assert_eq!(lookup(Some(missing.path()), "x").unwrap(), Lookup::None);
    }

    #[test]
    fn config_unsupported_and_malformed() {
        let d = write_cfg(r#"{"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}"#);
        let Lookup::Unsupported(m) = lookup(Some(d.path()), "gcr.io").unwrap() else {
            panic!()
        };
        assert!(m.contains("docker-credential-gcloud"), "{m}");
        let Lookup::Unsupported(m) = lookup(Some(d.path()), "quay.io").unwrap() else {
            panic!()
        };
        assert!(m.contains("credsStore"), "{m}");
        let d = write_cfg("{not json");
        let e = lookup(Some(d.path()), "x").unwrap_err().to_string();
        assert!(
            e.contains("malformed JSON") && e.contains("config.json"),
            "{e}"
        );
    }
}
