//! Shared checks of the yum/dnf rules.
use crate::shell::Script;

fn installs<'s>(
    s: &'s Script,
    mgr: &'s [&'s str],
) -> impl Iterator<Item = (&'s crate::shell::Command, &'s [String])> + 's {
    s.named(mgr)
        .filter_map(|c| super::sub_args(c, "install").map(|a| (c, a)))
}

pub fn missing_yes(s: &Script, mgr: &[&str]) -> bool {
    installs(s, mgr).any(|(c, _)| c.name() != "microdnf" && !c.has_flag(Some('y'), &["assumeyes"]))
}

/// `yum module install x` / `dnf module install x`: the module arguments.
fn module_installs<'s>(
    s: &'s Script,
    mgr: &'s [&'s str],
) -> impl Iterator<Item = &'s [String]> + 's {
    s.named(mgr).filter_map(|c| {
        let a = super::sub_args(c, "module")?;
        let i = a.iter().position(|w| !w.starts_with('-'))?;
        (a[i] == "install").then(|| &a[i + 1..])
    })
}

pub fn missing_clean(s: &Script, mgr: &[&str]) -> bool {
    // Each manager that installs must clean its own cache (`dnf` then `microdnf clean
    // all` leaves dnf's).
    let cleaned = |name: &str| {
        s.named(&[name])
            .any(|c| super::sub_args(c, "clean").is_some_and(|a| a.iter().any(|w| w == "all")))
    };
    installs(s, mgr).any(|(c, _)| !cleaned(c.name()))
        && !s.named(&["rm"]).any(|c| {
            c.args()
                .iter()
                .any(|a| a.starts_with("/var/cache/yum") || a.starts_with("/var/cache/dnf"))
        })
}

pub fn unpinned(s: &Script, mgr: &[&str]) -> bool {
    let module_unpinned = module_installs(s, mgr).any(|a| {
        a.iter()
            .filter(|w| !w.starts_with('-'))
            .any(|m| !(m.contains(':') || m.starts_with('$')))
    });
    module_unpinned
        || installs(s, mgr).any(|(_, a)| {
            super::packages(
                a,
                &[
                    "--setopt",
                    "--enablerepo",
                    "--disablerepo",
                    "--releasever",
                    "--installroot",
                ],
            )
            .iter()
            .any(|p| {
                // name-version: a '-' followed by a digit, or an rpm file / path / glob.
                // A version in a variable (`git-core-${GIT_VER}`) counts.
                let versioned = p.char_indices().any(|(i, ch)| {
                    ch == '-' && p[i + 1..].starts_with(|d: char| d.is_ascii_digit() || d == '$')
                });
                !(versioned
                    || p.ends_with(".rpm")
                    || p.contains('/')
                    || p.starts_with('$')
                    || p.starts_with('@'))
            })
        })
}

fn zypper_installs(s: &Script) -> impl Iterator<Item = (&crate::shell::Command, &[String])> {
    s.named(&["zypper"]).filter_map(|c| {
        super::sub_args(c, "install")
            .or_else(|| super::sub_args(c, "in"))
            .map(|a| (c, a))
    })
}

pub fn zypper_missing_yes(s: &Script, _: &[&str]) -> bool {
    zypper_installs(s).any(|(c, _)| {
        !c.has_flag(Some('n'), &["non-interactive", "no-confirm"]) && !c.has_flag(Some('y'), &[])
    })
}

pub fn zypper_missing_clean(s: &Script, _: &[&str]) -> bool {
    zypper_installs(s).next().is_some()
        && !s
            .named(&["zypper"])
            .any(|c| super::sub_args(c, "clean").is_some() || super::sub_args(c, "cc").is_some())
}

pub fn zypper_unpinned(s: &Script, _: &[&str]) -> bool {
    zypper_installs(s).any(|(_, a)| {
        super::packages(a, &["--from", "-r", "--repo", "-t", "--type"])
            .iter()
            .any(|p| {
                !(p.contains('=')
                    || p.contains('<')
                    || p.contains('>')
                    || p.ends_with(".rpm")
                    || p.starts_with('$'))
            })
    })
}

pub fn zypper_dist_upgrade(s: &Script, _: &[&str]) -> bool {
    s.named(&["zypper"]).any(|c| {
        super::sub_args(c, "dist-upgrade").is_some() || super::sub_args(c, "dup").is_some()
    })
}
