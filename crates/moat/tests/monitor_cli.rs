//! `moat monitor` end to end on a private real dockerd: the engine's events reach the
//! store exactly once across a kill of the monitor and a restart of the engine, checked
//! against the engine's own event list (`docker events --since --until`); `monitor query`
//! filters; `monitor rules --validate` names file and line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_testkit::{Dockerd, DockerdOptions, skip_unless};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn moat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_moat"))
}

fn spawn_monitor(d: &Dockerd, store: &Path, log: &Path) -> Child {
    moat()
        .args(["monitor", "--host", &d.host(), "--store"])
        .arg(store)
        .arg("--log")
        .arg(log)
        .args(["--output", "jsonl", "--without", "proc,net,cgroup,files"])
        .args(["--duration", "300"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The engine's own list of events in [since, until] (unix seconds, fractional).
fn engine_events(d: &Dockerd, since: &str, until: &str) -> Vec<String> {
    let out = d.docker(&[
        "events",
        "--since",
        since,
        "--until",
        until,
        "--format",
        "{{json .}}",
    ]);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "docker:{}:{}:{}:{}",
                v["timeNano"].as_i64().unwrap(),
                v["Type"].as_str().unwrap(),
                v["Action"].as_str().unwrap(),
                v["Actor"]["ID"].as_str().unwrap()
            )
        })
        .collect()
}

fn now_secs() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Keys of the engine events in the JSONL log, with how often each appears.
fn log_keys(log: &Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    let dir = log.parent().unwrap();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".jsonl") {
            continue;
        }
        for l in std::fs::read_to_string(e.path()).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if let Some(k) = v["key"].as_str().filter(|k| k.starts_with("docker:")) {
                *m.entry(k.to_string()).or_insert(0) += 1;
            }
        }
    }
    m
}

