//! The host's side: processes in /proc, file ownership and modes, /etc/group.
//! Every path is read under a configurable proc root and filesystem root so that the
//! parsing can be tested on a directory tree.

pub use moat_model::audit::OsPackage;
use serde::{Deserialize, Serialize};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the host's /proc and / are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub proc: PathBuf,
    pub root: PathBuf,
}

impl Default for HostPaths {
    fn default() -> Self {
        HostPaths {
            proc: PathBuf::from("/proc"),
            root: PathBuf::from("/"),
        }
    }
}

impl HostPaths {
    /// An absolute host path under `root`.
    pub fn host(&self, abs: &Path) -> PathBuf {
        match abs.strip_prefix("/") {
            Ok(rel) => self.root.join(rel),
            Err(_) => self.root.join(abs),
        }
    }

    pub fn pid(&self, pid: i64) -> PathBuf {
        self.proc.join(pid.to_string())
    }
}

/// A running process as /proc shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    pub pid: i64,
    /// argv, NUL-split.
    pub args: Vec<String>,
    /// /proc/PID/exe's target.
    pub exe: Option<String>,
}

fn comm(paths: &HostPaths, pid: i64) -> Option<String> {
    fs::read_to_string(paths.pid(pid).join("comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

fn ppid(paths: &HostPaths, pid: i64) -> Option<i64> {
    let stat = fs::read_to_string(paths.pid(pid).join("stat")).ok()?;
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn pids(paths: &HostPaths) -> Vec<i64> {
    let mut out: Vec<i64> = fs::read_dir(&paths.proc)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort_unstable();
    out
}

/// Processes named `name` whose cgroup path contains one of `ids` (container ids):
/// id → pids, sorted.
pub fn processes_in_containers(
    paths: &HostPaths,
    name: &str,
    ids: &[String],
) -> std::collections::BTreeMap<String, Vec<i64>> {
    let mut out: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    if ids.is_empty() {
        return out;
    }
    for pid in processes_named(paths, name) {
        let Ok(cg) = fs::read_to_string(paths.pid(pid).join("cgroup")) else {
            continue;
        };
        if let Some(id) = ids
            .iter()
            .find(|id| !id.is_empty() && cg.contains(id.as_str()))
        {
            out.entry(id.clone()).or_default().push(pid);
        }
    }
    out
}

/// The process's argv and executable.
pub fn process_info(paths: &HostPaths, pid: i64) -> Option<ProcessInfo> {
    let raw = fs::read(paths.pid(pid).join("cmdline")).ok()?;
    let args = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let exe = fs::read_link(paths.pid(pid).join("exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    Some(ProcessInfo { pid, args, exe })
}

/// Processes whose `comm` is `name`, lowest pid first.
pub fn processes_named(paths: &HostPaths, name: &str) -> Vec<i64> {
    pids(paths)
        .into_iter()
        .filter(|p| comm(paths, *p).as_deref() == Some(name))
        .collect()
}

/// The inode of the listening Unix socket bound at `path` (from /proc/net/unix).
fn unix_socket_inode(paths: &HostPaths, path: &Path) -> Option<String> {
    let table = fs::read_to_string(paths.proc.join("net/unix")).ok()?;
    let want = path.to_string_lossy();
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Num RefCount Protocol Flags Type St Inode Path
        (f.len() >= 8 && f[7] == want).then(|| f[6].to_string())
    })
}

fn holds_socket(paths: &HostPaths, pid: i64, inode: &str) -> bool {
    let want = format!("socket:[{inode}]");
    fs::read_dir(paths.pid(pid).join("fd"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| fs::read_link(e.path()).is_ok_and(|t| t.as_os_str() == want.as_str()))
        })
        .unwrap_or(false)
}

/// The inode of a TCP socket listening on `port` (from /proc/net/tcp and tcp6).
fn tcp_listen_inode(paths: &HostPaths, port: u16) -> Option<String> {
    let want = format!("{port:04X}");
    for table in ["net/tcp", "net/tcp6"] {
        let Ok(text) = fs::read_to_string(paths.proc.join(table)) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() >= 10 && f[3] == "0A" && f[1].rsplit(':').next() == Some(want.as_str()) {
                return Some(f[9].to_string());
            }
        }
    }
    None
}

/// Where the audited engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen<'a> {
    Unix(&'a Path),
    Tcp(u16),
    Unknown,
}

/// The dockerd serving the audited address (matched by the listening socket's inode
/// among dockerd's open files), else the only dockerd running.
pub fn find_dockerd(paths: &HostPaths, listen: Listen<'_>) -> Option<ProcessInfo> {
    let candidates = processes_named(paths, "dockerd");
    let inode = match listen {
        Listen::Unix(p) => unix_socket_inode(paths, p),
        Listen::Tcp(port) => tcp_listen_inode(paths, port),
        Listen::Unknown => None,
    };
    if let Some(inode) = inode
        && let Some(pid) = candidates.iter().find(|p| holds_socket(paths, **p, &inode))
    {
        return process_info(paths, *pid);
    }
    match candidates.as_slice() {
        [only] => process_info(paths, *only),
        _ => None,
    }
}

/// A child of `parent` named `name` (dockerd's own containerd), else the only one running.
pub fn find_child_or_only(
    paths: &HostPaths,
    parent: Option<i64>,
    name: &str,
) -> Option<ProcessInfo> {
    let candidates = processes_named(paths, name);
    if let Some(parent) = parent
        && let Some(pid) = candidates.iter().find(|p| ppid(paths, **p) == Some(parent))
    {
        return process_info(paths, *pid);
    }
    match candidates.as_slice() {
        [only] => process_info(paths, *only),
        _ => None,
    }
}

/// Owner, group and permission bits of a host file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Permission bits (`0o660`).
    pub mode: u32,
}

impl FileFacts {
    pub fn mode_str(&self) -> String {
        format!("{:o}", self.mode)
    }

    pub fn owner_str(&self) -> String {
        format!(
            "{}:{}",
            self.owner.clone().unwrap_or_else(|| self.uid.to_string()),
            self.group.clone().unwrap_or_else(|| self.gid.to_string())
        )
    }
}

/// One /etc/group entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    /// Listed members plus users whose primary group this is, sorted.
    pub members: Vec<String>,
}

