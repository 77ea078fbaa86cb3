//! Host file checks (CIS 1, 3), the audited environment (CIS 4.5) and the `docker exec`
//! history (CIS 5.23, 5.24): `DH1xx`, `DD120`, `CC130`, `CC131`.

use super::Sink;
use crate::finding::{AuditFinding, AuditObject};
use crate::rules::*;
use crate::{AuditOptions, ExecRecord, Snapshot};

/// CIS 4.5: content trust in the audited environment.
pub(crate) fn environment(opts: &AuditOptions, out: &mut Sink) {
    if opts.content_trust.as_deref() != Some("1") {
        out.push(AuditFinding::new(
            &DD120,
            AuditObject::host("environment"),
            "content trust is not enabled: unsigned images are pulled and run",
            vec![match &opts.content_trust {
                Some(v) => format!("DOCKER_CONTENT_TRUST={v:?}"),
                None => "DOCKER_CONTENT_TRUST is not set".to_string(),
            }],
        ));
    }
}

/// CIS 5.23 and 5.24 from the `docker exec` history the monitor stored: one finding per
/// container and item, listing the execs (the first 10, then a count).
pub(crate) fn exec_history(opts: &AuditOptions, out: &mut Sink) {
    let Some(execs) = &opts.execs else {
        for cis in ["5.23", "5.24"] {
            out.skip(
                cis,
                "needs the docker exec history of `moat monitor` (--store)",
            );
        }
        return;
    };
    // `--user root`, `root:GROUP`, `0`, `0:GID`.
    let root = |u: &str| matches!(u.split(':').next(), Some("root" | "0"));
    let privileged = |e: &ExecRecord| e.privileged;
    let as_root = |e: &ExecRecord| root(&e.user);
    type Check<'a> = (&'a AuditRule, &'a dyn Fn(&ExecRecord) -> bool, &'a str);
    let checks: [Check; 2] = [
        (&CC130, &privileged, "--privileged"),
        (&CC131, &as_root, "--user root"),
    ];
    for (rule, hit, what) in checks {
        let mut by: std::collections::BTreeMap<&str, Vec<&ExecRecord>> = Default::default();
        for e in execs.iter().filter(|e| hit(e)) {
            by.entry(e.container.as_str()).or_default().push(e);
        }
        for (id, mut list) in by {
            list.sort_by_key(|e| e.time_ns);
            let mut evidence: Vec<String> = list
                .iter()
                .take(10)
                .map(|e| {
                    format!(
                        "{} docker exec {what}{} {}",
                        moat_store_time(e.time_ns),
                        if e.user.is_empty() {
                            String::new()
                        } else {
                            format!(" (user {})", e.user)
                        },
                        e.command
                    )
                })
                .collect();
            if list.len() > 10 {
                evidence.push(format!("... {} more", list.len() - 10));
            }
            let name = list.iter().map(|e| e.name.as_str()).find(|n| !n.is_empty());
            let object = AuditObject {
                kind: crate::ObjectKind::Container,
                name: name.map(|n| format!("/{}", n.trim_start_matches('/'))),
                id: Some(id.to_string()),
                image: None,
            };
            out.push(AuditFinding::new(
                rule,
                object,
                format!(
                    "docker exec {what} was used {} time(s) on this container",
                    list.len()
                ),
                evidence,
            ));
        }
    }
}

/// RFC 3339 (UTC, seconds) of a unix-nanosecond time.
fn moat_store_time(ns: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ns.div_euclid(1_000_000_000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ns.to_string())
}

fn audit_files(snap: &Snapshot, out: &mut Sink) {
    let Some(rules) = &snap.audit_rules else {
        for t in &snap.audit_targets {
            out.skip(&t.cis, "audit rules not read");
        }
        return;
    };
    for t in &snap.audit_targets {
        if !t.exists {
            out.skip(&t.cis, format!("{} not found", t.path));
            continue;
        }
        let same = |p: &str| t.real.as_deref() == Some(p);
        if rules.watching(&t.path, same).is_some()
            || t.real
                .as_deref()
                .is_some_and(|r| rules.watching(r, |_| false).is_some())
        {
            continue;
        }
        out.push_item(
            AuditFinding::new(
                &DH108,
                AuditObject::host(&t.path),
                format!("no audit rule watches {} (CIS {})", t.path, t.cis),
                vec![format!(
                    "audit rules read from {}: none names {}",
                    rules.source, t.path
                )],
            ),
            &t.cis,
        );
    }
}

