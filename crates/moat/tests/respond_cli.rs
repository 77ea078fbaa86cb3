//! `moat respond` against a real, private dockerd with iptables on (an `internal`
//! network is enforced only through iptables), its own bridge and address pool (block
//! 211: bridge 10.211.0.1/24, pool 10.212.0.0/16). Connectivity is checked with real TCP
//! connects (busybox `nc`) between real containers, before and after each action.
//!
//! One daemon per test function, each doing several checks, so that the machine-wide
//! iptables lock is held briefly.

#![allow(clippy::unwrap_used)] // tests

use moat_testkit::{Dockerd, DockerdOptions, Network, skip_unless};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const MOAT: &str = env!("CARGO_BIN_EXE_moat");

fn daemon() -> Dockerd {
    Dockerd::start(DockerdOptions {
        network: Some(Network::block("rsp", 211)),
        ..DockerdOptions::default()
    })
}

fn moat(d: &Dockerd, evidence: &Path, args: &[&str]) -> Output {
    Command::new(MOAT)
        .arg("respond")
        .args(args)
        .arg("--host")
        .arg(d.host())
        .arg("--evidence-dir")
        .arg(evidence)
        .arg("--format")
        .arg("json")
        .env("MOAT_CACHE_DIR", evidence.join("cache"))
        .env("MOAT_DB", evidence.join("no-such.db"))
        .output()
        .unwrap()
}

