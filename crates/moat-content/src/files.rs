//! Risky files in the final file system: setuid/setgid executables that no installed
//! package owns, world-writable directories without the sticky bit, private SSH host
//! keys and `authorized_keys`, `.git` directories, package-manager caches, files with
//! file capabilities (`security.capability` extended attributes of the layer tar).
//!
//! Package ownership comes from dpkg (`/var/lib/dpkg/info/*.list`), apk
//! (`/lib/apk/db/installed`) and the rpm database, whose file lists the caller passes
//! in ([`Ownership::add_rpm`]; moat-catalog parses the rpm database). An RPM image
//! whose database was not passed in (or could not be read) is checked against
//! nothing: its setuid check is skipped and its files count as owned.

use moat_fs::{FileKind, FileMeta, FileResolver};
use moat_model::Severity;
use moat_model::content::FileFinding;
use moat_model::report::FindingLocation;
use std::collections::{BTreeMap, HashSet};

/// The paths installed packages own.
#[derive(Debug, Default, Clone)]
pub struct Ownership {
    paths: HashSet<String>,
    /// A package database was found (dpkg or apk).
    pub has_db: bool,
    /// An RPM database exists and its file lists were not added
    /// ([`Ownership::add_rpm`]): ownership on the image is unknown.
    pub rpm: bool,
}

const MAX_DB_FILE: u64 = 64 << 20;

impl Ownership {
    pub fn load(r: &dyn FileResolver) -> Ownership {
        let mut o = Ownership::default();
        if let Ok(lists) = r.glob(&["/var/lib/dpkg/info/*.list"]) {
            for m in lists {
                o.has_db = true;
                let Ok(b) = r.read_limited(&m.path, MAX_DB_FILE) else {
                    continue;
                };
                for line in String::from_utf8_lossy(&b).lines() {
                    if line.starts_with('/') && line != "/." {
                        o.add(r, line);
                    }
                }
            }
        }
        if let Ok(b) = r.read_limited("/lib/apk/db/installed", MAX_DB_FILE) {
            o.has_db = true;
            let mut dir = String::new();
            for line in String::from_utf8_lossy(&b).lines() {
                if let Some(d) = line.strip_prefix("F:") {
                    dir = format!("/{d}");
                    o.add(r, &dir.clone());
                } else if let Some(f) = line.strip_prefix("R:") {
                    let p = if dir == "/" {
                        format!("/{f}")
                    } else {
                        format!("{dir}/{f}")
                    };
                    o.add(r, &p);
                }
            }
        }
        o.rpm = r.lstat("/var/lib/rpm").is_some() || r.lstat("/usr/lib/sysimage/rpm").is_some();
        o
    }

    /// The files of the installed RPM packages (every file of the rpm database's file
    /// lists, directories and `%ghost` files included): ownership on an RPM image is
    /// then known.
    pub fn add_rpm<'a>(&mut self, r: &dyn FileResolver, paths: impl IntoIterator<Item = &'a str>) {
        for p in paths {
            if p.starts_with('/') {
                self.add(r, p);
            }
        }
        self.has_db = true;
        self.rpm = false;
    }

    fn add(&mut self, r: &dyn FileResolver, path: &str) {
        let path = moat_fs::normalize(path);
        // The same file through a symlinked directory (/bin → usr/bin).
        let parent = moat_fs::parent(&path);
        if let Ok(Some(real)) = r.resolve(parent) {
            let name = path.rsplit('/').next().unwrap_or("");
            let alt = moat_fs::join(&real, name);
            if alt != path {
                self.paths.insert(alt);
            }
        }
        self.paths.insert(path);
    }

    pub fn owns(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// Installed by a package manager: an OS package's file, or a file inside a
    /// language package directory (site-packages, node_modules, gems, Go and cargo
    /// module caches).
    pub fn packaged(&self, path: &str) -> bool {
        self.owns(path) || LANGUAGE_PACKAGE_DIRS.iter().any(|d| path.contains(d))
    }
}

/// Directories whose content a language package manager installs.
const LANGUAGE_PACKAGE_DIRS: &[&str] = &[
    "/site-packages/",
    "/dist-packages/",
    "/node_modules/",
    "/gems/",
    "/go/pkg/mod/",
    "/.cargo/registry/",
    "/vendor/bundle/",
];

/// Package caches: (directory, what it is).
const CACHES: &[(&str, &str)] = &[
    ("/var/cache/apt/archives", "apt package cache"),
    ("/var/lib/apt/lists", "apt package lists"),
    ("/var/cache/apk", "apk package cache"),
    ("/etc/apk/cache", "apk package cache"),
    ("/var/cache/yum", "yum cache"),
    ("/var/cache/dnf", "dnf cache"),
    ("/var/cache/zypp", "zypper cache"),
    ("/root/.cache/pip", "pip cache"),
    ("/root/.npm/_cacache", "npm cache"),
    ("/usr/local/share/.cache/yarn", "yarn cache"),
    ("/root/.cache/yarn", "yarn cache"),
    ("/root/.cache/go-build", "Go build cache"),
    ("/root/.cargo/registry/cache", "cargo registry cache"),
    ("/root/.gem/cache", "RubyGems cache"),
    ("/root/.composer/cache", "Composer cache"),
];

