//! Binaries: Go build info (main module, dependencies, toolchain as `stdlib`) and
//! cargo-auditable's `.dep-v0` section (zlib-compressed JSON of the crates built in).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use object::{Object, ObjectSection};
use std::io::Read;

pub struct Binaries;

const GO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// Go build info: toolchain version and `(kind, path, version)` modules, `kind` being
/// `mod` (the main module) or `dep`; replacements (`=>`) replace the previous dep.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    pub go_version: String,
    /// `vcs.revision` and `vcs.time` build settings (Go >= 1.18 builds in a VCS checkout).
    pub vcs_revision: Option<String>,
    pub vcs_time: Option<String>,
    pub main: Option<(String, String)>,
    pub deps: Vec<(String, String)>,
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        x |= u64::from(c & 0x7f) << (7 * i);
        if c < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

fn varstr(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (n, used) = uvarint(b)?;
    let n = usize::try_from(n).ok()?;
    let s = b.get(used..used.checked_add(n)?)?;
    Some((s, &b[used + n..]))
}

/// Parse Go build info starting at the magic (Go >= 1.18 inline-string format).
pub fn parse_go_buildinfo(b: &[u8]) -> Result<GoBuildInfo, CatalogError> {
    if !b.starts_with(GO_MAGIC) || b.len() < 32 {
        return Err("no Go build info magic".into());
    }
    let flags = b[15];
    if flags & 2 == 0 {
        return Err(
            "Go build info from before Go 1.18 (pointer format) needs the binary's sections".into(),
        );
    }
    let (ver, rest) = varstr(&b[32..]).ok_or("truncated Go version")?;
    let (modinfo, _) = varstr(rest).ok_or("truncated Go module info")?;
    Ok(decode(ver, modinfo))
}

/// Go < 1.18 build info: after the magic, the pointer size (byte 14), the endianness
/// (bit 0 of byte 15), then two pointers to Go string headers (data pointer, length)
/// for the version and the module info, resolved through the sections' addresses.
fn parse_go_pointer_format(b: &[u8], obj: &object::File<'_>) -> Result<GoBuildInfo, CatalogError> {
    let ptr_size = usize::from(*b.get(14).ok_or("truncated Go build info")?);
    let big = b.get(15).is_some_and(|f| f & 1 == 1);
    if ptr_size != 4 && ptr_size != 8 {
        return Err(CatalogError::Malformed(format!(
            "Go build info: pointer size {ptr_size}"
        )));
    }
    let word = |bytes: &[u8]| -> Option<u64> {
        let w = bytes.get(..ptr_size)?;
        let mut v = 0u64;
        for i in 0..ptr_size {
            let byte = if big { w[i] } else { w[ptr_size - 1 - i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    };
    // Bytes at a virtual address, from the section that holds it.
    let at = |addr: u64, len: u64| -> Option<&[u8]> {
        obj.sections().find_map(|s| {
            let (start, size) = (s.address(), s.size());
            if addr < start || addr.checked_add(len)? > start.checked_add(size)? {
                return None;
            }
            let d = s.data().ok()?;
            let off = usize::try_from(addr - start).ok()?;
            d.get(off..off.checked_add(usize::try_from(len).ok()?)?)
        })
    };
    let go_string = |header_addr: u64| -> Option<Vec<u8>> {
        let hdr = at(header_addr, 2 * ptr_size as u64)?;
        let (ptr, len) = (word(hdr)?, word(hdr.get(ptr_size..)?)?);
        if len > 1 << 20 {
            return None;
        }
        at(ptr, len).map(<[u8]>::to_vec)
    };
    let ver_hdr = word(b.get(16..).ok_or("truncated")?).ok_or("truncated Go build info")?;
    let mod_hdr =
        word(b.get(16 + ptr_size..).ok_or("truncated")?).ok_or("truncated Go build info")?;
    let ver = go_string(ver_hdr).ok_or("Go version string not found in the binary's sections")?;
    let modinfo = go_string(mod_hdr).unwrap_or_default();
    Ok(decode(&ver, &modinfo))
}

fn decode(ver: &[u8], modinfo: &[u8]) -> GoBuildInfo {
    let mut info = GoBuildInfo {
        go_version: String::from_utf8_lossy(ver).into_owned(),
        ..Default::default()
    };
    // modinfo is framed by 16-byte sentinels.
    let m = if modinfo.len() >= 33 {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    for line in String::from_utf8_lossy(m).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["path", path, ..] if info.main.is_none() => {
                // GOPATH builds (Debian's) record no `mod` line: the main package's path
                // stands for the module, its version unknown until the caller finds one.
                info.main = Some((path.to_string(), "(devel)".to_string()))
            }
            ["mod", path, version, ..] => info.main = Some((path.to_string(), version.to_string())),
            ["dep", path, version, ..] => info.deps.push((path.to_string(), version.to_string())),
            ["build", kv] => {
                if let Some(v) = kv.strip_prefix("vcs.revision=") {
                    info.vcs_revision = Some(v.to_string());
                } else if let Some(v) = kv.strip_prefix("vcs.time=") {
                    info.vcs_time = Some(v.to_string());
                }
            }
            ["=>", path, version, ..] => {
                if let Some(last) = info.deps.last_mut() {
                    *last = (path.to_string(), version.to_string());
                }
            }
            _ => {}
        }
    }
    info
}

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

/// The Go pseudo-version of a `(devel)` main module built in a VCS checkout:
/// `v0.0.0-YYYYMMDDHHMMSS-REVISION12` from `vcs.time` and `vcs.revision` (as syft does).
pub fn pseudo_version(info: &GoBuildInfo) -> Option<String> {
    let rev = info.vcs_revision.as_deref()?;
    let t = info.vcs_time.as_deref()?;
    let digits: String = t.chars().take(19).filter(char::is_ascii_digit).collect();
    if digits.len() != 14 || rev.len() < 12 {
        return None;
    }
    Some(format!("v0.0.0-{digits}-{}", rev.get(..12)?))
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
            if let Some((m, v)) = &info.main {
                let v = if v == "(devel)" {
                    pseudo_version(&info)
                        .or_else(|| version_from_contents(&data))
                        .unwrap_or_else(|| v.clone())
                } else {
                    v.clone()
                };
                found.packages.push(go(m, &v));
            }
            for (m, v) in &info.deps {
                found.packages.push(go(m, v));
            }
            if !info.go_version.is_empty() {
                // Version as the toolchain names itself (`go1.19.8`); the PURL carries the
                // bare semantic version, as syft writes it and Go advisories list it.
                let v = info.go_version.split_whitespace().next().unwrap_or("");
                let mut p = go("stdlib", v);
                p.purl = purl::golang("stdlib", v.trim_start_matches("go"));
                found.packages.push(p);
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