fn parse_colon_file(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').collect())
        .collect()
}

/// Reads a group (with its primary members from /etc/passwd).
pub fn group(paths: &HostPaths, name: &str) -> Option<Group> {
    let text = fs::read_to_string(paths.host(Path::new("/etc/group"))).ok()?;
    let entry = parse_colon_file(&text)
        .into_iter()
        .find(|f| f.len() >= 3 && f[0] == name)?;
    let gid: u32 = entry[2].parse().ok()?;
    let mut members: Vec<String> = entry
        .get(3)
        .map(|m| {
            m.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if let Ok(passwd) = fs::read_to_string(paths.host(Path::new("/etc/passwd"))) {
        for f in parse_colon_file(&passwd) {
            if f.len() >= 4 && f[3].parse::<u32>().ok() == Some(gid) {
                members.push(f[0].to_string());
            }
        }
    }
    members.sort();
    members.dedup();
    Some(Group {
        name: name.to_string(),
        gid,
        members,
    })
}

fn name_of_id(paths: &HostPaths, file: &str, id: u32) -> Option<String> {
    let text = fs::read_to_string(paths.host(Path::new(file))).ok()?;
    parse_colon_file(&text)
        .into_iter()
        .find(|f| f.len() >= 3 && f[2].parse::<u32>().ok() == Some(id))
        .map(|f| f[0].to_string())
}

/// Ownership and mode of a host file (`abs` is the host's absolute path).
pub fn file_facts(paths: &HostPaths, abs: &Path) -> std::io::Result<FileFacts> {
    let md = fs::metadata(paths.host(abs))?;
    Ok(FileFacts {
        path: abs.to_string_lossy().into_owned(),
        uid: md.uid(),
        gid: md.gid(),
        owner: name_of_id(paths, "/etc/passwd", md.uid()),
        group: name_of_id(paths, "/etc/group", md.gid()),
        mode: md.mode() & 0o7777,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_members_include_primary_users() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\ndocker:x:999:alice,bob\nstaff:x:50:\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\ncarol:x:1002:999::/home/carol:/bin/sh\n",
        )
        .unwrap();
        let paths = HostPaths {
            proc: dir.path().join("proc"),
            root: dir.path().to_path_buf(),
        };
        let g = group(&paths, "docker").unwrap();
        assert_eq!(g.gid, 999);
        assert_eq!(g.members, vec!["alice", "bob", "carol"]);
        assert!(group(&paths, "nope").is_none());
    }

    #[test]
    fn reads_this_process() {
        let paths = HostPaths::default();
        let me = std::process::id() as i64;
        let info = process_info(&paths, me).unwrap();
        assert!(!info.args.is_empty());
        assert!(ppid(&paths, me).is_some());
    }
}

/// `ID` and `VERSION_ID` of the host's os-release.
fn os_release(paths: &HostPaths) -> Option<(String, String)> {
    let text = fs::read_to_string(paths.host(Path::new("/etc/os-release")))
        .or_else(|_| fs::read_to_string(paths.host(Path::new("/usr/lib/os-release"))))
        .ok()?;
    let get = |k: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(k)
                .and_then(|r| r.strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_string())
        })
    };
    Some((get("ID")?, get("VERSION_ID")?))
}