fn finding(rule: &str, severity: Severity, title: String, m: &FileMeta, size: u64) -> FileFinding {
    FileFinding {
        rule: rule.into(),
        severity,
        title,
        location: FindingLocation {
            path: m.path.clone(),
            layer: m.layer.clone().unwrap_or_default(),
            line: 0,
            column: 0,
        },
        mode: m.mode,
        uid: m.uid,
        gid: m.gid,
        size,
    }
}

fn is_cache_filler(name: &str) -> bool {
    matches!(
        name,
        "lock" | "partial" | ".lock" | "CACHEDIR.TAG" | "auxfiles"
    )
}

/// Capability names by bit (linux/capability.h), without the `cap_` prefix.
const CAP_NAMES: [&str; 41] = [
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

/// Capabilities that amount to root (or a short step to it): file ownership and
/// permission overrides, identity changes, kernel modules, raw devices, ptrace,
/// `sys_admin`, capability grants, network administration, BPF.
const PRIVILEGED_CAPS: &[u32] = &[0, 1, 2, 3, 4, 6, 7, 8, 12, 16, 17, 19, 21, 31, 32, 33, 39];

/// A decoded `security.capability` value (`struct vfs_cap_data`, revisions 1-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCaps {
    pub permitted: u64,
    pub inheritable: u64,
    pub effective: bool,
    /// Revision 3: the user namespace root the capabilities apply in.
    pub rootid: Option<u32>,
}

impl FileCaps {
    /// Decode a `security.capability` value; `None` when it is not one the kernel
    /// would accept (wrong revision or size).
    pub fn parse(v: &[u8]) -> Option<FileCaps> {
        let u32_at = |i: usize| -> Option<u32> {
            let b: [u8; 4] = v.get(i..i + 4)?.try_into().ok()?;
            Some(u32::from_le_bytes(b))
        };
        let magic = u32_at(0)?;
        let words = match (magic & 0xff00_0000, v.len()) {
            (0x0100_0000, 12) => 1,
            (0x0200_0000, 20) | (0x0300_0000, 24) => 2,
            _ => return None,
        };
        let mut permitted = 0u64;
        let mut inheritable = 0u64;
        for w in 0..words {
            permitted |= u64::from(u32_at(4 + 8 * w)?) << (32 * w);
            inheritable |= u64::from(u32_at(8 + 8 * w)?) << (32 * w);
        }
        Some(FileCaps {
            permitted,
            inheritable,
            effective: magic & 1 != 0,
            rootid: if magic & 0xff00_0000 == 0x0300_0000 {
                u32_at(20)
            } else {
                None
            },
        })
    }

    /// The capability bits granted (permitted or inheritable).
    pub fn any(&self) -> u64 {
        self.permitted | self.inheritable
    }

    /// True when a granted capability is root-equivalent ([`PRIVILEGED_CAPS`]).
    pub fn privileged(&self) -> bool {
        PRIVILEGED_CAPS.iter().any(|&b| self.any() & (1 << b) != 0)
    }

    /// `getcap`'s notation: `cap_net_raw,cap_sys_admin=ep` (capabilities grouped by
    /// their flags), unknown bits as `cap_N`.
    pub fn text(&self) -> String {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for bit in 0..64u32 {
            let p = self.permitted & (1 << bit) != 0;
            let i = self.inheritable & (1 << bit) != 0;
            if !p && !i {
                continue;
            }
            let mut flags = String::new();
            if self.effective {
                flags.push('e');
            }
            if i {
                flags.push('i');
            }
            if p {
                flags.push('p');
            }
            let name = CAP_NAMES
                .get(bit as usize)
                .map_or_else(|| format!("cap_{bit}"), |n| format!("cap_{n}"));
            match groups.iter_mut().find(|(f, _)| *f == flags) {
                Some((_, names)) => names.push(name),
                None => groups.push((flags, vec![name])),
            }
        }
        let mut out: Vec<String> = groups
            .into_iter()
            .map(|(f, names)| format!("{}={f}", names.join(",")))
            .collect();
        if let Some(r) = self.rootid.filter(|&r| r != 0) {
            out.push(format!("[rootid={r}]"));
        }
        out.join(" ")
    }
}

