//! Host file checks (CIS 1, 3): `DH1xx`.

use crate::Snapshot;
use crate::finding::{AuditFinding, AuditObject};
use crate::rules::*;

pub(crate) fn host_files(snap: &Snapshot, out: &mut Vec<AuditFinding>) {
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
            out.push(AuditFinding::new(
                &DH106,
                AuditObject::host(&x.path),
                format!(
                    "owned by {} (want root:root, CIS {})",
                    x.owner_str(),
                    f.cis_owner
                ),
                vec![format!("stat {}: uid={} gid={}", x.path, x.uid, x.gid)],
            ));
        }
        if x.mode & !f.max_mode & 0o7777 != 0 {
            out.push(AuditFinding::new(
                &DH107,
                AuditObject::host(&x.path),
                format!(
                    "mode {} (want {:o} or stricter, CIS {})",
                    x.mode_str(),
                    f.max_mode,
                    f.cis_mode
                ),
                vec![format!("stat {}: mode={}", x.path, x.mode_str())],
            ));
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