/// The dpkg package owning `abs` (a host path), from /var/lib/dpkg/info/*.list and
/// /var/lib/dpkg/status.
pub fn dpkg_owner(paths: &HostPaths, abs: &Path) -> Option<OsPackage> {
    let info = paths.host(Path::new("/var/lib/dpkg/info"));
    let want = abs.to_string_lossy();
    let mut lists: Vec<PathBuf> = fs::read_dir(&info)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "list"))
        .collect();
    lists.sort();
    let owner = lists.into_iter().find_map(|p| {
        let text = fs::read_to_string(&p).ok()?;
        text.lines().any(|l| l == want).then(|| {
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            // multiarch lists are named `pkg:arch.list`
            Some(stem.split(':').next().unwrap_or(&stem).to_string())
        })?
    })?;
    let status = fs::read_to_string(paths.host(Path::new("/var/lib/dpkg/status"))).ok()?;
    let stanza = status
        .split("\n\n")
        .find(|s| s.lines().any(|l| l == format!("Package: {owner}")))?;
    let field = |k: &str| {
        stanza
            .lines()
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(": ")))
            .map(|v| v.trim().to_string())
    };
    let version = field("Version")?;
    let (source, source_version) = match field("Source") {
        Some(s) => match s.split_once(" (") {
            Some((name, v)) => (name.to_string(), v.trim_end_matches(')').to_string()),
            None => (s, version.clone()),
        },
        None => (owner.clone(), version.clone()),
    };
    let ecosystem = os_release(paths).and_then(|(id, ver)| match id.as_str() {
        "debian" => Some(format!("Debian:{}", ver.split('.').next().unwrap_or(&ver))),
        _ => None,
    });
    Some(OsPackage {
        manager: "dpkg".into(),
        name: owner,
        version,
        source,
        source_version,
        ecosystem,
    })
}

#[cfg(test)]
mod dpkg_tests {
    use super::*;