/// A regular file with file capabilities (`security.capability`, kept from the layer
/// tar's PAX records): HIGH when a capability is root-equivalent and no package
/// installed the file, MEDIUM for root-equivalent ones a package owns or narrower ones
/// (`cap_net_raw`) on a file no package owns, LOW for narrow ones on a package's file
/// (as Debian's `ping`).
fn capability_finding(r: &dyn FileResolver, own: &Ownership, m: &FileMeta) -> Option<FileFinding> {
    let x = r.xattrs(&m.path);
    let (_, v) = x.iter().find(|(k, _)| k == "security.capability")?;
    let caps = FileCaps::parse(v)?;
    if caps.any() == 0 {
        return None;
    }
    // On an RPM image ownership is not known: counted as owned (no HIGH for ping).
    let owned = own.owns(&m.path) || own.rpm;
    let severity = match (caps.privileged(), owned) {
        (true, false) => Severity::High,
        (true, true) | (false, false) => Severity::Medium,
        (false, true) => Severity::Low,
    };
    let whose = if own.owns(&m.path) {
        "installed by a package"
    } else if own.rpm {
        "RPM image: package ownership not read"
    } else {
        "not installed by any package"
    };
    Some(finding(
        "file-capabilities",
        severity,
        format!("file capabilities {} ({whose})", caps.text()),
        m,
        m.size,
    ))
}

/// Risky files of the final tree.
pub fn scan(r: &dyn FileResolver, own: &Ownership) -> Vec<FileFinding> {
    let mut out = Vec::new();
    let mut git_dirs: BTreeMap<String, (FileMeta, u64)> = BTreeMap::new();
    let mut caches: BTreeMap<&str, (u64, Option<FileMeta>)> = BTreeMap::new();
    for m in r.entries() {
        let p = m.path.as_str();
        let name = p.rsplit('/').next().unwrap_or("");
        match m.kind {
            FileKind::File => {
                if m.mode & 0o6000 != 0 && !own.owns(p) && !own.rpm {
                    let (rule, sev, what) = if m.mode & 0o4000 != 0 {
                        ("setuid-unowned", Severity::High, "setuid")
                    } else {
                        ("setgid-unowned", Severity::Medium, "setgid")
                    };
                    out.push(finding(
                        rule,
                        sev,
                        format!(
                            "{what} file not installed by any package (mode {:o})",
                            m.mode
                        ),
                        &m,
                        m.size,
                    ));
                }
                if let Some(f) = capability_finding(r, own, &m) {
                    out.push(f);
                }
                if p.starts_with("/etc/ssh/ssh_host_") && p.ends_with("_key") {
                    out.push(finding(
                        "ssh-host-key",
                        Severity::High,
                        "private SSH host key baked into the image (every container shares it)"
                            .into(),
                        &m,
                        m.size,
                    ));
                }
                if (p.contains("/.ssh/")
                    && (name == "authorized_keys" || name == "authorized_keys2"))
                    && m.size > 0
                {
                    out.push(finding(
                        "authorized-keys",
                        Severity::Medium,
                        "SSH authorized_keys baked into the image (a standing login)".into(),
                        &m,
                        m.size,
                    ));
                }
                for (d, v) in git_dirs.iter_mut() {
                    if p.starts_with(d.as_str()) && p.as_bytes().get(d.len()) == Some(&b'/') {
                        v.1 += m.size;
                    }
                }
                for (dir, _) in CACHES {
                    if p.starts_with(dir)
                        && p.as_bytes().get(dir.len()) == Some(&b'/')
                        && !is_cache_filler(name)
                    {
                        caches.entry(dir).or_insert((0, None)).0 += m.size;
                    }
                }
            }
            FileKind::Dir => {
                if m.mode & 0o002 != 0 && m.mode & 0o1000 == 0 {
                    out.push(finding(
                        "world-writable-dir",
                        Severity::Medium,
                        format!(
                            "world-writable directory without the sticky bit (mode {:o})",
                            m.mode
                        ),
                        &m,
                        0,
                    ));
                }
                if name == ".git" && !git_dirs.keys().any(|d| p.starts_with(&format!("{d}/"))) {
                    git_dirs.insert(p.to_string(), (m.clone(), 0));
                }
                for (dir, _) in CACHES {
                    if p == *dir {
                        caches.entry(dir).or_insert((0, None)).1 = Some(m.clone());
                    }
                }
            }
            _ => {}
        }
    }
    for (_, (m, size)) in git_dirs {
        out.push(finding(
            "git-directory",
            Severity::Medium,
            "a .git directory in the image (history, remotes, maybe credentials)".into(),
            &m,
            size,
        ));
    }
    for (dir, what) in CACHES {
        if let Some((size, Some(m))) = caches.get(dir)
            && *size > 0
        {
            out.push(finding(
                "package-cache",
                Severity::Low,
                format!("{what} left in the image ({size} bytes)"),
                m,
                *size,
            ));
        }
    }
    out
}
