//! A real `docker-registry` on 127.0.0.1 and the fixtures of `sigfix.py` pushed to it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub use moat_testkit::registry::Registry;

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