    #[test]
    fn owner_with_binnmu_source_version() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("var/lib/dpkg/info")).unwrap();
        fs::create_dir_all(r.join("etc")).unwrap();
        fs::write(r.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
        fs::write(
            r.join("var/lib/dpkg/info/docker.io.list"),
            "/.\n/usr\n/usr/sbin\n/usr/sbin/dockerd\n",
        )
        .unwrap();
        fs::write(
            r.join("var/lib/dpkg/status"),
            "Package: runc\nVersion: 1.1.5+ds1-1+deb12u1\n\nPackage: docker.io\nStatus: install ok installed\nSource: docker.io (20.10.24+dfsg1-1+deb12u1)\nVersion: 20.10.24+dfsg1-1+deb12u1+b6\n",
        )
        .unwrap();
        let paths = HostPaths {
            proc: r.join("proc"),
            root: r.to_path_buf(),
        };
        let p = dpkg_owner(&paths, Path::new("/usr/sbin/dockerd")).unwrap();
        assert_eq!(p.name, "docker.io");
        assert_eq!(p.version, "20.10.24+dfsg1-1+deb12u1+b6");
        assert_eq!(p.source, "docker.io");
        assert_eq!(p.source_version, "20.10.24+dfsg1-1+deb12u1");
        assert_eq!(p.ecosystem.as_deref(), Some("Debian:12"));
        assert!(dpkg_owner(&paths, Path::new("/usr/sbin/nothing")).is_none());
    }
}

/// A Docker-related host file with the ownership and mode the benchmark asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerFile {
    pub facts: FileFacts,
    /// Loosest allowed permission bits (`0o644`).
    pub max_mode: u32,
    /// CIS numbers of the ownership and the permission checks (`3.1`, `3.2`).
    pub cis_owner: String,
    pub cis_mode: String,
}

/// The Docker files the benchmark names (CIS 3.1–3.14, 3.19–3.24) that exist on this
/// host, registry certificates under /etc/docker/certs.d included (CIS 3.7, 3.8).
/// `tls` are the daemon's `--tlscacert`, `--tlscert`, `--tlskey` (when set);
/// `containerd_sockets` the candidate containerd sockets.
pub fn docker_files(
    paths: &HostPaths,
    tls: [Option<String>; 3],
    containerd_sockets: &[String],
) -> Vec<DockerFile> {
    let mut wanted: Vec<(String, u32, &str, &str)> = Vec::new();
    for dir in [
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
        "/etc/systemd/system",
    ] {
        wanted.push((format!("{dir}/docker.service"), 0o644, "3.1", "3.2"));
        wanted.push((format!("{dir}/docker.socket"), 0o644, "3.3", "3.4"));
    }
    wanted.push(("/etc/docker".into(), 0o755, "3.5", "3.6"));
    wanted.push(("/etc/default/docker".into(), 0o644, "3.19", "3.20"));
    wanted.push(("/etc/sysconfig/docker".into(), 0o644, "3.22", "3.21"));
    // Registry certificates: /etc/docker/certs.d/<registry>/<file> (CIS 3.7, 3.8).
    let certs_d = paths.host(Path::new("/etc/docker/certs.d"));
    let mut certs: Vec<String> = Vec::new();
    if let Ok(regs) = fs::read_dir(&certs_d) {
        for reg in regs.filter_map(|e| e.ok()) {
            if let Ok(files) = fs::read_dir(reg.path()) {
                for f in files.filter_map(|e| e.ok()) {
                    if f.file_type().is_ok_and(|t| t.is_file()) {
                        certs.push(format!(
                            "/etc/docker/certs.d/{}/{}",
                            reg.file_name().to_string_lossy(),
                            f.file_name().to_string_lossy()
                        ));
                    }
                }
            }
        }
    }
    certs.sort();
    for c in certs {
        wanted.push((c, 0o444, "3.7", "3.8"));
    }
    let [ca, cert, key] = tls;
    if let Some(p) = ca {
        wanted.push((p, 0o444, "3.9", "3.10"));
    }
    if let Some(p) = cert {
        wanted.push((p, 0o444, "3.11", "3.12"));
    }
    if let Some(p) = key {
        wanted.push((p, 0o400, "3.13", "3.14"));
    }
    for s in containerd_sockets {
        wanted.push((s.clone(), 0o660, "3.23", "3.24"));
    }
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (path, max_mode, o, m) in wanted {
        // /lib is often a symlink to /usr/lib: report each real file once.
        let real = fs::canonicalize(paths.host(Path::new(&path))).ok();
        if let Some(r) = &real
            && !seen.insert(r.clone())
        {
            continue;
        }
        if let Ok(facts) = file_facts(paths, Path::new(&path)) {
            out.push(DockerFile {
                facts,
                max_mode,
                cis_owner: o.into(),
                cis_mode: m.into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod docker_files_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn finds_existing_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("usr/lib/systemd/system")).unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        fs::write(r.join("usr/lib/systemd/system/docker.service"), "[Unit]\n").unwrap();
        fs::create_dir_all(r.join("etc/docker")).unwrap();
        fs::set_permissions(r.join("etc/docker"), fs::Permissions::from_mode(0o777)).unwrap();
        let paths = HostPaths {
            proc: r.join("proc"),
            root: r.to_path_buf(),
        };
        let files = docker_files(
            &paths,
            [None, None, None],
            &["/run/containerd/containerd.sock".into()],
        );
        let names: Vec<&str> = files.iter().map(|f| f.facts.path.as_str()).collect();
        assert_eq!(
            names,
            vec!["/lib/systemd/system/docker.service", "/etc/docker"]
        );
        assert_eq!(files[1].facts.mode, 0o777);
        assert_eq!(files[1].max_mode, 0o755);
    }
}

/// Identity of a host file: its real path (symlinks resolved, as the host sees it),
/// device and inode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    /// Host path with symlinks resolved.
    pub real: String,
    pub dev: u64,
    pub ino: u64,
    pub is_dir: bool,
}

/// The identity of a host path (`abs`), if it exists.
pub fn file_id(paths: &HostPaths, abs: &Path) -> Option<FileId> {
    let on_host = paths.host(abs);
    let md = fs::metadata(&on_host).ok()?;
    let canon = fs::canonicalize(&on_host).ok()?;
    let rel = canon.strip_prefix(&paths.root).unwrap_or(&canon);
    let real = Path::new("/").join(rel).to_string_lossy().into_owned();
    Some(FileId {
        real,
        dev: md.dev(),
        ino: md.ino(),
        is_dir: md.is_dir(),
    })
}

/// Undoes mountinfo's octal escapes (`\040` is a space).
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where `abs` stands in the host's mount table (/proc/self/mountinfo under the proc
/// root): a separate partition is a mount at `abs` of another filesystem than the one
/// holding its parent directory. dockerd bind-mounts its data root onto itself, so a
/// mount point alone proves nothing: the device numbers must differ. `None` when the
/// table cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFacts {
    pub separate: bool,
    /// What was seen, for the evidence.
    pub evidence: String,
}