pub(crate) fn host_files(snap: &Snapshot, out: &mut Sink) {
    audit_files(snap, out);
    match &snap.data_root {
        Some(d) => match d.mountpoint {
            Some(false) => out.push(AuditFinding::new(
                &DH109,
                AuditObject::host(&d.path),
                format!("{} is not on a partition of its own", d.path),
                vec![d.evidence.clone()],
            )),
            Some(true) => {}
            None => out.skip("1.1.1", "the mount table could not be read"),
        },
        None => out.skip("1.1.1", "the engine did not report its data root"),
    }
    for (cis, file) in [
        ("3.1", "docker.service"),
        ("3.3", "docker.socket"),
        ("3.5", "/etc/docker"),
        ("3.7", "/etc/docker/certs.d/"),
        ("3.19", "/etc/default/docker"),
        ("3.22", "/etc/sysconfig/docker"),
        ("3.23", "containerd.sock"),
    ] {
        let found = snap.docker_files.iter().any(|f| f.cis_owner == cis);
        if !found {
            let what = if file.starts_with('/') || file.ends_with('/') {
                format!("{file} not found")
            } else {
                format!("no {file} found")
            };
            out.skip(cis, what.clone());
            let mode = match cis {
                "3.22" => "3.21".to_string(),
                n => {
                    let (s, i) = n.split_once('.').unwrap_or(("3", "0"));
                    format!("{s}.{}", i.parse::<u32>().unwrap_or(0) + 1)
                }
            };
            out.skip(&mode, what);
        }
    }
    let tls = |flag: &str, key: &str| snap.daemon.setting(&[flag], key).pop().is_some();
    for (flag, key, own, mode) in [
        ("--tlscacert", "tlscacert", "3.9", "3.10"),
        ("--tlscert", "tlscert", "3.11", "3.12"),
        ("--tlskey", "tlskey", "3.13", "3.14"),
    ] {
        if !tls(flag, key) {
            out.skip(own, format!("no {flag} configured"));
            out.skip(mode, format!("no {flag} configured"));
        }
    }
    if snap.daemon_json.is_none() {
        let what = snap
            .daemon
            .config_file
            .clone()
            .unwrap_or_else(|| "daemon.json".into());
        out.skip("3.17", format!("{what} not found"));
        out.skip("3.18", format!("{what} not found"));
    }
    if snap.socket.is_none() {
        out.skip("3.15", "the Docker socket is not on this host");
        out.skip("3.16", "the Docker socket is not on this host");
    }
    if snap.docker_group.is_none() {
        out.skip("1.1.2", "no docker group");
    }

    if let Some(s) = &snap.socket {
        let group_ok = s.gid == 0 || snap.docker_group.as_ref().is_some_and(|g| g.gid == s.gid);
        if s.uid != 0 || !group_ok {
            out.push(AuditFinding::new(
                &DH101,
                AuditObject::host(&s.path),
                format!("socket is owned by {} (want root:docker)", s.owner_str()),
                vec![format!("stat {}: uid={} gid={}", s.path, s.uid, s.gid)],
            ));
        }
        if s.mode & !0o660 & 0o777 != 0 {
            out.push(AuditFinding::new(
                &DH102,
                AuditObject::host(&s.path),
                format!("socket mode is {} (want 660 or stricter)", s.mode_str()),
                vec![format!("stat {}: mode={}", s.path, s.mode_str())],
            ));
        }
    }
    if let Some(f) = &snap.daemon_json {
        if f.uid != 0 || f.gid != 0 {
            out.push(AuditFinding::new(
                &DH103,
                AuditObject::host(&f.path),
                format!("daemon.json is owned by {} (want root:root)", f.owner_str()),
                vec![format!("stat {}: uid={} gid={}", f.path, f.uid, f.gid)],
            ));
        }
        if f.mode & !0o644 & 0o777 != 0 {
            out.push(AuditFinding::new(
                &DH104,
                AuditObject::host(&f.path),
                format!(
                    "daemon.json mode is {} (want 644 or stricter)",
                    f.mode_str()
                ),
                vec![format!("stat {}: mode={}", f.path, f.mode_str())],
            ));
        }
    }
    for f in &snap.docker_files {
        let x = &f.facts;
        if x.uid != 0 || x.gid != 0 {
            out.push_item(
                AuditFinding::new(
                    &DH106,
                    AuditObject::host(&x.path),
                    format!(
                        "owned by {} (want root:root, CIS {})",
                        x.owner_str(),
                        f.cis_owner
                    ),
                    vec![format!("stat {}: uid={} gid={}", x.path, x.uid, x.gid)],
                ),
                &f.cis_owner,
            );
        }
        if x.mode & !f.max_mode & 0o7777 != 0 {
            out.push_item(
                AuditFinding::new(
                    &DH107,
                    AuditObject::host(&x.path),
                    format!(
                        "mode {} (want {:o} or stricter, CIS {})",
                        x.mode_str(),
                        f.max_mode,
                        f.cis_mode
                    ),
                    vec![format!("stat {}: mode={}", x.path, x.mode_str())],
                ),
                &f.cis_mode,
            );
        }
    }
    if let Some(g) = &snap.docker_group
        && !g.members.is_empty()
    {
        out.push(AuditFinding::new(
            &DH105,
            AuditObject::host(format!("group {}", g.name)),
            format!(
                "{} user(s) in group {} control the daemon: {}",
                g.members.len(),
                g.name,
                g.members.join(", ")
            ),
            vec![format!(
                "/etc/group {}:{}: {}",
                g.name,
                g.gid,
                g.members.join(",")
            )],
        ));
    }
}
