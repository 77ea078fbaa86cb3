//! Package integrity: files whose content differs from what the package database
//! recorded. dpkg: `/var/lib/dpkg/info/*.md5sums` (md5), conffiles from
//! `/var/lib/dpkg/status` (md5, reported at a lower severity), diversions skipped;
//! apk: `Z:Q1…` (base64 sha1) in `/lib/apk/db/installed`, files under `/etc` counted as
//! configuration; rpm: the `FILEDIGESTS` of the rpm database (md5, sha1, sha256,
//! sha384 or sha512, per package), `%config` files at the lower severity, `%ghost`
//! files and `%verify(not md5)` files skipped. moat-content does not parse the rpm
//! database (moat-catalog does, and sits beside it, not below): the caller passes its
//! files in ([`RpmFile`], [`scan_with_rpm`]).

use base64::Engine as _;
use md5::Md5;
use moat_fs::{FileKind, FileResolver};
use moat_model::Severity;
use moat_model::content::IntegrityFinding;
use moat_model::report::FindingLocation;
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha384, Sha512};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

const MAX_DB_FILE: u64 = 64 << 20;

/// Configuration files that installing and setting up a system rewrites as a matter of
/// course (users, host name, name resolution, boot services): a difference from the
/// package is local state, not tampering, and is not reported.
const LOCAL_STATE: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/subuid",
    "/etc/subgid",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/fstab",
    "/etc/mtab",
    "/etc/motd",
    "/etc/modules",
    "/etc/rc.conf",
    "/etc/timezone",
    "/etc/localtime",
    "/etc/shells",
    "/etc/apk/world",
    "/etc/apk/repositories",
    "/etc/network/interfaces",
];

/// A content digest algorithm of a package database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algo {
    pub fn name(self) -> &'static str {
        match self {
            Algo::Md5 => "md5",
            Algo::Sha1 => "sha1",
            Algo::Sha256 => "sha256",
            Algo::Sha384 => "sha384",
            Algo::Sha512 => "sha512",
        }
    }
}

/// One file of an installed RPM package as the rpm database records it (moat-catalog's
/// `rpm::RpmFile`, with its package's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmFile {
    pub package: String,
    pub path: String,
    /// Lower-case hex `FILEDIGESTS` value; empty when there is none.
    pub digest: String,
    /// `None`: an algorithm rpm does not use for files (the digest is not checked).
    pub algo: Option<Algo>,
    /// `FILEFLAGS`: [`RPMFILE_CONFIG`], [`RPMFILE_GHOST`].
    pub flags: u32,
    /// `FILEMODES`: type and permission bits.
    pub mode: u16,
    /// `FILEVERIFYFLAGS`: [`RPMVERIFY_FILEDIGEST`] cleared by `%verify(not md5)`.
    pub verify: u32,
    /// `FILESTATES`: only 0 (normal) is compared; a replaced file holds another
    /// package's content, a not-installed one none, a wrong-colour one the other
    /// architecture's (multilib).
    pub state: u8,
}

/// `RPMFILE_CONFIG`: a `%config` file.
pub const RPMFILE_CONFIG: u32 = 1 << 0;
/// `RPMFILE_GHOST`: a `%ghost` file (the package owns the name, ships no content).
pub const RPMFILE_GHOST: u32 = 1 << 6;
/// `RPMVERIFY_FILEDIGEST`: `rpm -V` compares the digest.
pub const RPMVERIFY_FILEDIGEST: u32 = 1 << 0;

struct Expect {
    package: String,
    algo: Algo,
    hex: String,
    config: bool,
}

fn digest(r: &dyn FileResolver, path: &str, algo: Algo, max: u64) -> Option<String> {
    let mut f = r.open_resolved(path).ok()?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut md5 = Md5::new();
    let mut sha1 = Sha1::new();
    let mut sha256 = Sha256::new();
    let mut sha384 = Sha384::new();
    let mut sha512 = Sha512::new();
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > max {
            return None;
        }
        let b = &buf[..n];
        match algo {
            Algo::Md5 => md5.update(b),
            Algo::Sha1 => sha1.update(b),
            Algo::Sha256 => sha256.update(b),
            Algo::Sha384 => sha384.update(b),
            Algo::Sha512 => sha512.update(b),
        }
    }
    Some(match algo {
        Algo::Md5 => hex::encode(md5.finalize()),
        Algo::Sha1 => hex::encode(sha1.finalize()),
        Algo::Sha256 => hex::encode(sha256.finalize()),
        Algo::Sha384 => hex::encode(sha384.finalize()),
        Algo::Sha512 => hex::encode(sha512.finalize()),
    })
}

/// rpm's expectations: regular files in the normal state with a digest, not
/// `%ghost`, not `%verify(not md5)` (what `rpm -V` compares); `%config` files are
/// configuration.
fn rpm(files: &[RpmFile], out: &mut BTreeMap<String, Expect>) {
    for f in files {
        let Some(algo) = f.algo else { continue };
        if f.mode & 0o170000 != 0o100000
            || f.state != 0
            || f.flags & RPMFILE_GHOST != 0
            || f.verify & RPMVERIFY_FILEDIGEST == 0
            || f.digest.is_empty()
            || !f.path.starts_with('/')
        {
            continue;
        }
        out.insert(
            moat_fs::normalize(&f.path),
            Expect {
                package: f.package.clone(),
                algo,
                hex: f.digest.to_ascii_lowercase(),
                config: f.flags & RPMFILE_CONFIG != 0,
            },
        );
    }
}