pub fn partition_of(paths: &HostPaths, abs: &Path) -> Option<PartitionFacts> {
    let table = fs::read_to_string(paths.proc.join("self/mountinfo")).ok()?;
    let norm = |p: &str| {
        let p = p.trim_end_matches('/');
        if p.is_empty() {
            "/".to_string()
        } else {
            p.to_string()
        }
    };
    let want = norm(&abs.to_string_lossy());
    // (mount point, device) in table order: a later mount hides an earlier one.
    let mounts: Vec<(String, String)> = table
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            Some((norm(&unescape_mountinfo(f.get(4)?)), f.get(2)?.to_string()))
        })
        .collect();
    let Some((_, dev)) = mounts.iter().rev().find(|(m, _)| *m == want) else {
        return Some(PartitionFacts {
            separate: false,
            evidence: format!("/proc/self/mountinfo has no mount at {want}"),
        });
    };
    let parent = Path::new(&want)
        .parent()
        .map(|p| norm(&p.to_string_lossy()))
        .unwrap_or_else(|| "/".to_string());
    let under = |m: &str| m == "/" || parent == m || parent.starts_with(&format!("{m}/"));
    let holder = mounts
        .iter()
        .filter(|(m, _)| *m != want && under(m))
        .max_by_key(|(m, _)| m.len());
    Some(match holder {
        Some((hm, hdev)) if hdev == dev => PartitionFacts {
            separate: false,
            evidence: format!(
                "{want} is a mount of device {dev}, the same filesystem as {hm} (a bind mount, not a partition)"
            ),
        },
        Some((hm, hdev)) => PartitionFacts {
            separate: true,
            evidence: format!("{want} is device {dev}; {hm} is device {hdev}"),
        },
        None => PartitionFacts {
            separate: true,
            evidence: format!("{want} is device {dev}"),
        },
    })
}

