//! Go: declared modules of `go.mod` (`require`, with `replace` applied), and the build
//! information Go writes into every binary (`.go.buildinfo`): the one parser of the
//! project, for the binary cataloger and for `moat audit` (engine and runtime
//! versions, `-ldflags` build settings).

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;
use object::{Object, ObjectSection};
use std::collections::BTreeMap;

pub struct GoMod;

pub(crate) const GO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GoBuildInfo {
    /// `go1.19.8`
    pub go_version: String,
    /// Main package path (`github.com/docker/docker/cmd/dockerd`).
    pub path: Option<String>,
    /// Main module (`github.com/docker/docker`, `v20.10.24+incompatible`) from the `mod`
    /// line; absent in GOPATH builds.
    pub main_module: Option<(String, String)>,
    /// Dependencies: module path and version, replacements (`=>`) applied.
    pub deps: Vec<(String, String)>,
    /// `build` settings in order (`-ldflags`, `-tags`, `GOOS`, `vcs.revision`, ...).
    pub settings: Vec<(String, String)>,
}

impl GoBuildInfo {
    /// The main module; for a GOPATH build (Debian's) the main package's path stands
    /// for it, with version `(devel)` until the caller finds a better one.
    pub fn main(&self) -> Option<(String, String)> {
        self.main_module
            .clone()
            .or_else(|| self.path.clone().map(|p| (p, "(devel)".to_string())))
    }

    /// The value of build setting `key`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `vcs.revision` (Go >= 1.18 builds in a VCS checkout).
    pub fn vcs_revision(&self) -> Option<&str> {
        self.setting("vcs.revision")
    }

    /// `vcs.time`.
    pub fn vcs_time(&self) -> Option<&str> {
        self.setting("vcs.time")
    }