/// Runs moat and returns its one action record (asserting the exit code).
fn act(d: &Dockerd, evidence: &Path, args: &[&str], code: i32) -> Value {
    let out = moat(d, evidence, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "moat respond {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["actions"].as_array().unwrap().len(), 1, "{v}");
    v["actions"][0].clone()
}

fn inspect(d: &Dockerd, name: &str) -> Value {
    let v: Value = serde_json::from_str(&d.docker(&["inspect", name])).unwrap();
    v[0].clone()
}

fn networks(d: &Dockerd, name: &str) -> Vec<String> {
    let v = inspect(d, name);
    let mut n: Vec<String> = v["NetworkSettings"]["Networks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    n.sort();
    n
}

fn ip(d: &Dockerd, name: &str, net: &str) -> String {
    inspect(d, name)["NetworkSettings"]["Networks"][net]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string()
}

fn aliases(d: &Dockerd, name: &str, net: &str) -> Vec<String> {
    inspect(d, name)["NetworkSettings"]["Networks"][net]["Aliases"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// A real TCP connect from container `from` to `host:port`: true when the server's
/// greeting came back. Retries for a few seconds when `want` is true (DNS and the
/// listener may need a moment); a single bounded attempt when checking for failure.
fn connects(d: &Dockerd, from: &str, host: &str, port: u16, greeting: &str, want: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(if want { 15 } else { 0 });
    loop {
        let out = d.docker_output(&["exec", from, "nc", "-w", "3", host, &port.to_string()]);
        let ok = String::from_utf8_lossy(&out.stdout).contains(greeting);
        if ok == want || Instant::now() >= deadline {
            return ok;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A container serving `greeting` on TCP `port` (busybox nc, one process per connect).
fn serve(d: &Dockerd, name: &str, net: &str, extra: &[&str], port: u16, greeting: &str) {
    let mut args = vec!["run", "-d", "--name", name, "--network", net];
    args.extend_from_slice(extra);
    let p = port.to_string();
    args.extend_from_slice(&["bb", "nc", "-ll", "-p", &p, "-e", "echo", greeting]);
    d.docker(&args);
}

#[test]
fn isolate_release_and_lifecycle_on_a_real_engine() {
    if !skip_unless(
        "isolate_release_and_lifecycle_on_a_real_engine",
        &["dockerd", "docker", "busybox", "ip", "iptables"],
    ) {
        return;
    }
    let d = daemon();
    let ev = tempfile::tempdir().unwrap();
    let ev = ev.path();
    d.import_busybox("bb", &[]);
    d.docker(&["network", "create", "front"]);
    d.docker(&["network", "create", "back"]);
    serve(
        &d,
        "target",
        "front",
        &["--network-alias", "web"],
        8080,
        "target-hello",
    );
    d.docker(&["network", "connect", "--alias", "api", "back", "target"]);
    serve(&d, "peer1", "front", &[], 9091, "peer1-hello");
    serve(&d, "peer2", "back", &[], 9092, "peer2-hello");
    let (t_front, t_back) = (ip(&d, "target", "front"), ip(&d, "target", "back"));
    let (p1, p2) = (ip(&d, "peer1", "front"), ip(&d, "peer2", "back"));

    // Before: every path works, by alias and by address.
    assert!(connects(&d, "peer1", "web", 8080, "target-hello", true));
    assert!(connects(&d, "peer2", "api", 8080, "target-hello", true));
    assert!(connects(&d, "peer1", &t_front, 8080, "target-hello", true));
    assert!(connects(&d, "target", &p1, 9091, "peer1-hello", true));
    assert!(connects(&d, "target", &p2, 9092, "peer2-hello", true));

    // A dry run changes nothing.
    let rec = act(&d, ev, &["isolate", "target", "--dry-run"], 0);
    assert_eq!(rec["outcome"], "planned", "{rec}");
    assert!(
        rec["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["result"] == "planned")
    );
    assert_eq!(networks(&d, "target"), ["back", "front"]);
    assert!(
        !ev.join("state").exists()
            || std::fs::read_dir(ev.join("state"))
                .unwrap()
                .next()
                .is_none()
    );

    // Isolate.
    let rec = act(
        &d,
        ev,
        &["isolate", "target", "--reason", "shell spawned in web"],
        0,
    );
    assert_eq!(rec["outcome"], "done", "{rec}");
    assert_eq!(rec["reason"], "shell spawned in web");
    let id = inspect(&d, "target")["Id"].as_str().unwrap().to_string();
    let q = format!("moat-quarantine-{}", &id[..12]);
    assert_eq!(networks(&d, "target"), std::slice::from_ref(&q));
    assert_eq!(inspect(&d, "target")["State"]["Status"], "running");
    let qn: Value = serde_json::from_str(&d.docker(&["network", "inspect", &q])).unwrap();
    assert_eq!(qn[0]["Internal"], true, "{qn}");
    let members: Vec<&String> = qn[0]["Containers"].as_object().unwrap().keys().collect();
    assert_eq!(members, [&id], "the quarantine network has no other member");
    // The record keeps what release needs.
    let before = &rec["before"]["networks"];
    assert_eq!(before["front"]["aliases"], serde_json::json!(["web"]));
    assert_eq!(before["back"]["aliases"], serde_json::json!(["api"]));
    assert_eq!(before["front"]["ipv4"], t_front.as_str());

    // After: no path works, in either direction.
    assert!(!connects(
        &d,
        "peer1",
        &t_front,
        8080,
        "target-hello",
        false
    ));
    assert!(!connects(&d, "peer2", &t_back, 8080, "target-hello", false));
    assert!(!connects(&d, "target", &p1, 9091, "peer1-hello", false));
    assert!(!connects(&d, "target", &p2, 9092, "peer2-hello", false));
    // The peers themselves still work (the failures above are the isolation's).
    d.docker(&["network", "connect", "front", "peer2"]);
    assert!(connects(&d, "peer2", &p1, 9091, "peer1-hello", true));
    d.docker(&["network", "disconnect", "front", "peer2"]);

    // Isolating again is a no-op, with a note.
    let rec = act(&d, ev, &["isolate", "target"], 0);
    assert_eq!(rec["outcome"], "no-op", "{rec}");
    assert!(
        rec["notes"][0]
            .as_str()
            .unwrap()
            .contains("already isolated"),
        "{rec}"
    );

    // Release restores networks and aliases; connects work again.
    let rec = act(&d, ev, &["release", "target"], 0);
    assert_eq!(rec["outcome"], "done", "{rec}");
    assert_eq!(networks(&d, "target"), ["back", "front"]);
    assert!(aliases(&d, "target", "front").contains(&"web".to_string()));
    assert!(aliases(&d, "target", "back").contains(&"api".to_string()));
    assert!(d.docker_output(&["network", "inspect", &q]).status.code() != Some(0));
    assert!(connects(&d, "peer1", "web", 8080, "target-hello", true));
    assert!(connects(&d, "peer2", "api", 8080, "target-hello", true));
    assert!(connects(&d, "target", "peer1", 9091, "peer1-hello", true));
    assert!(connects(&d, "target", "peer2", 9092, "peer2-hello", true));
    let rec = act(&d, ev, &["release", "target"], 0);
    assert_eq!(rec["outcome"], "no-op", "{rec}");

    // Host network mode: paused instead, and the output says why; release unpauses.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "hostnet",
        "--network",
        "host",
        "bb",
        "sleep",
        "1000",
    ]);
    let rec = act(&d, ev, &["isolate", "hostnet"], 0);
    assert_eq!(rec["outcome"], "done", "{rec}");
    assert!(
        rec["notes"].to_string().contains("network mode host"),
        "{rec}"
    );
    assert_eq!(inspect(&d, "hostnet")["State"]["Status"], "paused");
    let rec = act(&d, ev, &["isolate", "hostnet"], 0);
    assert_eq!(rec["outcome"], "no-op", "{rec}");
    act(&d, ev, &["release", "hostnet"], 0);
    assert_eq!(inspect(&d, "hostnet")["State"]["Status"], "running");

    // pause / unpause / stop / kill, each with its reason; a repeat is a no-op.
    let r = act(&d, ev, &["pause", "peer1", "--reason", "r1"], 0);
    assert_eq!(
        (r["outcome"].as_str(), r["after"]["status"].as_str()),
        (Some("done"), Some("paused"))
    );
    assert_eq!(act(&d, ev, &["pause", "peer1"], 0)["outcome"], "no-op");
    assert_eq!(inspect(&d, "peer1")["State"]["Status"], "paused");
    act(&d, ev, &["unpause", "peer1"], 0);
    assert_eq!(inspect(&d, "peer1")["State"]["Status"], "running");
    let r = act(&d, ev, &["stop", "peer1", "--dry-run"], 0);
    assert_eq!(r["outcome"], "planned");
    assert_eq!(inspect(&d, "peer1")["State"]["Status"], "running");
    act(&d, ev, &["stop", "peer1", "--reason", "contain"], 0);
    assert_eq!(inspect(&d, "peer1")["State"]["Status"], "exited");
    assert_eq!(act(&d, ev, &["kill", "peer1"], 0)["outcome"], "no-op");
    act(&d, ev, &["kill", "peer2", "--reason", "r2"], 0);
    assert_eq!(inspect(&d, "peer2")["State"]["Status"], "exited");

    // A missing container is a failed action (exit 2), logged like the others.
    let r = act(&d, ev, &["pause", "no-such-container"], 2);
    assert_eq!(r["outcome"], "failed");

    // Every action is in the log, in order, with who, when, why and the states.
    let log = std::fs::read_to_string(ev.join("actions.jsonl")).unwrap();
    let recs: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seq: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seq[..6],
        [
            ("isolate", "planned"),
            ("isolate", "done"),
            ("isolate", "no-op"),
            ("release", "done"),
            ("release", "no-op"),
            ("isolate", "done"),
        ]
    );
    assert_eq!(recs.len(), 16, "{log}");
    for r in &recs {
        assert!(!r["operator"].as_str().unwrap().is_empty());
        assert!(r["started"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(recs[1]["reason"], "shell spawned in web");
    assert_eq!(recs[1]["after"]["networks"].as_object().unwrap().len(), 1);

    // ...and in the monitor's durable store, the same records in the same order.
    let out = Command::new(MOAT)
        .args(["monitor", "query", "--kind", "action", "--format", "json"])
        .arg("--store")
        .arg(ev.join("cache/monitor/store.db"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids = |v: Vec<&Value>| -> Vec<String> {
        v.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(rows.iter().map(|r| &r["body"]).collect()),
        ids(recs.iter().collect())
    );
}

fn members(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let f = std::fs::File::open(bundle).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().into_owned();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        out.push((p, b));
    }
    out
}

#[test]
fn snapshot_keeps_the_evidence_and_verify_catches_one_flipped_byte() {
    if !skip_unless(
        "snapshot_keeps_the_evidence_and_verify_catches_one_flipped_byte",
        &["dockerd", "docker", "busybox", "ip", "iptables"],
    ) {
        return;
    }
    let d = daemon();
    let ev = tempfile::tempdir().unwrap();
    let ev = ev.path();
    d.import_busybox("bb", &[]);
    d.docker(&["network", "create", "front"]);
    let token = format!("ghp_{}", "Zq9x8W7v6U5t4S3r2Q1p0O9n8M7l6K5j4I3h");
    let env = format!("GITHUB_TOKEN={token}");
    d.docker(&[
        "run", "-d", "--name", "victim", "--network", "front", "-e", &env, "-e", "MODE=prod",
        "bb", "sh", "-c",
        "echo planted-payload-7f3a > /tmp/dropper.sh; echo victim-started; nc -ll -p 8080 -e echo hi",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while d
        .docker_output(&["exec", "victim", "cat", "/tmp/dropper.sh"])
        .status
        .code()
        != Some(0)
    {
        assert!(Instant::now() < deadline, "the planted file never appeared");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A dry run writes nothing.
    let rec = act(&d, ev, &["snapshot", "victim", "--dry-run", "--commit"], 0);
    assert_eq!(rec["outcome"], "planned");
    assert!(!ev.join("snapshots").exists());

    let rec = act(
        &d,
        ev,
        &["snapshot", "victim", "--commit", "--reason", "IR-42"],
        0,
    );
    assert_eq!(rec["outcome"], "done", "{rec}");
    assert_eq!(
        inspect(&d, "victim")["State"]["Status"],
        "running",
        "unpaused after"
    );
    let steps = rec["steps"].to_string();
    assert!(
        steps.contains("pause the container for a consistent read"),
        "{steps}"
    );
    let bundle = rec["evidence"]["path"].as_str().unwrap().to_string();
    let bytes = std::fs::read(&bundle).unwrap();
    assert_eq!(
        rec["evidence"]["sha256"],
        hex::encode(Sha256::digest(&bytes))
    );

    let m = members(Path::new(&bundle));
    let get = |p: &str| m.iter().find(|(n, _)| n == p).map(|(_, b)| b.clone());
    // The planted file, byte for byte, listed in the manifest with its hash.
    assert_eq!(
        get("filesystem/files/tmp/dropper.sh").unwrap(),
        b"planted-payload-7f3a\n"
    );
    let manifest: Value = serde_json::from_slice(&get("manifest.json").unwrap()).unwrap();
    assert_eq!(m.last().unwrap().0, "manifest.json");
    let entry = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "filesystem/files/tmp/dropper.sh")
        .unwrap();
    assert_eq!(
        entry["sha256"],
        hex::encode(Sha256::digest(b"planted-payload-7f3a\n"))
    );
    assert_eq!(manifest["read_paused"], true);
    assert_eq!(manifest["reason"], "IR-42");
    assert_eq!(manifest["files"].as_array().unwrap().len(), m.len() - 1);
    let changes = String::from_utf8(get("filesystem/changes.json").unwrap()).unwrap();
    assert!(changes.contains("/tmp/dropper.sh"), "{changes}");
    // Logs, processes with the hash of their executable (busybox, copied from this
    // host's), sockets (the listener on 8080), mounts, redacted environment.
    assert!(String::from_utf8_lossy(&get("logs/stdout.log").unwrap()).contains("victim-started"));
    let procs: Value = serde_json::from_slice(&get("processes.json").unwrap()).unwrap();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    let bb_hash = hex::encode(Sha256::digest(std::fs::read(busybox).unwrap()));
    let nc = procs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["cmdline"].to_string().contains("8080"))
        .unwrap_or_else(|| panic!("{procs}"));
    assert_eq!(nc["exe_sha256"], bb_hash.as_str(), "{nc}");
    let socks: Value = serde_json::from_slice(&get("sockets.json").unwrap()).unwrap();
    assert!(
        socks
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["state"] == "LISTEN"
                && s["local"].as_str().unwrap().ends_with(":8080")
                && s["pids"].as_array().unwrap().contains(&nc["pid"])),
        "{socks}"
    );
    let env_json = String::from_utf8(get("environment.json").unwrap()).unwrap();
    assert!(!env_json.contains(&token), "{env_json}");
    assert!(env_json.contains("<redacted:github-pat>"), "{env_json}");
    assert!(env_json.contains("prod"), "{env_json}");
    assert!(get("container/inspect.json").is_some() && get("mounts.json").is_some());
    // The committed container, as a docker-archive.
    let image = get("image/commit.docker-archive.tar").unwrap();
    let mut ar = tar::Archive::new(image.as_slice());
    let names: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "manifest.json"), "{names:?}");
    // The image scan: in the bundle, or a note saying why not (no database here).
    assert!(
        get("scan/report.json").is_some()
            || manifest["notes"].to_string().contains("scan the image"),
        "{}",
        manifest["notes"]
    );

    // verify: intact passes; one flipped byte anywhere fails; so do an added byte and a cut.
    let verify = |p: &Path| {
        Command::new(MOAT)
            .args(["respond", "verify"])
            .arg(p)
            .output()
            .unwrap()
    };
    let out = verify(Path::new(&bundle));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VERIFIED"));
    let copy = ev.join("copy.tar.gz");
    for at in [bytes.len() / 2, 20, bytes.len() - 3] {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        std::fs::write(&copy, &b).unwrap();
        let out = verify(&copy);
        assert_eq!(
            out.status.code(),
            Some(1),
            "flipped byte {at}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("FAILED"));
    }
    let mut b = bytes.clone();
    b.push(0);
    std::fs::write(&copy, &b).unwrap();
    assert_eq!(verify(&copy).status.code(), Some(1));
    std::fs::write(&copy, &bytes[..bytes.len() - 100]).unwrap();
    assert_eq!(verify(&copy).status.code(), Some(1));

    // An isolated (paused-for-host or network-isolated) container can be snapshotted too;
    // the record of the snapshot is in the log with its evidence hash.
    let log = std::fs::read_to_string(ev.join("actions.jsonl")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["evidence"]["sha256"],
        hex::encode(Sha256::digest(&bytes))
    );
}

/// `moat monitor --respond`: the default shell rule, redefined with `action: isolate`
/// (a later rules file replaces a rule of the same name).
const ISOLATE_SHELLS: &str = r#"
- rule: Terminal shell in container
  desc: A shell was started inside a container; isolate it.
  condition: spawned_process && proc.name in shell_binaries && !container_init
  output: "Shell in container %container.name (cmdline=%proc.cmdline)"
  priority: HIGH
  action: isolate
"#;

/// Runs `moat monitor --respond[=MODE]` with the shell rule above, starts shells in
/// `victim` until the store has an action record (up to 60 s), and returns the action
/// records.
fn monitor_responds(d: &Dockerd, ev: &Path, mode: &str) -> Vec<Value> {
    let dir = ev.join(format!("monitor-{mode}"));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(&rules, ISOLATE_SHELLS).unwrap();
    let store = dir.join("store.db");
    let mut mon = Command::new(MOAT)
        .args(["monitor", "--host", &d.host(), "--store"])
        .arg(&store)
        .arg("--rules")
        .arg(&rules)
        .arg(format!("--respond={mode}"))
        .arg("--evidence-dir")
        .arg(ev)
        .args(["--output", "jsonl", "--without", "net,cgroup,files"])
        .args(["--duration", "120"])
        .env("MOAT_CACHE_DIR", ev.join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("monitor.err")).unwrap())
        .spawn()
        .unwrap();
    // When the monitor is ready (subscribed, its containers known) depends on the
    // machine's load: start a shell every few seconds until the first action is logged
    // (in dry-run each shell logs a plan; once isolated, a shell is a no-op).
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next_shell = Instant::now() + Duration::from_millis(1500);
    while rows.is_empty() && Instant::now() < deadline {
        if Instant::now() >= next_shell {
            d.docker(&["exec", "victim", "sh", "-c", "sleep 1"]);
            next_shell = Instant::now() + Duration::from_secs(4);
        }
        std::thread::sleep(Duration::from_millis(300));
        let out = Command::new(MOAT)
            .args(["monitor", "query", "--kind", "action", "--format", "json"])
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        if out.status.success() {
            let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            rows = v.into_iter().map(|r| r["body"].clone()).collect();
        }
    }
    let _ = mon.kill();
    let _ = mon.wait();
    assert!(
        !rows.is_empty(),
        "no action was logged ({mode}); the monitor said: {}",
        std::fs::read_to_string(dir.join("monitor.err")).unwrap_or_default()
    );
    rows
}

#[test]
fn monitor_rule_with_action_isolates_a_shell_spawner_and_only_logs_in_dry_run() {
    if !skip_unless(
        "monitor_rule_with_action_isolates_a_shell_spawner_and_only_logs_in_dry_run",
        &["dockerd", "docker", "busybox", "ip", "iptables"],
    ) {
        return;
    }
    let d = daemon();
    let ev = tempfile::tempdir().unwrap();
    let ev = ev.path();
    d.import_busybox("bb", &[]);
    d.docker(&["network", "create", "app"]);
    serve(&d, "victim", "app", &[], 8080, "victim-hello");
    serve(&d, "peer", "app", &[], 9091, "peer-hello");
    assert!(connects(&d, "peer", "victim", 8080, "victim-hello", true));

    // Dry run (`--respond` alone): the plan is logged, nothing changes.
    let rows = monitor_responds(&d, ev, "dry-run");
    assert!(!rows.is_empty(), "no action was logged in dry-run");
    let rec = &rows[0];
    assert_eq!(rec["action"], "isolate", "{rec}");
    assert_eq!(rec["dry_run"], true, "{rec}");
    assert_eq!(rec["outcome"], "planned", "{rec}");
    assert_eq!(rec["source"]["kind"], "monitor", "{rec}");
    assert_eq!(
        rec["source"]["rule"], "Terminal shell in container",
        "{rec}"
    );
    assert_eq!(rec["container"]["name"], "victim", "{rec}");
    assert_eq!(networks(&d, "victim"), ["app"]);
    assert!(connects(&d, "peer", "victim", 8080, "victim-hello", true));

    // Enforced: the container that spawned the shell is isolated, the other is not.
    let rows = monitor_responds(&d, ev, "enforce");
    assert!(!rows.is_empty(), "no action was logged when enforcing");
    let rec = &rows[0];
    assert_eq!(rec["action"], "isolate", "{rec}");
    assert_eq!(rec["dry_run"], false, "{rec}");
    assert_eq!(rec["outcome"], "done", "{rec}");
    let id = inspect(&d, "victim")["Id"].as_str().unwrap().to_string();
    let q = format!("moat-quarantine-{}", &id[..12]);
    assert_eq!(networks(&d, "victim"), std::slice::from_ref(&q));
    assert_eq!(inspect(&d, "victim")["State"]["Status"], "running");
    assert_eq!(networks(&d, "peer"), ["app"]);
    let victim_ip = rec["before"]["networks"]["app"]["ipv4"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!connects(
        &d,
        "peer",
        &victim_ip,
        8080,
        "victim-hello",
        false
    ));
    // `moat respond release` undoes it, from the record the monitor's action kept.
    let rec = act(&d, ev, &["release", "victim"], 0);
    assert_eq!(rec["outcome"], "done", "{rec}");
    assert_eq!(networks(&d, "victim"), ["app"]);
    assert!(connects(&d, "peer", "victim", 8080, "victim-hello", true));
}