/// The audit rules in force: `auditctl -l` when it runs (the loaded rules), else the
/// rule files (/etc/audit/audit.rules, /etc/audit/rules.d/*.rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRules {
    /// `auditctl -l`, or the files read.
    pub source: String,
    /// Rule lines (comments and blank lines dropped).
    pub rules: Vec<String>,
}

impl AuditRules {
    /// The first rule that watches `path` (`-w PATH`, `-F path=PATH`, `-F dir=PATH`),
    /// where `same` says whether a path a rule names is the file (symlinks resolved).
    pub fn watching(&self, path: &str, same: impl Fn(&str) -> bool) -> Option<&str> {
        self.rules.iter().map(String::as_str).find(|r| {
            let toks: Vec<&str> = r.split_whitespace().collect();
            toks.iter().enumerate().any(|(i, t)| {
                let named = if *t == "-w" {
                    toks.get(i + 1).copied()
                } else {
                    t.strip_prefix("path=").or_else(|| t.strip_prefix("dir="))
                };
                named.is_some_and(|p| {
                    let p = p.trim_end_matches('/');
                    p == path.trim_end_matches('/') || same(p)
                })
            })
        })
    }
}

fn rule_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
}

/// Reads the audit rules (see [`AuditRules`]). `auditctl` is run only when the root
/// is the real `/`; under a test root the files are read.
pub fn audit_rules(paths: &HostPaths) -> AuditRules {
    if paths.root == Path::new("/")
        && let Ok(out) = std::process::Command::new("auditctl").arg("-l").output()
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        return AuditRules {
            source: "auditctl -l".into(),
            rules: rule_lines(&text).filter(|l| l != "No rules").collect(),
        };
    }
    let mut files = vec![paths.host(Path::new("/etc/audit/audit.rules"))];
    if let Ok(rd) = fs::read_dir(paths.host(Path::new("/etc/audit/rules.d"))) {
        let mut more: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rules"))
            .collect();
        more.sort();
        files.extend(more);
    }
    let mut rules = Vec::new();
    let mut read = Vec::new();
    for f in files {
        if let Ok(text) = fs::read_to_string(&f) {
            let rel = f.strip_prefix(&paths.root).unwrap_or(&f);
            read.push(Path::new("/").join(rel).display().to_string());
            rules.extend(rule_lines(&text));
        }
    }
    AuditRules {
        source: if read.is_empty() {
            "no auditctl and no /etc/audit rule files".into()
        } else {
            read.join(", ")
        },
        rules,
    }
}

/// Whether a TCP socket listens on `port` on every interface (0.0.0.0 or ::), from
/// /proc/net/tcp and tcp6; `None` when neither table can be read.
pub fn listens_on_all_interfaces(paths: &HostPaths, port: u16) -> Option<bool> {
    let want = format!("{port:04X}");
    let mut any_table = false;
    for table in ["net/tcp", "net/tcp6"] {
        let Ok(text) = fs::read_to_string(paths.proc.join(table)) else {
            continue;
        };
        any_table = true;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 4
                && f[3] == "0A"
                && let Some((addr, p)) = f[1].rsplit_once(':')
                && p == want
                && addr.chars().all(|c| c == '0')
            {
                return Some(true);
            }
        }
    }
    any_table.then_some(false)
}

#[cfg(test)]
mod host_facts_tests {
    use super::*;

