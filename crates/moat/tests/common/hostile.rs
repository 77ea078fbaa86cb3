//! The hostile-input harness (issue 12): run `moat` on one generated hostile case as a
//! child process and check that it behaved: the expected exit code, peak RSS under a
//! bound, wall time under a bound, no raw control characters in its output, and nothing
//! written outside its own temporary cache and output.
//!
//! The peak RSS is exact: the child is started by a tiny Python parent whose only child
//! it is, so `getrusage(RUSAGE_CHILDREN).ru_maxrss` of that parent is the child's peak.
//! A child still running at the wall bound is killed (and the case fails).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The bounds of issue 12's acceptance.
pub const MAX_RSS_KIB: u64 = 512 * 1024;
pub const MAX_WALL: Duration = Duration::from_secs(10);

/// A temporary world for one case: `work` (inputs, may be read), `cache` (moat's cache),
/// `home` (HOME, must stay empty), `tmp` (TMPDIR, must stay empty).
pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Default for Case {
    fn default() -> Self {
        Self::new()
    }
}

impl Case {
    pub fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        for d in ["work", "cache", "home", "tmp"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        Case { dir }
    }
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
    pub fn db(&self) -> PathBuf {
        self.cache().join("moat.db")
    }
    /// Run `moat ARGS` in this case's world and measure it.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_env(args, &[])
    }
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Outcome {
        let before = tree(&self.work());
        let out_file = self.dir.path().join("stdout");
        let err_file = self.dir.path().join("stderr");
        // The parent: runs the child with a wall bound, prints "code maxrss_kib wall_s".
        let script = r#"
import resource, subprocess, sys, time
out, err, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
t = time.monotonic()
with open(out, "wb") as o, open(err, "wb") as e:
    p = subprocess.Popen(sys.argv[4:], stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    try:
        code = p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait(); code = "timeout"
wall = time.monotonic() - t
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, wall)
"#;
        let mut cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(script)
            .arg(&out_file)
            .arg(&err_file)
            // Let a misbehaving child run somewhat past the bound, so that the report
            // says how far past it went rather than only "killed".
            .arg((MAX_WALL.as_secs_f64() * 3.0).to_string())
            .arg(env!("CARGO_BIN_EXE_moat"))
            .args(args)
            .current_dir(self.work())
            .env("HOME", self.dir.path().join("home"))
            .env("TMPDIR", self.dir.path().join("tmp"))
            .env("MOAT_CACHE_DIR", self.cache())
            .env("MOAT_DB", self.db())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let res = cmd
            .output()
            .expect("python3 runs the hostile-input harness");
        let elapsed = started.elapsed();
        let line = String::from_utf8_lossy(&res.stdout).trim().to_string();
        assert!(
            res.status.success(),
            "harness failed: {line} {}",
            String::from_utf8_lossy(&res.stderr)
        );
        let f: Vec<&str> = line.split_whitespace().collect();
        Outcome {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: f[0].parse().ok(),
            max_rss_kib: f[1].parse().unwrap(),
            wall: Duration::from_secs_f64(f[2].parse().unwrap_or(elapsed.as_secs_f64())),
            stdout: std::fs::read(&out_file).unwrap(),
            stderr: std::fs::read(&err_file).unwrap(),
            new_outside: {
                let mut v = Vec::new();
                for d in ["home", "tmp"] {
                    for p in tree(&self.dir.path().join(d)) {
                        v.push(format!("{d}/{p}"));
                    }
                }
                for p in tree(&self.work()) {
                    if !before.contains(&p) {
                        v.push(format!("work/{p}"));
                    }
                }
                v
            },
        }
    }
}

/// What one run did.
#[derive(Debug)]
pub struct Outcome {
    pub args: Vec<String>,
    /// None: killed at the wall bound, or ended by a signal (an abort).
    pub code: Option<i32>,
    pub max_rss_kib: u64,
    pub wall: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Files that appeared in HOME, TMPDIR or the work dir (the inputs' folder).
    pub new_outside: Vec<String>,
}

impl Outcome {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Everything issue 12 asks of every hostile case, with `code` the expected exit
    /// code (2 for malformed input, 0 or 1 for a file skipped with a warning).
    pub fn assert_well_behaved(&self, code: i32) {
        let ctx = format!(
            "moat {:?}: code {:?}, {} KiB, {:.2?}\nstderr: {}",
            self.args,
            self.code,
            self.max_rss_kib,
            self.wall,
            truncate(&self.stderr())
        );
        assert_eq!(self.code, Some(code), "{ctx}");
        assert!(self.max_rss_kib < MAX_RSS_KIB, "peak RSS too high: {ctx}");
        assert!(self.wall < MAX_WALL, "too slow: {ctx}");
        for (name, bytes) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if let Some(b) = raw_control(bytes) {
                panic!("raw control byte {b:#04x} in {name}: {ctx}");
            }
        }
        assert!(
            self.new_outside.is_empty(),
            "written outside the cache: {:?}\n{ctx}",
            self.new_outside
        );
    }

    /// A malformed input: exit 2 and one `moat: error:` line that names `input`.
    pub fn assert_rejected(&self, input: &str) {
        self.assert_well_behaved(2);
        let err = self.stderr();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one line expected: {err:?}");
        assert!(lines[0].starts_with("moat: error: "), "{err:?}");
        assert!(lines[0].contains(input), "{err:?} does not name {input}");
    }
}

/// The first control byte other than newline and tab (text output has those), if any.
/// ESC, CR, BEL, backspace and the rest must never reach a terminal raw.
pub fn raw_control(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .copied()
        .find(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
}

fn truncate(s: &str) -> String {
    if s.len() > 2000 {
        let mut end = 2000;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.to_string()
    }
}

/// Every path under `dir`, relative, sorted (symlinks not followed).
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(root, &p, out);
            }
        }
    }
}
