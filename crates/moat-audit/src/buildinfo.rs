//! Go build information (`.go.buildinfo`) of a binary: the Go version, the main module
//! and its version, the dependencies, and the build settings (`-ldflags` may carry the
//! product version, as Debian's dockerd does).

use object::{Object, ObjectSection};
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8] = b"\xff Go buildinf:";
/// Largest binary we read whole (dockerd is ~80 MB).
const MAX_BINARY: u64 = 512 << 20;

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuildInfo {
    /// `go1.19.8`
    pub go_version: String,
    /// Main package path (`github.com/docker/docker/cmd/dockerd`).
    pub path: Option<String>,
    /// Main module (`github.com/docker/docker`, `v20.10.24+incompatible`); absent in GOPATH builds.
    pub main_module: Option<(String, String)>,
    /// Dependencies: module path and version.
    pub deps: Vec<(String, String)>,
    /// `build` settings (`-ldflags`, `-tags`, `GOOS`, ...).
    pub settings: Vec<(String, String)>,
}

impl GoBuildInfo {
    /// A `-X importpath.name=value` from `-ldflags`.
    pub fn ldflag_var(&self, name: &str) -> Option<String> {
        let ld = self
            .settings
            .iter()
            .find(|(k, _)| k == "-ldflags")
            .map(|(_, v)| v)?;
        let key = format!("{name}=");
        let start = ld.find(&key)? + key.len();
        let rest = &ld[start..];
        let end = rest
            .find(|c: char| c == '"' || c == '\\' || c.is_whitespace())
            .unwrap_or(rest.len());
        let v = &rest[..end];
        (!v.is_empty()).then(|| v.to_string())
    }
}

/// Why build info could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildInfoError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than {MAX_BINARY} bytes")]
    TooLarge { path: String },
    #[error("{path}: not an executable object file: {source}")]
    Object {
        path: String,
        #[source]
        source: object::Error,
    },
    #[error("{path}: no Go build information ({why})")]
    NotGo { path: String, why: String },
}

/// Reads the Go build info of the binary at `path`. Only the headers and the
/// `.go.buildinfo` section are read (through a read cache), not the whole binary.
pub fn read_file(path: &Path) -> Result<GoBuildInfo, BuildInfoError> {
    let shown = path.display().to_string();
    let io = |source| BuildInfoError::Io {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_BINARY {
        return Err(BuildInfoError::TooLarge { path: shown });
    }
    let cache = object::ReadCache::new(file);
    let obj = object::File::parse(&cache).map_err(|source| BuildInfoError::Object {
        path: shown.clone(),
        source,
    })?;
    let section = obj
        .section_by_name(".go.buildinfo")
        .or_else(|| obj.section_by_name("__go_buildinfo"))
        .ok_or_else(|| BuildInfoError::NotGo {
            path: shown.clone(),
            why: "no .go.buildinfo section".into(),
        })?;
    let bytes = section.data().map_err(|source| BuildInfoError::Object {
        path: shown.clone(),
        source,
    })?;
    parse_section(bytes).ok_or_else(|| BuildInfoError::NotGo {
        path: shown,
        why: "unsupported build info layout (Go before 1.18?)".into(),
    })
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((x, i + 1));
        }
    }
    None
}

fn read_bytes(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (n, used) = uvarint(b)?;
    let n = usize::try_from(n).ok()?;
    let s = b.get(used..used.checked_add(n)?)?;
    Some((s, &b[used + n..]))
}

/// Parses the section of a Go ≥ 1.18 binary (inline, varint-prefixed strings).
fn parse_section(b: &[u8]) -> Option<GoBuildInfo> {
    if !b.starts_with(MAGIC) || b.len() < 32 {
        return None;
    }
    let flags = b[15];
    if flags & 2 == 0 {
        return None;
    }
    let (go_version, rest) = read_bytes(&b[32..])?;
    let (modinfo, _) = read_bytes(rest)?;
    let mut info = GoBuildInfo {
        go_version: String::from_utf8_lossy(go_version).into_owned(),
        ..Default::default()
    };
    // modinfo is wrapped in 16-byte binary sentinels.
    let body = if modinfo.len() >= 33 {
        String::from_utf8_lossy(&modinfo[16..modinfo.len() - 16]).into_owned()
    } else {
        String::new()
    };
    for line in body.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["path", p, ..] => info.path = Some(p.to_string()),
            ["mod", p, v, ..] => info.main_module = Some((p.to_string(), v.to_string())),
            ["dep", p, v, ..] => info.deps.push((p.to_string(), v.to_string())),
            ["=>", p, v, ..] => {
                // a replacement applies to the previous dep
                if let Some(last) = info.deps.last_mut() {
                    *last = (p.to_string(), v.to_string());
                }
            }
            ["build", kv, ..] => {
                if let Some((k, v)) = kv.split_once('=') {
                    info.settings.push((k.to_string(), v.to_string()));
                }
            }
            _ => {}
        }
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage() {
        assert!(parse_section(b"nope").is_none());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("garbage");
        std::fs::write(&p, b"\x7fELF garbage").unwrap();
        let e = read_file(&p).unwrap_err();
        assert!(e.to_string().starts_with(&p.display().to_string()), "{e}");
        // A real ELF that is not a Go binary (this test executable is Rust).
        let me = std::env::current_exe().unwrap();
        assert!(matches!(read_file(&me), Err(BuildInfoError::NotGo { .. })));
    }

    #[test]
    fn reads_debian_dockerd_if_installed() {
        // Real binary from Debian's docker.io (scripts/deps/apt.txt); checked against `go version -m`.
        let p = Path::new("/usr/sbin/dockerd");
        if !p.exists() {
            eprintln!("skipped: /usr/sbin/dockerd not installed");
            return;
        }
        let info = read_file(p).unwrap();
        assert!(info.go_version.starts_with("go1."), "{info:?}");
        assert_eq!(
            info.path.as_deref(),
            Some("github.com/docker/docker/cmd/dockerd")
        );
        let v = info
            .ldflag_var("github.com/docker/docker/dockerversion.Version")
            .unwrap();
        assert!(v.starts_with("20.10."), "{v}");
    }
}