    #[test]
    fn audit_rules_from_files_and_matching() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("etc/audit/rules.d")).unwrap();
        fs::write(
            r.join("etc/audit/rules.d/docker.rules"),
            "# docker\n-w /usr/bin/dockerd -k docker\n-a exit,always -F path=/run/containerd -F perm=war -k docker\n#-w /etc/docker -k docker\n",
        )
        .unwrap();
        fs::write(
            r.join("etc/audit/rules.d/other.conf"),
            "-w /etc/docker -k x\n",
        )
        .unwrap();
        let paths = HostPaths {
            proc: r.join("proc"),
            root: r.to_path_buf(),
        };
        let rules = audit_rules(&paths);
        assert_eq!(rules.rules.len(), 2, "{rules:?}");
        assert!(rules.source.contains("/etc/audit/rules.d/docker.rules"));
        assert!(rules.watching("/usr/bin/dockerd", |_| false).is_some());
        assert!(rules.watching("/run/containerd/", |_| false).is_some());
        assert!(
            rules.watching("/etc/docker", |_| false).is_none(),
            "commented and .conf"
        );
        assert!(
            rules.watching("/usr/bin/docker", |_| false).is_none(),
            "prefix only"
        );
        assert!(
            rules
                .watching("/usr/sbin/dockerd", |p| p == "/usr/bin/dockerd")
                .is_some()
        );
    }

    #[test]
    fn mountpoints_and_wildcard_listeners() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("proc/self")).unwrap();
        fs::create_dir_all(r.join("proc/net")).unwrap();
        fs::write(
            r.join("proc/self/mountinfo"),
            "22 1 8:1 / / rw - ext4 /dev/vda rw\n30 22 8:2 / /var/lib/my\\040docker rw - ext4 /dev/vdb rw\n",
        )
        .unwrap();
        fs::write(
            r.join("proc/net/tcp"),
            "  sl  local_address rem_address   st\n   0: 0100007F:0949 00000000:0000 0A 0 0 0 0 0 1\n",
        )
        .unwrap();
        let paths = HostPaths {
            proc: r.join("proc"),
            root: r.to_path_buf(),
        };
        let sep = |p: &str| partition_of(&paths, Path::new(p)).map(|f| f.separate);
        assert_eq!(sep("/var/lib/my docker"), Some(true));
        assert_eq!(sep("/var/lib/docker"), Some(false));
        // dockerd's bind mount of its data root onto itself is no partition.
        fs::write(
            r.join("proc/self/mountinfo"),
            "22 1 8:1 / / rw - ext4 /dev/vda rw\n45 22 8:1 /srv/docker /srv/docker rw - ext4 /dev/vda rw\n50 22 0:40 / /srv/docker/overlay2/x/merged rw - overlay overlay rw\n",
        )
        .unwrap();
        assert_eq!(sep("/srv/docker"), Some(false));
        assert!(
            partition_of(&paths, Path::new("/srv/docker"))
                .unwrap()
                .evidence
                .contains("bind mount")
        );
        assert_eq!(
            listens_on_all_interfaces(&paths, 2377),
            Some(false),
            "127.0.0.1 only"
        );
        fs::write(
            r.join("proc/net/tcp6"),
            "  sl  local_address rem_address   st\n   0: 00000000000000000000000000000000:0949 00000000000000000000000000000000:0000 0A 0 0 0 0 0 1\n",
        )
        .unwrap();
        assert_eq!(listens_on_all_interfaces(&paths, 2377), Some(true));
    }

    #[test]
    fn file_ids_resolve_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("run")).unwrap();
        fs::write(r.join("run/docker.sock"), "").unwrap();
        std::os::unix::fs::symlink("/run/docker.sock", r.join("other.sock")).ok();
        std::os::unix::fs::symlink("run/docker.sock", r.join("rel.sock")).unwrap();
        let paths = HostPaths {
            proc: r.join("proc"),
            root: r.to_path_buf(),
        };
        let a = file_id(&paths, Path::new("/run/docker.sock")).unwrap();
        let b = file_id(&paths, Path::new("/rel.sock")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.real, "/run/docker.sock");
        assert!(file_id(&paths, Path::new("/nope")).is_none());
    }
}
