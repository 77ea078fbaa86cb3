//! Binaries: Go build info (main module, dependencies, toolchain as `stdlib`) and
//! cargo-auditable's `.dep-v0` section (zlib-compressed JSON of the crates built in).

use crate::golang::{GO_MAGIC, parse_go_pointer_format};
pub use crate::golang::{GoBuildInfo, parse_go_buildinfo, pseudo_version};
use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl};
use moat_fs::FileMeta;
use moat_model::{Ecosystem, Package};
use object::{Object, ObjectSection};
use std::io::Read;

pub struct Binaries;

/// The first NUL-delimited semantic version in a binary (`\0v1.2.3+ds1\0`), as
/// syft does for a main module whose build info says `(devel)`: linkers' `-X
/// main.version=...` strings land there. Prefixed with `v` as Go module versions are.
pub fn version_from_contents(data: &[u8]) -> Option<String> {
    for run in data.split(|&b| b == 0) {
        if run.len() < 5 || run.len() > 64 {
            continue;
        }
        let Ok(s) = std::str::from_utf8(run) else {
            continue;
        };
        let core = s.strip_prefix('v').unwrap_or(s);
        let mut parts = core.splitn(3, '.');
        let (Some(a), Some(b), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
        let c_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (c, tail) = rest.split_at(c_end);
        let tail_ok = tail.is_empty()
            || (tail.starts_with(['-', '+'])
                && tail[1..]
                    .bytes()
                    .all(|x| x.is_ascii_alphanumeric() || x == b'_' || x == b'-' || x == b'+'));
        if digits(a) && digits(b) && digits(c) && tail_ok {
            return Some(format!("v{core}"));
        }
    }
    None
}

/// Find the Go build info blob: the `.go.buildinfo` section, else a 16-byte aligned
/// magic anywhere in the file (stripped or unusual binaries).
fn find_go(data: &[u8], obj: Option<&object::File<'_>>) -> Option<usize> {
    if let Some(o) = obj
        && let Some(s) = o.section_by_name(".go.buildinfo")
        && let Some((off, _)) = s.file_range()
    {
        let off = usize::try_from(off).ok()?;
        if data.get(off..)?.starts_with(GO_MAGIC) {
            return Some(off);
        }
    }
    let mut i = 0;
    while i + GO_MAGIC.len() <= data.len() {
        if data[i..].starts_with(GO_MAGIC) {
            return Some(i);
        }
        i += 16;
    }
    None
}

#[derive(serde::Deserialize)]
struct Auditable {
    packages: Vec<AuditablePkg>,
}
#[derive(serde::Deserialize)]
struct AuditablePkg {
    name: String,
    version: String,
    #[serde(default)]
    kind: Option<String>,
}

/// Crates recorded by cargo-auditable (build-only dependencies excluded).
pub fn parse_dep_v0(compressed: &[u8]) -> Result<Vec<(String, String)>, CatalogError> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(16 << 20)
        .read_to_end(&mut json)
        .map_err(|e| format!(".dep-v0: bad zlib data: {e}"))?;
    let a: Auditable = serde_json::from_slice(&json).map_err(|e| format!(".dep-v0: {e}"))?;
    Ok(a.packages
        .into_iter()
        .filter(|p| p.kind.as_deref() != Some("build"))
        .map(|p| (p.name, p.version))
        .collect())
}

impl Cataloger for Binaries {
    fn name(&self) -> &'static str {
        "binary"
    }
    fn selector(&self) -> Selector {
        Selector::Executables
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        // Cheap check first: only ELF, PE and Mach-O files are read whole.
        let mut head = [0u8; 4];
        {
            let mut r = ctx.resolver.open(&file.path).map_err(|e| e.to_string())?;
            if r.read_exact(&mut head).is_err() {
                return Ok(());
            }
        }
        let is_bin = head == *b"\x7fELF"
            || head[..2] == *b"MZ"
            || matches!(head, [0xcf, 0xfa, 0xed, 0xfe] | [0xfe, 0xed, 0xfa, 0xcf]);
        if !is_bin {
            return Ok(());
        }
        let data = ctx.read_binary(file)?;
        let obj = object::File::parse(&*data).ok();
        if let Some(off) = find_go(&data, obj.as_ref()) {
            let blob = &data[off..];
            let info = match (blob.get(15).is_some_and(|f| f & 2 == 0), obj.as_ref()) {
                (true, Some(o)) => parse_go_pointer_format(blob, o)?,
                _ => parse_go_buildinfo(blob)?,
            };
            let go = |m: &str, v: &str| {
                let mut p = package(m, v, Ecosystem::Golang, purl::golang(m, v), file);
                p.found_by = "go-binary".into();
                p
            };
            let mut main = None;
            if let Some((m, v)) = &info.main() {
                let v = if v == "(devel)" {
                    pseudo_version(&info)
                        .or_else(|| version_from_contents(&data))
                        .unwrap_or_else(|| v.clone())
                } else {
                    v.clone()
                };
                main = Some(go(m, &v));
            }
            // The main module depends on every module built in, and on the toolchain.
            let dep = |found: &mut Found, p: Package| {
                if let Some(m) = &main {
                    found.deps.push(crate::DepRef::of(
                        m,
                        Ecosystem::Golang,
                        &p.name,
                        Some(&p.version),
                    ));
                }
                found.packages.push(p);
            };
            for (m, v) in &info.deps {
                dep(found, go(m, v));
            }
            if !info.go_version.is_empty() {
                // Version as the toolchain names itself (`go1.19.8`); the PURL carries the
                // bare semantic version, as syft writes it and Go advisories list it.
                let v = info.go_version.split_whitespace().next().unwrap_or("");
                let mut p = go("stdlib", v);
                p.purl = purl::golang("stdlib", v.trim_start_matches("go"));
                dep(found, p);
            }
            if let Some(m) = main {
                found.packages.push(m);
            }
        }
        if let Some(sec) = obj.as_ref().and_then(|o| o.section_by_name(".dep-v0")) {
            let raw = sec.data().map_err(|e| format!(".dep-v0: {e}"))?;
            for (n, v) in parse_dep_v0(raw)? {
                let mut p = package(
                    &n,
                    &v,
                    Ecosystem::Cargo,
                    purl::simple("cargo", &n, &v),
                    file,
                );
                p.found_by = "cargo-auditable-binary".into();
                found.packages.push(p);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_contents_takes_the_first_semver() {
        assert_eq!(
            version_from_contents(b"abc\0go1.19\0x1.1.5\0\x001.1.5+ds1\0zz").as_deref(),
            Some("v1.1.5+ds1")
        );
        assert_eq!(version_from_contents(b"\0v2.0.0-rc.1\0"), None);
        assert_eq!(
            version_from_contents(b"\0v2.0.0-rc1\0").as_deref(),
            Some("v2.0.0-rc1")
        );
    }
}