    /// A `-X importpath.name=value` from `-ldflags`.
    pub fn ldflag_var(&self, name: &str) -> Option<String> {
        let ld = self.setting("-ldflags")?;
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

/// The build info of a parsed object file: its `.go.buildinfo` (ELF, PE) or
/// `__go_buildinfo` (Mach-O) section, in either format (pointer format before Go 1.18).
pub fn buildinfo_of_object<'d, R: object::ReadRef<'d>>(
    obj: &object::File<'d, R>,
) -> Result<GoBuildInfo, CatalogError> {
    let section = obj
        .section_by_name(".go.buildinfo")
        .or_else(|| obj.section_by_name("__go_buildinfo"))
        .ok_or_else(|| CatalogError::NotGo("no .go.buildinfo section".into()))?;
    let blob = section
        .data()
        .map_err(|e| CatalogError::Malformed(format!(".go.buildinfo: {e}")))?;
    if !blob.starts_with(GO_MAGIC) {
        return Err(CatalogError::NotGo(
            ".go.buildinfo does not start with the magic".into(),
        ));
    }
    if blob.get(15).is_some_and(|f| f & 2 == 0) {
        parse_go_pointer_format(blob, obj)
    } else {
        parse_go_buildinfo(blob)
    }
}

/// The build info of the Go binary at `path` on the host (`moat audit`: dockerd,
/// containerd, runc). Only the headers and the sections needed are read, not the
/// whole file; a file over `max_bytes` is refused.
pub fn read_buildinfo(path: &std::path::Path, max_bytes: u64) -> Result<GoBuildInfo, CatalogError> {
    let shown = path.display().to_string();
    let io = |source| CatalogError::Io {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > max_bytes {
        return Err(CatalogError::OverBudget {
            what: format!("{shown} ({len} bytes)"),
            limit: max_bytes,
            budget: "max_binary_bytes",
        });
    }
    let cache = object::ReadCache::new(file);
    let obj = object::File::parse(&cache)
        .map_err(|e| CatalogError::NotGo(format!("{shown}: not an executable object file: {e}")))?;
    buildinfo_of_object(&obj).map_err(|e| match e {
        CatalogError::NotGo(why) => CatalogError::NotGo(format!("{shown}: {why}")),
        CatalogError::Malformed(why) => CatalogError::Malformed(format!("{shown}: {why}")),
        other => other,
    })
}

/// Go < 1.18 build info: after the magic, the pointer size (byte 14), the endianness
/// (bit 0 of byte 15), then two pointers to Go string headers (data pointer, length)
/// for the version and the module info, resolved through the sections' addresses.
pub(crate) fn parse_go_pointer_format<'d, R: object::ReadRef<'d>>(
    b: &[u8],
    obj: &object::File<'d, R>,
) -> Result<GoBuildInfo, CatalogError> {
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
    let at = |addr: u64, len: u64| -> Option<&'d [u8]> {
        obj.sections().find_map(|s| {
            let (start, size) = (s.address(), s.size());
            if addr < start || addr.checked_add(len)? > start.checked_add(size)? {
                return None;
            }
            s.data_range(addr, len).ok().flatten()
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
            ["path", path, ..] if info.path.is_none() => info.path = Some(path.to_string()),
            ["mod", path, version, ..] => {
                info.main_module = Some((path.to_string(), version.to_string()))
            }
            ["dep", path, version, ..] => info.deps.push((path.to_string(), version.to_string())),
            ["build", kv, ..] => {
                if let Some((k, v)) = kv.split_once('=') {
                    info.settings.push((k.to_string(), v.to_string()));
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

/// The Go pseudo-version of a `(devel)` main module built in a VCS checkout:
/// `v0.0.0-YYYYMMDDHHMMSS-REVISION12` from `vcs.time` and `vcs.revision` (as syft does).
pub fn pseudo_version(info: &GoBuildInfo) -> Option<String> {
    let rev = info.vcs_revision()?;
    let t = info.vcs_time()?;
    let digits: String = t.chars().take(19).filter(char::is_ascii_digit).collect();
    if digits.len() != 14 || rev.len() < 12 {
        return None;
    }
    Some(format!("v0.0.0-{digits}-{}", rev.get(..12)?))
}

/// A `replace` directive: old module, old version (if pinned), new module and version
/// (`None` for a local directory).
type Replace = (String, Option<String>, Option<(String, String)>);

/// (module, version) required by a go.mod, replacements applied (a replacement by a
/// local directory drops the module: it has no version).
pub fn parse_go_mod(s: &str) -> Vec<(String, String)> {
    let mut req: BTreeMap<String, String> = BTreeMap::new();
    let mut repl: Vec<Replace> = Vec::new();
    let mut block = "";
    let (mut module, mut go, mut toolchain) = (None, None, None);
    for raw in s.lines() {
        let indirect = raw.contains("// indirect");
        let line = raw.split("//").next().unwrap_or("").trim();
        if let Some(m) = line.strip_prefix("module ") {
            module = Some(m.trim().trim_matches('"').to_string());
            continue;
        }
        if let Some(v) = line.strip_prefix("go ") {
            go = Some(v.trim().to_string());
            continue;
        }
        if let Some(v) = line.strip_prefix("toolchain ") {
            toolchain = Some(v.trim().to_string());
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = "";
            continue;
        }
        let (kind, rest) = if let Some(r) = line.strip_prefix("require ") {
            ("require", r.trim())
        } else if let Some(r) = line.strip_prefix("replace ") {
            ("replace", r.trim())
        } else if !block.is_empty() {
            (block, line)
        } else {
            continue;
        };
        if rest == "(" {
            block = kind;
            continue;
        }
        match kind {
            "require" => {
                // Before Go 1.17 a go.mod lists only some indirect dependencies: the
                // listed ones are not the build's, so they are left out (as Trivy does).
                if indirect && go_minor(go.as_deref()) < 17 {
                    continue;
                }
                let mut f = rest.split_whitespace();
                if let (Some(m), Some(v)) = (f.next(), f.next()) {
                    req.insert(m.to_string(), v.to_string());
                }
            }
            "replace" => {
                let Some((l, r)) = rest.split_once("=>") else {
                    continue;
                };
                let mut lf = l.split_whitespace();
                let mut rf = r.split_whitespace();
                let (Some(old), old_v) = (lf.next(), lf.next()) else {
                    continue;
                };
                let new = match (rf.next(), rf.next()) {
                    (Some(m), Some(v)) => Some((m.to_string(), v.to_string())),
                    _ => None,
                };
                repl.push((old.to_string(), old_v.map(str::to_string), new));
            }
            _ => {}
        }
    }
    for (old, old_v, new) in repl {
        let Some(cur) = req.get(&old).cloned() else {
            continue;
        };
        if old_v.as_ref().is_some_and(|v| *v != cur) {
            continue;
        }
        req.remove(&old);
        if let Some((m, v)) = new {
            req.insert(m, v);
        }
    }
    let mut out: Vec<(String, String)> = req.into_iter().collect();
    // The module itself (no version: it is the source tree) and the toolchain as
    // `stdlib`: the `toolchain` directive, else a `go` directive from Go 1.21 on (which
    // names an exact toolchain version).
    if let Some(m) = module {
        out.push((m, String::new()));
    }
    let std = toolchain
        .and_then(|t| t.strip_prefix("go").map(str::to_string))
        .or_else(|| {
            go.clone()
                .filter(|g| go_minor(Some(g)) >= 21 && g.matches('.').count() >= 2)
        });
    if let Some(v) = std {
        out.push(("stdlib".into(), format!("v{v}")));
    }
    out.sort();
    out
}

/// Minor version of a `go 1.N[.P]` directive (99 when absent: assume modern).
fn go_minor(go: Option<&str>) -> u32 {
    go.and_then(|g| g.split('.').nth(1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(99)
}

/// The toolchain's PURL carries the bare version (`pkg:golang/stdlib@1.22.5`), as for
/// binaries; modules keep their `v`.
fn go_purl(module: &str, version: &str) -> moat_model::Purl {
    if module == "stdlib" {
        purl::golang(module, version.trim_start_matches('v'))
    } else {
        purl::golang(module, version)
    }
}

impl Cataloger for GoMod {
    fn name(&self) -> &'static str {
        "go-mod"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/go.mod"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (m, v) in parse_go_mod(&text(&data)) {
            if v.is_empty() {
                continue; // the module being scanned: a source tree, not a dependency
            }
            found
                .packages
                .push(package(&m, &v, Ecosystem::Golang, go_purl(&m, &v), file));
        }
        Ok(())
    }
}

#[cfg(test)]
mod buildinfo_tests {
    use super::*;

    #[test]
    fn settings_main_module_and_ldflags_are_kept() {
        let body = "path\tgithub.com/docker/docker/cmd/dockerd\nmod\tgithub.com/docker/docker\tv20.10.24+incompatible\t\ndep\tgolang.org/x/sys\tv0.1.0\th1:x\n=>\tgolang.org/x/sys\tv0.2.0\th1:y\nbuild\t-ldflags=\"-X github.com/docker/docker/dockerversion.Version=20.10.24+dfsg1 -w\"\nbuild\tvcs.revision=0123456789abcdef0123\nbuild\tvcs.time=2023-04-05T06:07:08Z\n";
        let mut modinfo = vec![0u8; 16];
        modinfo.extend_from_slice(body.as_bytes());
        modinfo.extend_from_slice(&[0u8; 16]);
        let info = decode(b"go1.19.8", &modinfo);
        assert_eq!(info.go_version, "go1.19.8");
        assert_eq!(
            info.path.as_deref(),
            Some("github.com/docker/docker/cmd/dockerd")
        );
        assert_eq!(
            info.main(),
            Some((
                "github.com/docker/docker".to_string(),
                "v20.10.24+incompatible".to_string()
            ))
        );
        assert_eq!(
            info.deps,
            [("golang.org/x/sys".to_string(), "v0.2.0".to_string())]
        );
        assert_eq!(info.settings.len(), 3);
        assert_eq!(
            info.ldflag_var("github.com/docker/docker/dockerversion.Version")
                .as_deref(),
            Some("20.10.24+dfsg1")
        );
        assert_eq!(
            pseudo_version(&info).as_deref(),
            Some("v0.0.0-20230405060708-0123456789ab")
        );
    }
}
