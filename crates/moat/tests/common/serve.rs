//! `moat serve`/`worker` children and HTTP calls for the service tests (serve_cli,
//! agent_cli, scan_server_cli).

use serde_json::Value;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MOAT: &str = env!("CARGO_BIN_EXE_moat");

/// Polls `f` every 200 ms until it gives a value; fails after `secs` naming `what`.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A `moat` child whose stderr lines are collected; killed (SIGKILL) on drop.
pub struct MoatProc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl MoatProc {
    /// `moat ARGS` with no extra environment.
    pub fn start(args: &[&str]) -> MoatProc {
        MoatProc::spawn::<&str>(args, &[])
    }

    /// `moat ARGS` with these environment variables.
    pub fn spawn<V: AsRef<OsStr>>(args: &[&str], env: &[(&str, V)]) -> MoatProc {
        let mut cmd = Command::new(MOAT);
        cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l = Arc::clone(&lines);
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        MoatProc { child, lines }
    }

    /// Its stderr so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The URL a `serve` printed (`moat serve: listening on URL`).
    pub fn url(&self) -> String {
        wait_for("serve to listen", 60, || {
            self.lines().iter().find_map(|l| {
                l.strip_prefix("moat serve: listening on ")
                    .map(str::to_string)
            })
        })
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for MoatProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `METHOD url` with a bearer token (and a JSON body on stdin) through curl: the status
/// and the body as JSON (or as a string when it is not JSON).
pub fn http(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let auth = format!("authorization: Bearer {token}");
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
        "-H",
        &auth,
    ]);
    if body.is_some() {
        cmd.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            "@-",
        ]);
    }
    let mut c = cmd
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    if let Some(b) = body {
        stdin.write_all(b.to_string().as_bytes()).unwrap();
    }
    drop(stdin);
    let out = c.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    )
}
