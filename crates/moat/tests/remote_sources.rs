//! `moat inspect registry:REF` / `docker:REF` end to end: a real `docker-registry` on
//! 127.0.0.1 (credentials from `$DOCKER_CONFIG`), and the error cases — exit status 2
//! and one line naming the input — for an unreachable registry, a corrupted blob and
//! a dead Docker socket (`$DOCKER_HOST`).
#![allow(clippy::unwrap_used)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `docker-registry serve` on 127.0.0.1, killed by PID on drop.
struct Registry {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start(auth_yaml: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = dir.path().join("registry.yml");
        std::fs::write(
            &cfg,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{auth_yaml}",
                dir.path().join("store").display()
            ),
        )
        .unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (apt package docker-registry)");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(child.try_wait().unwrap().is_none(), "registry exited");
            assert!(start.elapsed() < Duration::from_secs(20), "registry not up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry { port, dir, child }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The largest blob the registry stores (the layer of a one-layer image).
    fn largest_blob(&self) -> PathBuf {
        let mut best: Option<(u64, PathBuf)> = None;
        let mut stack = vec![self.dir.path().join("store/docker/registry/v2/blobs")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().is_some_and(|n| n == "data") {
                    let len = p.metadata().unwrap().len();
                    if best.as_ref().is_none_or(|(l, _)| len > *l) {
                        best = Some((len, p));
                    }
                }
            }
        }
        best.unwrap().1
    }
}

/// A one-layer OCI layout (tag `base`) for linux/amd64, pushed to `reg` as `dest`.
fn push_small_image(reg: &Registry, work: &Path, dest: &str, creds: Option<&str>) {
    let root = work.join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=moattest\n").unwrap();
    let tar = work.join("layer.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    let layout = work.join("oci");
    let img = format!("{}:base", layout.display());
    run(Command::new("umoci")
        .args(["init", "--layout"])
        .arg(&layout));
    run(Command::new("umoci").args(["new", "--image", &img]));
    run(Command::new("umoci")
        .args(["raw", "add-layer", "--image", &img])
        .arg(&tar));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &img,
        "--os",
        "linux",
        "--architecture",
        "amd64",
    ]));
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    run(cmd
        .arg(format!("oci:{img}"))
        .arg(format!("docker://{}/{dest}", reg.host())));
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn moat(cache: &Path, envs: &[(&str, &Path)], args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat"));
    cmd.arg("inspect")
        .args(args)
        .env("MOAT_CACHE_DIR", cache)
        .env_remove("MOAT_DB")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONFIG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn assert_fails(r: &Out, input: &str, problem: &str) {
    assert_eq!(r.code, 2, "stdout: {} stderr: {}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {:?}", r.stderr);
    assert!(lines[0].starts_with("moat: error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(input),
        "{:?} does not name {input}",
        lines[0]
    );
    assert!(
        lines[0].contains(problem),
        "{:?} lacks {problem:?}",
        lines[0]
    );
}

#[test]
fn inspect_pulls_with_credentials_from_docker_config_env() {
    let work = tempfile::tempdir().unwrap();
    let htpasswd = work.path().join("htpasswd");
    let line = run(Command::new("htpasswd").args(["-Bbn", "user", "pw"]));
    std::fs::write(&htpasswd, line).unwrap();
    let reg = Registry::start(&format!(
        "auth:\n  htpasswd:\n    realm: moat\n    path: {}\n",
        htpasswd.display()
    ));
    push_small_image(&reg, work.path(), "test/base:1", Some("user:pw"));
    let source = format!("registry:{}/test/base:1", reg.host());
    let cache = tempfile::tempdir().unwrap();
    let insecure = format!("--insecure-registry={}", reg.host());

    // No credentials: exit 2, one line.
    let empty = tempfile::tempdir().unwrap();
    let r = moat(
        cache.path(),
        &[("DOCKER_CONFIG", empty.path())],
        &[&source, &insecure],
    );
    assert_fails(&r, &source, "requires authentication");

    // Credentials in $DOCKER_CONFIG/config.json.
    let cfg = tempfile::tempdir().unwrap();
    let auth = run(Command::new("sh").args(["-c", "printf user:pw | base64"]));
    std::fs::write(
        cfg.path().join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            reg.host(),
            auth.trim()
        ),
    )
    .unwrap();
    let r = moat(
        cache.path(),
        &[("DOCKER_CONFIG", cfg.path())],
        &[&source, &insecure, "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(m["architecture"], "amd64");

    // Without $DOCKER_CONFIG, ~/.docker/config.json ($HOME) is read.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".docker")).unwrap();
    std::fs::copy(
        cfg.path().join("config.json"),
        home.path().join(".docker/config.json"),
    )
    .unwrap();
    let cache2 = tempfile::tempdir().unwrap();
    let r = moat(
        cache2.path(),
        &[("HOME", home.path())],
        &[&source, &insecure],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Everything moat wrote is in its cache directory.
    assert!(cache.path().join("registry").is_dir());
}

#[test]
fn remote_sources_fail_with_exit_2_and_one_line() {
    let cache = tempfile::tempdir().unwrap();

    // An unreachable registry.
    let port = free_port();
    let source = format!("registry:127.0.0.1:{port}/test/none:1");
    let r = moat(
        cache.path(),
        &[],
        &[&source, &format!("--insecure-registry=127.0.0.1:{port}")],
    );
    assert_fails(&r, &source, "cannot reach");

    // A layer whose bytes no longer match its digest.
    let work = tempfile::tempdir().unwrap();
    let reg = Registry::start("");
    push_small_image(&reg, work.path(), "test/bad:1", None);
    let blob = reg.largest_blob();
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&blob, bytes).unwrap();
    let source = format!("registry:{}/test/bad:1", reg.host());
    let r = moat(
        cache.path(),
        &[],
        &[&source, &format!("--insecure-registry={}", reg.host())],
    );
    assert_fails(&r, &source, "digest mismatch");

    // A Docker socket nobody serves, named through $DOCKER_HOST.
    let sock = work.path().join("dead.sock");
    let host = PathBuf::from(format!("unix://{}", sock.display()));
    let r = moat(
        cache.path(),
        &[("DOCKER_HOST", host.as_path())],
        &["docker:local/test:1"],
    );
    assert_fails(&r, "docker:local/test:1", &sock.display().to_string());
}
