//! A real `docker-registry` on 127.0.0.1 and the fixtures of `sigfix.py` pushed to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (by PID) and reaped on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `docker-registry serve CFG` under a small `sh` watchdog that stops it once this test
/// process is gone: the registry is kept in a `static` (shared by the tests), and statics
/// are never dropped.
fn spawn_registry(cfg: &Path, log: std::fs::File) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(
            "docker-registry serve \"$1\" & r=$!; \
             while kill -0 \"$2\" 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.5; done; \
             kill $r 2>/dev/null; wait $r",
        )
        .arg("sh")
        .arg(cfg)
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("sh and docker-registry (apt package docker-registry; scripts/install-deps)")
}

pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    _child: Guard,
}

impl Registry {
    pub fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("store").display()
        );
        let cfg_path = dir.path().join("registry.yml");
        std::fs::write(&cfg_path, cfg).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut child = spawn_registry(&cfg_path, log);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("docker-registry exited early: {st}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            port,
            dir,
            _child: Guard(child),
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// Run sigfix.py against `reg`: keys, CA, log key and every case, pushed. Returns the
/// fixture directory and the case map.
pub fn fixtures(reg: &Registry) -> (PathBuf, serde_json::Value) {
    let out = reg.dir.path().join("fixtures");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sigfix.py");
    let o = Command::new("python3")
        .arg(&script)
        .arg(reg.host())
        .arg(&out)
        .output()
        .expect("python3 with the `cryptography` package (scripts/install-deps)");
    assert!(
        o.status.success(),
        "sigfix.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (out, serde_json::from_slice(&o.stdout).unwrap())
}