/// dpkg's expectations: path → (package, md5, conffile).
fn dpkg(r: &dyn FileResolver, out: &mut BTreeMap<String, Expect>) {
    let diverted: BTreeSet<String> = r
        .read_limited("/var/lib/dpkg/diversions", MAX_DB_FILE)
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
                .chunks(3)
                .flat_map(|c| c.iter().take(2).cloned())
                .collect()
        })
        .unwrap_or_default();
    if let Ok(files) = r.glob(&["/var/lib/dpkg/info/*.md5sums"]) {
        for m in files {
            let name = m.path.rsplit('/').next().unwrap_or("");
            let pkg = name.trim_end_matches(".md5sums");
            let pkg = pkg.split(':').next().unwrap_or(pkg).to_string();
            let Ok(b) = r.read_limited(&m.path, MAX_DB_FILE) else {
                continue;
            };
            for line in String::from_utf8_lossy(&b).lines() {
                let Some((sum, rel)) = line.split_once("  ") else {
                    continue;
                };
                if sum.len() != 32 {
                    continue;
                }
                let path = moat_fs::normalize(&format!("/{}", rel.trim_start_matches('/')));
                if diverted.contains(&path) {
                    continue;
                }
                out.insert(
                    path,
                    Expect {
                        package: pkg.clone(),
                        algo: Algo::Md5,
                        hex: sum.to_ascii_lowercase(),
                        config: false,
                    },
                );
            }
        }
    }
    // Conffiles: "Conffiles:" then " /etc/x md5 [obsolete|remove-on-upgrade]".
    if let Ok(b) = r.read_limited("/var/lib/dpkg/status", MAX_DB_FILE) {
        let text = String::from_utf8_lossy(&b);
        let mut pkg = String::new();
        let mut in_conf = false;
        for line in text.lines() {
            if let Some(p) = line.strip_prefix("Package:") {
                pkg = p.trim().to_string();
                in_conf = false;
            } else if line.starts_with("Conffiles:") {
                in_conf = true;
            } else if in_conf && line.starts_with(' ') {
                let parts: Vec<&str> = line.split_whitespace().collect();
                if parts.len() >= 2
                    && parts[1].len() == 32
                    && parts.get(2).is_none()
                    && !diverted.contains(parts[0])
                {
                    out.insert(
                        moat_fs::normalize(parts[0]),
                        Expect {
                            package: pkg.clone(),
                            algo: Algo::Md5,
                            hex: parts[1].to_ascii_lowercase(),
                            config: true,
                        },
                    );
                }
            } else {
                in_conf = false;
            }
        }
    }
}

fn apk(r: &dyn FileResolver, out: &mut BTreeMap<String, Expect>) {
    let Ok(b) = r.read_limited("/lib/apk/db/installed", MAX_DB_FILE) else {
        return;
    };
    let text = String::from_utf8_lossy(&b);
    let (mut pkg, mut dir, mut file) = (String::new(), String::new(), None::<String>);
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("P:") {
            pkg = p.to_string();
        } else if let Some(d) = line.strip_prefix("F:") {
            dir = d.to_string();
            file = None;
        } else if let Some(f) = line.strip_prefix("R:") {
            file = Some(moat_fs::normalize(&format!("/{dir}/{f}")));
        } else if let Some(z) = line.strip_prefix("Z:") {
            let Some(path) = file.take() else { continue };
            let Some(b64) = z.strip_prefix("Q1") else {
                continue;
            };
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
                continue;
            };
            if raw.len() != 20 {
                continue;
            }
            out.insert(
                path.clone(),
                Expect {
                    package: pkg.clone(),
                    algo: Algo::Sha1,
                    hex: hex::encode(raw),
                    config: path.starts_with("/etc/"),
                },
            );
        } else if line.is_empty() {
            file = None;
        }
    }
}

/// Package files whose content differs from the package database (dpkg, apk).
pub fn scan(r: &dyn FileResolver, max_file: u64) -> Vec<IntegrityFinding> {
    scan_with_rpm(r, max_file, &[])
}

/// [`scan`], the files of the rpm database (`rpm`) compared too.
pub fn scan_with_rpm(
    r: &dyn FileResolver,
    max_file: u64,
    rpm_files: &[RpmFile],
) -> Vec<IntegrityFinding> {
    let mut expect = BTreeMap::new();
    dpkg(r, &mut expect);
    apk(r, &mut expect);
    rpm(rpm_files, &mut expect);
    let mut out = Vec::new();
    for (path, e) in expect {
        // Through symlinked directories (/bin → usr/bin), not a final symlink: a package
        // symlink has no content to compare.
        let parent = moat_fs::parent(&path);
        let Ok(Some(real_parent)) = r.resolve(parent) else {
            continue;
        };
        let real = moat_fs::join(&real_parent, path.rsplit('/').next().unwrap_or(""));
        let Some(meta) = r.lstat(&real) else {
            continue;
        };
        if meta.kind != FileKind::File || (e.config && LOCAL_STATE.contains(&real.as_str())) {
            continue;
        }
        let Some(actual) = digest(r, &real, e.algo, max_file) else {
            continue;
        };
        if actual == e.hex {
            continue;
        }
        let (rule, sev, what) = if e.config {
            (
                "package-conffile-modified",
                Severity::Low,
                "configuration file",
            )
        } else {
            ("package-file-modified", Severity::High, "file")
        };
        out.push(IntegrityFinding {
            rule: rule.into(),
            severity: sev,
            title: format!(
                "{what} of package {} differs from the package database ({})",
                e.package,
                e.algo.name()
            ),
            location: FindingLocation {
                path: real,
                layer: meta.layer.unwrap_or_default(),
                line: 0,
                column: 0,
            },
            package: e.package,
            algorithm: e.algo.name().into(),
            expected: e.hex,
            actual,
            config: e.config,
        });
    }
    out.sort();
    out
}
