//! `moat lint` for a team switching from hadolint: `.hadolint.yaml` (found as hadolint
//! finds it, or `--hadolint-config`), its keys, the checkstyle / gitlab / github
//! formats, ONBUILD, and ShellCheck when a `shellcheck` binary is on PATH.

#![allow(clippy::unwrap_used)] // tests

use std::path::Path;
use std::process::{Command, Output};

/// Run moat in `cwd` with HOME and XDG_CONFIG_HOME inside the test's directory (so the
/// machine's own hadolint configuration is never read) and PATH = `path`.
fn moat(args: &[&str], cwd: &Path, path: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd.join("home"))
        .env("XDG_CONFIG_HOME", cwd.join("xdg"))
        .env("PATH", path)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn rules(doc: &serde_json::Value) -> Vec<(String, u64, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const DOCKERFILE: &str = "FROM random.example.com/debian:12\nLABEL maintainer=\"nobody\"\nRUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\nRUN cd /srv\nUSER 1000\nHEALTHCHECK CMD true\n";

#[test]
fn hadolint_yaml_in_the_working_directory_is_read_with_its_keys() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("Dockerfile"), DOCKERFILE).unwrap();
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let path = empty.to_str().unwrap();

    // Without a configuration: no registry or label rule, DF029 (DL3003) reported.
    let base = rules(&json(&moat(
        &["lint", "--format", "json", "Dockerfile"],
        d.path(),
        path,
    )));
    assert!(
        base.iter().any(|(r, l, _)| r == "DF029" && *l == 4),
        "{base:?}"
    );
    assert!(
        !base.iter().any(|(r, _, _)| r == "DF070" || r == "DF082"),
        "{base:?}"
    );

    std::fs::write(
        d.path().join(".hadolint.yaml"),
        "ignored: [DL3003]\noverride:\n  error: [DL3026]\ntrustedRegistries: [docker.io]\nlabel-schema:\n  maintainer: email\nfailure-threshold: error\n",
    )
    .unwrap();
    let out = moat(&["lint", "--format", "json", "Dockerfile"], d.path(), path);
    let got = rules(&json(&out));
    assert!(
        !got.iter().any(|(r, _, _)| r == "DF029"),
        "ignored: {got:?}"
    );
    assert!(got.contains(&("DF070".into(), 1, "HIGH".into())), "{got:?}");
    assert!(
        got.iter().any(|(r, l, _)| r == "DF082" && *l == 2),
        "{got:?}"
    );
    // failure-threshold: error = high: the overridden DL3026 fails the run.
    assert_eq!(out.status.code(), Some(1));
    // --fail-on wins over the file's threshold.
    let out = moat(
        &["lint", "--fail-on", "critical", "Dockerfile"],
        d.path(),
        path,
    );
    assert_eq!(out.status.code(), Some(0));

    // An explicit file wins over discovery; a bad one is an error naming it and the key.
    std::fs::write(
        d.path().join("other.yaml"),
        "label-schema:\n  maintainer: colour\n",
    )
    .unwrap();
    let out = moat(
        &["lint", "--hadolint-config", "other.yaml", "Dockerfile"],
        d.path(),
        path,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other.yaml") && err.contains("label-schema"),
        "{err}"
    );
}

#[test]
fn hadolint_yaml_in_the_home_directory_and_disable_ignore_pragma() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("Dockerfile"),
        "FROM debian:12\n# hadolint ignore=DL3003\nRUN cd /srv\n",
    )
    .unwrap();
    let path = d.path().to_str().unwrap();
    let f = rules(&json(&moat(
        &["lint", "--format", "json", "Dockerfile"],
        d.path(),
        path,
    )));
    assert!(!f.iter().any(|(r, _, _)| r == "DF029"), "{f:?}");
    std::fs::create_dir_all(d.path().join("home/.config")).unwrap();
    std::fs::write(
        d.path().join("home/.config/hadolint.yaml"),
        "disable-ignore-pragma: true\n",
    )
    .unwrap();
    let f = rules(&json(&moat(
        &["lint", "--format", "json", "Dockerfile"],
        d.path(),
        path,
    )));
    assert!(f.iter().any(|(r, l, _)| r == "DF029" && *l == 3), "{f:?}");
}

