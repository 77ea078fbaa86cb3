//! Issue 11's validated plan: a scan is checked whole before any source is opened, and
//! `--offline` refuses every source that needs the network, whatever its spelling.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn moat(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat"));
    cmd.args(args)
        .env("MOAT_CACHE_DIR", dir.path().join("cache"))
        .env("MOAT_DB", dir.path().join("none.db"))
        .env_remove("DOCKER_HOST")
        .current_dir(dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // Nothing may have been fetched or cached: the plan failed before any I/O.
    assert!(
        !dir.path().join("cache").exists(),
        "the cache was written although the plan failed: {err}"
    );
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn offline_refuses_every_network_source() {
    for (src, env) in [
        ("alpine:3.19", vec![]),
        ("registry:alpine:3.19", vec![]),
        (
            "127.0.0.1:5000/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            vec![],
        ),
        ("docker:app:1", vec![("DOCKER_HOST", "tcp://127.0.0.1:9")]),
    ] {
        for cmd in ["scan", "sbom"] {
            let (code, err) = moat(&[cmd, "--offline", src], &env);
            assert_eq!(code, 2, "{cmd} {src}: {err}");
            assert!(
                err.contains("--offline") && err.contains(src),
                "{cmd} {src}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}

#[test]
fn a_bad_ignore_file_or_vex_fails_before_the_source_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(&ignore, "ignore:\n  - id: [unclosed\n").unwrap();
    let vex = dir.path().join("bad.openvex.json");
    std::fs::write(&vex, "{not json").unwrap();
    // The source is a registry that does not exist: opening it would take a network
    // round trip and fail differently. The plan must fail on the file first.
    let src = "registry:127.0.0.1:9/none:1";
    let (code, err) = moat(
        &["scan", src, "--ignore-file", ignore.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("ignore.yaml"), "{err}");
    let (code, err) = moat(&["scan", src, "--vex", vex.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.openvex.json"), "{err}");
    // No database: named before the source is opened too.
    let (code, err) = moat(&["scan", src], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("none.db"), "{err}");
}

#[test]
fn a_local_source_is_not_refused_offline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(
        dir.path().join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    let src = format!("rootfs:{}", dir.path().display());
    let (code, err) = moat(&["sbom", "--offline", &src, "--format", "json"], &[]);
    assert_eq!(code, 0, "{err}");
}
