//! A real `docker-registry` (Debian's package) on 127.0.0.1, for tests that push and
//! pull: started on a free port with its own storage, stopped when the test process ends.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
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

/// A running registry; `dir` holds its storage and configuration.
pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    _child: Guard,
}

impl Registry {
    /// Starts one (storage deletes enabled) and waits until it accepts connections.
    pub fn start() -> Registry {
        let dir = tempfile::tempdir().expect("registry setup");
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("registry setup")
            .local_addr()
            .expect("registry setup")
            .port();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("store").display()
        );
        let cfg_path = dir.path().join("registry.yml");
        std::fs::write(&cfg_path, cfg).expect("registry setup");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry setup");
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

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}
