//! The testkit's own check: a private daemon starts, imports the busybox image, runs a
//! container, and is gone (socket and process) after drop.

#![allow(clippy::unwrap_used)]

use moat_testkit::{Dockerd, DockerdOptions, skip_unless};

#[test]
fn private_daemon_runs_busybox_and_cleans_up() {
    if !skip_unless(
        "private_daemon_runs_busybox_and_cleans_up",
        &["dockerd", "docker"],
    ) {
        return;
    }
    let d = Dockerd::start(DockerdOptions::default());
    d.import_busybox("moat-tk/busybox:1", &["USER 1000"]);
    let out = d.docker(&["run", "--rm", "moat-tk/busybox:1", "id", "-u"]);
    assert_eq!(out.trim(), "1000");
    let sock = d.sock();
    let pid = d.pid();
    drop(d);
    assert!(!sock.exists(), "socket left behind");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(" Z "),
        "dockerd still running"
    );
}