fn wait_for_key(log: &Path, key: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if log_keys(log).contains_key(key) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn run_containers(d: &Dockerd, n: usize, tag: &str) {
    for i in 0..n {
        d.docker(&["run", "--rm", "--name", &format!("{tag}{i}"), "bb", "true"]);
    }
}

#[test]
fn restart_of_monitor_and_engine_loses_and_repeats_no_engine_event() {
    if !skip_unless("restart_of_monitor_and_engine", &["dockerd", "docker"]) {
        return;
    }
    let mut d = Dockerd::start(DockerdOptions::default());
    d.import_busybox("bb", &[]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.db");
    let logdir = dir.path().join("log");
    std::fs::create_dir_all(&logdir).unwrap();
    let log = logdir.join("events.jsonl");

    let mut mon = spawn_monitor(&d, &store, &log);
    // Ready when a first event reaches the log; the window starts then.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = false;
    let mut i = 0;
    while !ready && Instant::now() < deadline {
        d.docker(&["create", "--name", &format!("warm{i}"), "bb", "true"]);
        i += 1;
        std::thread::sleep(Duration::from_millis(500));
        ready = log_keys(&log)
            .keys()
            .any(|k| k.contains(":container:create:"));
    }
    assert!(
        ready,
        "the monitor did not store an engine event within 20 s"
    );
    let t0 = now_secs();

    // Events while it runs, then a SIGKILL in the middle of a stream of events.
    run_containers(&d, 2, "a");
    let host = d.host();
    let generator = std::thread::spawn(move || {
        for i in 0..6 {
            let _ = Command::new("docker")
                .env("DOCKER_HOST", &host)
                .args(["run", "--rm", "--name", &format!("b{i}"), "bb", "true"])
                .output();
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    mon.kill().unwrap();
    mon.wait().unwrap();
    generator.join().unwrap();
    run_containers(&d, 2, "c"); // while the monitor is down
    let before_restart = engine_events(&d, &t0, &now_secs());
    assert!(before_restart.len() >= 20, "{before_restart:?}");

    // Start it again: it catches up from its stored cursor.
    let mut mon = spawn_monitor(&d, &store, &log);
    let last = before_restart.last().unwrap().clone();
    assert!(
        wait_for_key(&log, &last, 20),
        "the restarted monitor did not catch up to {last}"
    );

    // Restart the engine under it: it reconnects (with backoff) and goes on.
    d.restart();
    let t1 = now_secs();
    run_containers(&d, 2, "e");
    let after = engine_events(&d, &t1, &now_secs());
    assert!(!after.is_empty());
    let last = after.last().unwrap().clone();
    assert!(
        wait_for_key(&log, &last, 30),
        "the monitor did not reconnect to the restarted engine"
    );
    let after_all = engine_events(&d, &t0, &now_secs());
    let _ = mon.kill();
    mon.wait().unwrap();

    // Every engine event of the window is in the log exactly once and in the store.
    let keys = log_keys(&log);
    let expected: BTreeSet<String> = before_restart.iter().chain(&after_all).cloned().collect();
    let mut missing = Vec::new();
    let s = moat_store::Store::open_existing(&store).unwrap();
    for k in &expected {
        match keys.get(k) {
            Some(1) => {}
            Some(n) => panic!("{k} is in the log {n} times"),
            None => missing.push(k.clone()),
        }
        assert!(s.has_key(k).unwrap(), "{k} is not in the store");
    }
    assert!(missing.is_empty(), "missing from the log: {missing:?}");
    // And nothing was logged twice overall.
    assert!(keys.values().all(|&n| n == 1), "{keys:?}");

    // `monitor query` reads the same store: by container name, as JSON.
    let out = moat()
        .args(["monitor", "query", "--store"])
        .arg(&store)
        .args(["--container", "a0", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let actions: BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r["body"]["docker"]["action"].as_str())
        .collect();
    for a in ["create", "start", "die", "destroy"] {
        assert!(actions.contains(a), "{actions:?}");
    }
    // A time window that ends before the first event holds nothing.
    let out = moat()
        .args(["monitor", "query", "--store"])
        .arg(&store)
        .args(["--until", "2000-01-01T00:00:00Z"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 records"));
}

#[test]
fn rules_validate_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(
        &f,
        "- list: my_ports\n  items: [1, 2]\n\n- rule: Bad field\n  condition: proc.nmae == \"sh\"\n  output: x\n  priority: HIGH\n",
    )
    .unwrap();
    let out = moat()
        .args(["monitor", "rules", "--validate"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:4:", f.display())), "{err}");
    assert!(err.contains("nmae"), "{err}");

    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        "- rule: Netcat listener\n  condition: spawned_process && proc.name == \"nc\" && proc.cmdline.contains(\"-l\")\n  output: \"nc listening in %container.name\"\n  priority: WARNING\n",
    )
    .unwrap();
    let out = moat()
        .args(["monitor", "rules", "--validate"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Netcat listener"), "{text}");
    assert!(text.contains("Terminal shell in container"), "{text}");
}

/// The CIS view's item `n` of `moat audit --format cis-json` (plus `extra` arguments).
fn audit_item(d: &Dockerd, extra: &[&str], n: &str) -> serde_json::Value {
    let out = moat()
        .args(["audit", "--host", &d.host(), "--format", "cis-json"])
        .args(["--no-proof", "--no-image-files"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap().iter())
        .find(|i| i["number"] == n)
        .cloned()
        .unwrap_or_else(|| panic!("item {n} missing"))
}

/// Issue 17's "audit reads the store": CIS 5.23 (`docker exec --privileged`) and 5.24
/// (`docker exec --user root`) from the exec history the monitor stored (each exec
/// inspected at its creation); not evaluated without a store.
#[test]
fn audit_reads_the_docker_exec_history_the_monitor_stored() {
    if !skip_unless("audit_reads_exec_history", &["dockerd", "docker"]) {
        return;
    }
    let d = Dockerd::start(DockerdOptions::default());
    d.import_busybox("bb", &[]);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.db");
    let log = dir.path().join("events.jsonl");
    d.docker(&["run", "-d", "--name", "target", "bb", "sleep", "600"]);
    d.docker(&["run", "-d", "--name", "quiet", "bb", "sleep", "600"]);
    let mut mon = spawn_monitor(&d, &store, &log);
    // Ready when the monitor stores the first exec.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !log_keys(&log).keys().any(|k| k.contains("exec_create")) {
        assert!(Instant::now() < deadline, "no exec stored within 20 s");
        d.docker(&["exec", "quiet", "true"]);
        std::thread::sleep(Duration::from_millis(300));
    }
    // The privileged exec may be refused at start here (privileged processes cannot
    // run in this sandbox): it is created, and inspected, all the same.
    let _ = d.docker_output(&["exec", "--privileged", "target", "true"]);
    d.docker(&["exec", "-u", "root", "target", "true"]);
    d.docker(&["exec", "-u", "0:0", "target", "true"]);
    d.docker(&["exec", "-u", "1000:1000", "quiet", "true"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while log_keys(&log)
        .keys()
        .filter(|k| k.contains("exec_create"))
        .count()
        < 5
    {
        assert!(Instant::now() < deadline, "the execs were not stored");
        std::thread::sleep(Duration::from_millis(200));
    }
    mon.kill().unwrap();
    mon.wait().unwrap();
    let store_arg = store.to_str().unwrap();

    let i523 = audit_item(&d, &["--store", store_arg], "5.23");
    let f = i523["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{i523:#}");
    assert_eq!(f[0]["rule"], "CC130");
    assert!(
        f[0]["object"].as_str().unwrap().contains("/target"),
        "{i523:#}"
    );
    let i524 = audit_item(&d, &["--store", store_arg], "5.24");
    let f = i524["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1, "{i524:#}");
    assert_eq!(f[0]["rule"], "CC131");
    assert!(
        f[0]["object"].as_str().unwrap().contains("/target")
            && f[0]["message"].as_str().unwrap().contains("2 time"),
        "root and 0:0 on target, 1000:1000 on quiet: {i524:#}"
    );
    // A window after the execs: nothing to report, and the item passes.
    let later = audit_item(&d, &["--store", store_arg, "--since", "4102444800"], "5.23");
    assert_eq!(later["status"], "pass", "{later:#}");
    // Without the store the items are not evaluated, and say why.
    let none = audit_item(&d, &[], "5.24");
    assert_eq!(none["status"], "info", "{none:#}");
    assert!(
        none["note"].as_str().unwrap_or("").contains("--store"),
        "{none:#}"
    );
}
