//! Test support for moat's integration tests (a dev-dependency only, never linked into
//! the product): a private, real `dockerd` (Debian's docker.io) per test with its own
//! data root, exec root, pid file and socket; with iptables on, its own bridge and
//! address pool, and a machine-wide lock so that only one such daemon runs at a time
//! (a dockerd with iptables on flushes the DOCKER chains of any other one when it starts);
//! a busybox image made with `docker import` of a busybox-static rootfs; a private
//! PostgreSQL cluster ([`postgres::Postgres`]).
//!
//! Tests that need root or docker.io call [`skip_unless`] first and return early (with a
//! line on stderr saying why) when the machine lacks them; CI installs both.

#![allow(clippy::unwrap_used)] // test support: a failure here is a failed test

pub mod postgres;
pub mod registry;
pub mod tls;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether `prog` is on PATH.
pub fn have(prog: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {prog}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether this process runs as root (uid 0).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
}

/// True when the test can run: root and every program in `progs` present. Otherwise
/// prints why on stderr and returns false (the caller returns early).
pub fn skip_unless(test: &str, progs: &[&str]) -> bool {
    if !is_root() {
        eprintln!("{test}: skipped, needs root");
        return false;
    }
    if let Some(p) = progs.iter().find(|p| !have(p)) {
        eprintln!("{test}: skipped, {p} is not installed");
        return false;
    }
    true
}

/// Runs a command, panicking with its output when it fails; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How to start a private daemon.
#[derive(Debug, Clone, Default)]
pub struct DockerdOptions {
    /// Keep iptables on: gives the daemon its own bridge and address pool (see
    /// [`Network`]) and takes the machine-wide iptables lock for the daemon's lifetime.
    pub network: Option<Network>,
    /// `--userns-remap=default`.
    pub userns_remap: bool,
    /// The daemon.json content (`{}` when empty).
    pub config_json: String,
    /// More dockerd arguments.
    pub extra_args: Vec<String>,
    /// Also listen on a loopback TCP port.
    pub tcp: bool,
}

/// The networking of an iptables-on daemon: a bridge made for it and a default address
/// pool for user networks. Pick ranges no other test uses.
#[derive(Debug, Clone)]
pub struct Network {
    /// Bridge interface name (at most 15 bytes), created by the test and removed on drop.
    pub bridge: String,
    /// The bridge's address with prefix, e.g. `10.201.0.1/24`.
    pub bridge_cidr: String,
    /// `--default-address-pool` value, e.g. `base=10.202.0.0/16,size=24`.
    pub pool: String,
    /// `--iptables` (true normally; false to test a daemon that lost isolation).
    pub iptables: bool,
}

impl Network {
    /// A network block for tests: bridge `mt-NAME`, bridge `10.N.0.1/24`, pool
    /// `10.(N+1).0.0/16` split in /24s, iptables on.
    pub fn block(name: &str, n: u8) -> Network {
        Network {
            bridge: format!("mt-{name}"),
            bridge_cidr: format!("10.{n}.0.1/24"),
            pool: format!("base=10.{}.0.0/16,size=24", n.saturating_add(1)),
            iptables: true,
        }
    }
}

/// The machine-wide lock that serialises iptables-on daemons (and anything else that
/// must not run beside one), across test binaries and processes.
pub const IPTABLES_LOCK: &str = "/tmp/moat-testkit-iptables.lock";

/// A private dockerd, stopped (containers removed, mounts released, bridge deleted) on
/// drop.
pub struct Dockerd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    opts: DockerdOptions,
    tcp_port: Option<u16>,
    _lock: Option<File>,
}

impl Dockerd {
    /// Starts a daemon and waits until it answers (20 s at most).
    pub fn start(opts: DockerdOptions) -> Dockerd {
        let lock = opts.network.as_ref().map(|_| {
            let f = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(IPTABLES_LOCK)
                .unwrap();
            f.lock().unwrap();
            f
        });
        // Short path: the containerd socket under exec-root must fit in sun_path.
        let dir = tempfile::Builder::new()
            .prefix("moat-tk-")
            .tempdir_in("/tmp")
            .unwrap();
        if opts.userns_remap {
            // The remapped root must traverse the directory.
            let _ = Command::new("chmod").arg("o+x").arg(dir.path()).status();
        }
        let mut me = Dockerd {
            dir,
            child: None,
            tcp_port: None,
            opts,
            _lock: lock,
        };
        if let Some(net) = &me.opts.network {
            let _ = Command::new("ip")
                .args(["link", "del", &net.bridge])
                .stderr(Stdio::null())
                .status();
            run(Command::new("ip").args(["link", "add", &net.bridge, "type", "bridge"]));
            run(Command::new("ip").args(["addr", "add", &net.bridge_cidr, "dev", &net.bridge]));
            run(Command::new("ip").args(["link", "set", &net.bridge, "up"]));
        }
        me.spawn();
        me
    }