#[test]
fn onbuild_instructions_are_linted() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("Dockerfile"),
        "FROM debian:12\nONBUILD RUN apt-get install curl\nUSER 1000\n",
    )
    .unwrap();
    let f = rules(&json(&moat(
        &["lint", "--format", "json", "Dockerfile"],
        d.path(),
        "",
    )));
    for r in ["DF011", "DF013", "DF014"] {
        assert!(f.iter().any(|(x, l, _)| x == r && *l == 2), "{r}: {f:?}");
    }
}

#[test]
fn checkstyle_gitlab_and_github_formats() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("Dockerfile"), "FROM debian:12\nRUN cd /srv\n").unwrap();
    let run = |f: &str| {
        let o = moat(&["lint", "--format", f, "Dockerfile"], d.path(), "");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    let x = run("checkstyle");
    assert!(
        x.starts_with("<?xml") && x.contains("<file name=\"Dockerfile\">"),
        "{x}"
    );
    assert!(
        x.contains("<error line=\"2\" column=\"1\" severity=\"info\""),
        "{x}"
    );
    assert!(x.contains("source=\"DF029\""), "{x}");
    let g: serde_json::Value = serde_json::from_str(&run("gitlab")).unwrap();
    let issue = g
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_name"] == "DF029")
        .unwrap();
    assert_eq!(issue["location"]["path"], "Dockerfile");
    assert_eq!(issue["location"]["lines"]["begin"], 2);
    let gh = run("github");
    assert!(gh.lines().any(|l| l == "::notice file=Dockerfile,line=2,col=1,title=DF029::use WORKDIR to switch to a directory"
        || l.starts_with("::notice file=Dockerfile,line=2,col=1,title=DF029::")), "{gh}");
}

#[cfg(unix)]
#[test]
fn shellcheck_runs_when_on_path_and_honours_pragmas() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    // A stand-in shellcheck: one SC2086 on each script it is given.
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sc = bin.join("shellcheck");
    std::fs::write(
        &sc,
        "#!/bin/sh\nout=''\nfor f; do case \"$f\" in -*) ;; *) out=\"$out${out:+,}{\\\"file\\\":\\\"$f\\\",\\\"line\\\":1,\\\"column\\\":1,\\\"code\\\":2086,\\\"level\\\":\\\"info\\\",\\\"message\\\":\\\"Double quote\\\"}\";; esac; done\nprintf '{\"comments\":[%s]}' \"$out\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&sc, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        d.path().join("Dockerfile"),
        "FROM debian:12\nRUN echo $HOME\n# hadolint ignore=SC2086\nRUN echo $PWD\nRUN [\"echo\", \"exec form\"]\n",
    )
    .unwrap();
    let path = format!("{}:/bin:/usr/bin", bin.display());
    let out = moat(&["lint", "--format", "json", "Dockerfile"], d.path(), &path);
    let f = rules(&json(&out));
    let sc: Vec<_> = f.iter().filter(|(r, _, _)| r.starts_with("SC")).collect();
    assert_eq!(sc, [&("SC2086".to_string(), 2, "LOW".to_string())], "{f:?}");
    let out = moat(
        &[
            "lint",
            "--shellcheck",
            "never",
            "--format",
            "json",
            "Dockerfile",
        ],
        d.path(),
        &path,
    );
    assert!(
        !rules(&json(&out))
            .iter()
            .any(|(r, _, _)| r.starts_with("SC"))
    );

    // Without the binary: a note, the same other findings, exit 0; `always` is an error.
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = moat(&["lint", "Dockerfile"], d.path(), empty.to_str().unwrap());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no shellcheck binary on PATH"));
    let out = moat(
        &["lint", "--shellcheck", "always", "Dockerfile"],
        d.path(),
        empty.to_str().unwrap(),
    );
    assert_eq!(out.status.code(), Some(2));
}
