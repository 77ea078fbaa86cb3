//! dockerd, containerd and runc: their versions from the API and their binaries.

use crate::sys::HostPaths;
use crate::{Component, buildinfo, upstream_version};
use moat_engine::models::{SystemInfo, SystemVersion};
use std::path::Path;

fn api_component(version: &SystemVersion, name: &str) -> Option<String> {
    version
        .components
        .as_ref()?
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.version.clone())
}

fn which(paths: &HostPaths, prog: &str) -> Option<String> {
    if prog.starts_with('/') {
        return Some(prog.to_string());
    }
    [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ]
    .iter()
    .map(|d| format!("{d}/{prog}"))
    .find(|p| paths.host(Path::new(p)).is_file())
}

/// dockerd, containerd and runc versions, from `/version` and from the binaries.
pub(crate) fn components(
    paths: &HostPaths,
    info: &SystemInfo,
    version: &SystemVersion,
    daemon: &crate::daemon::DaemonConfig,
    notes: &mut Vec<String>,
) -> Vec<Component> {
    let dockerd_pid = daemon.process.as_ref().map(|p| p.pid);
    // (shown path, path to read): a running binary is read through /proc/PID/exe, which
    // works even when the file was replaced on disk since the process started.
    let via_proc = |p: &crate::sys::ProcessInfo| {
        let read = paths.pid(p.pid).join("exe").to_string_lossy().into_owned();
        (p.exe.clone().unwrap_or_else(|| read.clone()), read)
    };
    let dockerd_bin = daemon.process.as_ref().map(via_proc);
    let containerd_bin =
        crate::sys::find_child_or_only(paths, dockerd_pid, "containerd").map(|p| via_proc(&p));
    let runc_prog = info
        .runtimes
        .as_ref()
        .and_then(|r| r.get("runc"))
        .and_then(|r| r.path.clone())
        .unwrap_or_else(|| "runc".into());
    let runc_bin = which(paths, &runc_prog).map(|p| {
        (
            p.clone(),
            paths.host(Path::new(&p)).to_string_lossy().into_owned(),
        )
    });

    let specs = [
        (
            "dockerd",
            "github.com/docker/docker",
            api_component(version, "Engine").or_else(|| version.version.clone()),
            dockerd_bin,
            "github.com/docker/docker/dockerversion.Version",
        ),
        (
            "containerd",
            "github.com/containerd/containerd",
            api_component(version, "containerd"),
            containerd_bin,
            "github.com/containerd/containerd/version.Version",
        ),
        (
            "runc",
            "github.com/opencontainers/runc",
            api_component(version, "runc"),
            runc_bin,
            "main.version",
        ),
    ];
    let mut out = Vec::new();
    for (name, module, api_version, binary, ldvar) in specs {
        let mut comp = Component {
            name: name.into(),
            module: module.into(),
            api_version,
            binary: binary.as_ref().map(|(shown, _)| shown.clone()),
            binary_version: None,
            go_version: None,
            version: None,
            package: binary
                .as_ref()
                .and_then(|(shown, _)| crate::sys::dpkg_owner(paths, Path::new(shown))),
        };
        if let Some((_, bin)) = &binary {
            match buildinfo::read_file(Path::new(bin)) {
                Ok(bi) => {
                    comp.go_version = Some(bi.go_version.clone());
                    comp.binary_version = bi
                        .main_module
                        .as_ref()
                        .filter(|(p, v)| p == module && v != "(devel)")
                        .map(|(_, v)| v.clone())
                        .or_else(|| bi.ldflag_var(ldvar));
                }
                Err(e) => notes.push(format!("{name}: Go build info not read: {e}")),
            }
        }
        comp.version = comp
            .binary_version
            .as_deref()
            .or(comp.api_version.as_deref())
            .map(upstream_version);
        out.push(comp);
    }
    out
}