    fn spawn(&mut self) {
        let d = self.dir.path().to_path_buf();
        let config = if self.opts.config_json.is_empty() {
            "{}"
        } else {
            &self.opts.config_json
        };
        std::fs::write(d.join("daemon.json"), config).unwrap();
        let log = File::options()
            .create(true)
            .append(true)
            .open(d.join("log"))
            .unwrap();
        let mut cmd = Command::new("dockerd");
        cmd.arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("pid"))
            .arg("--config-file")
            .arg(d.join("daemon.json"))
            .arg("-H")
            .arg(format!("unix://{}", d.join("sock").display()));
        if self.opts.tcp {
            let port = *self.tcp_port.get_or_insert_with(|| {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port()
            });
            cmd.arg("-H").arg(format!("tcp://127.0.0.1:{port}"));
        }
        match &self.opts.network {
            Some(net) => {
                cmd.arg("--bridge")
                    .arg(&net.bridge)
                    .arg("--default-address-pool")
                    .arg(&net.pool)
                    .arg(format!("--iptables={}", net.iptables));
            }
            None => {
                cmd.args(["--bridge=none", "--iptables=false"]);
            }
        }
        if self.opts.userns_remap {
            cmd.arg("--userns-remap=default");
        }
        cmd.args(&self.opts.extra_args);
        let child = cmd
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_up();
    }

    fn wait_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = self.sock().exists()
                && Command::new("docker")
                    .env("DOCKER_HOST", self.host())
                    .arg("version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not come up: {}",
                std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The daemon's directory (data/, exec/, pid, sock, log, daemon.json).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The Unix socket.
    pub fn sock(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// `unix://…` for `--host` / `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    /// The loopback TCP port, when started with `tcp`.
    pub fn tcp_port(&self) -> Option<u16> {
        self.tcp_port
    }

    /// The daemon's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Runs `docker ARGS` against this daemon; panics on failure; returns stdout.
    pub fn docker(&self, args: &[&str]) -> String {
        run(Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .args(args))
    }

    /// Runs `docker ARGS` against this daemon and returns its output, whatever the status.
    pub fn docker_output(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .args(args)
            .output()
            .unwrap()
    }

    /// Imports a busybox-static root filesystem as image `name` (with `changes` such as
    /// `USER 1000` or `EXPOSE 80`, each passed as `-c`). The rootfs has /bin/busybox and
    /// links for sh, nc, wget, sleep, cat, id, ls, echo, true, ps, top, kill; /etc/passwd
    /// with root and app (1000); /tmp.
    pub fn import_busybox(&self, name: &str, changes: &[&str]) {
        let tar = self.dir.path().join("busybox-rootfs.tar");
        if !tar.exists() {
            busybox_rootfs_tar(&tar);
        }
        let mut args: Vec<String> = vec!["import".into()];
        for c in changes {
            args.push("-c".into());
            args.push((*c).into());
        }
        args.push(tar.display().to_string());
        args.push(name.into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.docker(&refs);
    }

    /// Stops the daemon (SIGTERM, then SIGKILL after 15 s) and starts it again on the
    /// same directories, e.g. to test that a client survives a daemon restart.
    pub fn restart(&mut self) {
        self.stop_daemon();
        self.spawn();
    }

    fn stop_daemon(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if self.child.is_some() {
            // Remove containers first so their mounts go away with the daemon's cleanup.
            let ids = Command::new("docker")
                .env("DOCKER_HOST", self.host())
                .args(["ps", "-aq"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            if !ids.trim().is_empty() {
                let _ = Command::new("docker")
                    .env("DOCKER_HOST", self.host())
                    .args(["rm", "-f"])
                    .args(ids.split_whitespace())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            // User networks' bridges outlive a daemon that is stopped with them: a
            // later test's network on the same subnet would then collide.
            let _ = Command::new("docker")
                .env("DOCKER_HOST", self.host())
                .args(["network", "prune", "-f"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        self.stop_daemon();
        // Layers and netns of containers may stay mounted if the daemon was killed.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l",
                self.dir.path().display()
            ))
            .status();
        if let Some(net) = &self.opts.network {
            let _ = Command::new("ip")
                .args(["link", "del", &net.bridge])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Writes a busybox-static root filesystem as a tar at `out`.
pub fn busybox_rootfs_tar(out: &Path) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed");
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    for d in ["bin", "etc", "tmp", "root", "usr/bin", "var/run"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    std::fs::copy(busybox, r.join("bin/busybox")).unwrap();
    for l in [
        "sh", "nc", "wget", "sleep", "cat", "id", "ls", "echo", "true", "ps", "top", "kill",
        "touch", "mkdir", "rm", "head", "dd", "env", "hostname", "ip", "netstat",
    ] {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(l)).unwrap();
    }
    std::fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/tmp:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    run(Command::new("tar")
        .arg("-C")
        .arg(r)
        .arg("-cf")
        .arg(out)
        .arg("."));
}

/// Runs headless Chromium (Debian's `chromium`) with a throw-away profile in `profile`,
/// bounded to 120 s: `args` are the action (`--dump-dom`, `--screenshot=F`…) and the URL.
pub fn chromium(args: &[&str], profile: &Path) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("timeout and chromium run")
}
