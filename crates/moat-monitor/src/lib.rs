//! Runtime detection for `moat monitor`.
//!
//! Sources, each on its own thread, send [`Msg`]s to one pipeline:
//! - [`docker`]: the engine's event stream, resumed from the cursor stored with the
//!   events, reconnected with backoff when the engine goes away;
//! - the kernel's proc connector (exec and uid changes, lost events counted);
//! - [`sampler`]: sockets per container network namespace, cgroup memory/CPU/OOM;
//! - [`files`]: inotify on each container's overlay upper directory.
//!
//! The pipeline enriches events with the container (engine inspection, cached), checks
//! them against the [`rules::RuleSet`], and appends events and alerts in batches to the
//! [`moat_store::Store`] (with the Docker cursor, in one transaction) and the JSONL log,
//! then hands new alerts to the [`AlertSink`]s.

#![forbid(unsafe_code)]

pub mod docker;
pub mod files;
pub mod output;
mod procconn;
pub mod procinfo;
pub mod rules;
pub mod sampler;

use moat_engine::{DockerEngine, Engine};
use moat_model::runtime::{
    Alert, ContainerInfo, DockerEventInfo, EventSource, ProcessInfo, RuntimeEvent,
};
use moat_store::{JsonlLog, Record, Rotation, Store};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use procconn::ProcMsg;

/// The cursor name of the Docker event source in the store.
pub const DOCKER_CURSOR: &str = "docker";
/// Messages queued between the sources and the pipeline.
pub const QUEUE: usize = 65536;
/// Records written in one batch at most.
pub const MAX_BATCH: usize = 4096;
/// Containers inspected and remembered at most.
pub const MAX_CONTAINERS: usize = 4096;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The store or log failed.
    #[error(transparent)]
    Store(#[from] moat_store::StoreError),
    /// A source could not start.
    #[error("{0}")]
    Source(String),
}

/// A message from a source.
#[derive(Debug, Clone)]
pub enum Msg {
    Docker(DockerEventInfo),
    Proc(ProcMsg),
    Net(sampler::NetMsg),
    Cgroup(sampler::CgroupMsg),
    File(files::FileMsg),
    /// Events lost (count 0: unknown, at least one).
    Dropped {
        count: u64,
        note: String,
    },
    /// A source's state changed (connected, reconnecting, unavailable).
    Note {
        source: String,
        note: String,
    },
}

/// The sources' end of the queue: a full queue drops the message and counts it (never
/// blocks a kernel reader), except engine events, which wait (the engine keeps them).
#[derive(Clone)]
pub struct Sender {
    tx: SyncSender<Msg>,
    lost: Arc<AtomicU64>,
}

impl Sender {
    /// Queues `m`, counting it as lost when the queue is full.
    pub fn send(&self, m: Msg) {
        match self.tx.try_send(m) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Queues `m`, waiting for room.
    pub fn send_wait(&self, m: Msg) -> bool {
        self.tx.send(m).is_ok()
    }

    /// Reports lost events.
    pub fn dropped(&self, count: u64, note: &str) {
        // Waits: a drop report must not itself be dropped.
        let _ = self.tx.send(Msg::Dropped {
            count,
            note: note.to_string(),
        });
    }

    /// Reports a source's state.
    pub fn note(&self, source: &str, note: &str) {
        let _ = self.tx.send(Msg::Note {
            source: source.to_string(),
            note: note.to_string(),
        });
    }
}

/// Unix time now, ns.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Which sources run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    pub docker: bool,
    pub proc: bool,
    pub net: bool,
    pub cgroup: bool,
    pub files: bool,
}

impl Default for Sources {
    fn default() -> Sources {
        Sources {
            docker: true,
            proc: true,
            net: true,
            cgroup: true,
            files: true,
        }
    }
}

/// How to monitor.
#[derive(Debug, Clone)]
pub struct Options {
    /// The engine (`unix:///var/run/docker.sock`).
    pub host: String,
    /// The SQLite store.
    pub store: PathBuf,
    /// The JSONL log, if any.
    pub log: Option<PathBuf>,
    /// Its rotation.
    pub rotation: Rotation,
    /// Stop after this long (None: until `stop`).
    pub duration: Option<Duration>,
    /// How often sockets and cgroups are sampled.
    pub sample_interval: Duration,
    /// How long events wait to be written together.
    pub batch_interval: Duration,
    /// The sources.
    pub sources: Sources,
    /// Store every process event (`false`: only those that raise an alert, to save space
    /// under heavy exec load; engine, net, file and drop events are always stored).
    pub store_proc_events: bool,
}

impl Options {
    /// Defaults for `host` and `store`.
    pub fn new(host: &str, store: PathBuf) -> Options {
        Options {
            host: host.to_string(),
            store,
            log: None,
            rotation: Rotation::default(),
            duration: None,
            sample_interval: Duration::from_millis(250),
            batch_interval: Duration::from_millis(100),
            sources: Sources::default(),
            store_proc_events: true,
        }
    }
}

/// Where alerts go besides the store.
pub trait AlertSink: Send {
    /// A name for errors (`syslog udp://127.0.0.1:514`).
    fn name(&self) -> String;
    /// Delivers one alert.
    fn send(&mut self, alert: &Alert) -> Result<(), output::OutputError>;
    /// Called when the monitor stops.
    fn close(&mut self) {}
}

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events stored (new).
    pub events: u64,
    /// Engine events read.
    pub docker_events: u64,
    /// Process events read.
    pub proc_events: u64,
    /// Alerts raised (new).
    pub alerts: u64,
    /// Events lost and reported.
    pub dropped: u64,
    /// Records already in the store (replayed after a restart), not stored again.
    pub duplicates: u64,
    /// Alert deliveries that failed.
    pub sink_errors: u64,
}

struct Known {
    info: ContainerInfo,
    pid: i64,
    running: bool,
    upper: Option<PathBuf>,
    starts: VecDeque<Instant>,
}

struct Pipeline<'a> {
    opts: &'a Options,
    rules: &'a rules::RuleSet,
    engine: Option<DockerEngine>,
    engine_retry: Option<Instant>,
    known: HashMap<String, Known>,
    /// Ids this engine did not know (processes of another engine's containers), and
    /// when to ask again.
    unknown: HashMap<String, Instant>,
    targets: Arc<Mutex<Vec<sampler::Target>>>,
    watch_tx: Option<std::sync::mpsc::Sender<files::WatchRequest>>,
    stats: Stats,
    /// Exec instances inspected at `exec_create`: id → (privileged, user), so that their
    /// `exec_start` says the same (bounded: cleared beyond `MAX_EXECS`).
    execs: HashMap<String, (bool, String)>,
}

/// Exec instances remembered between their create and start events.
const MAX_EXECS: usize = 4096;

/// The attributes an exec's engine events are given from its inspection: CIS 5.23
/// (`docker exec --privileged`) and 5.24 (`docker exec --user root`) read them back from
/// the store.
pub const EXEC_PRIVILEGED: &str = "exec.privileged";
/// See [`EXEC_PRIVILEGED`]; the `--user` of the exec, empty when not given.
pub const EXEC_USER: &str = "exec.user";

fn json_str<'v>(v: &'v serde_json::Value, path: &[&str]) -> Option<&'v serde_json::Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

/// A container's facts from its inspection (the engine's JSON).
pub fn container_info(
    id: &str,
    inspect: &serde_json::Value,
) -> (ContainerInfo, i64, bool, Option<PathBuf>) {
    let s = |path: &[&str]| {
        json_str(inspect, path)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    // `{"8080/tcp": {}}` as the engine writes it, or a list of the same keys.
    let port_keys: Vec<String> = match json_str(inspect, &["Config", "ExposedPorts"]) {
        Some(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let mut exposed: Vec<u16> = port_keys
        .iter()
        .filter_map(|k| k.split('/').next().and_then(|p| p.parse().ok()))
        .collect();
    exposed.sort_unstable();
    exposed.dedup();
    let mounts = json_str(inspect, &["Mounts"])
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let info = ContainerInfo {
        id: id.to_string(),
        name: s(&["Name"]).trim_start_matches('/').to_string(),
        image: s(&["Config", "Image"]),
        privileged: json_str(inspect, &["HostConfig", "Privileged"])
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        mounts: mounts
            .iter()
            .map(|m| {
                m.get("Source")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect(),
        mount_targets: mounts
            .iter()
            .map(|m| {
                m.get("Destination")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect(),
        exposed_ports: exposed,
        recent_starts: 0,
        memory_limit: json_str(inspect, &["HostConfig", "Memory"])
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
    };
    let pid = json_str(inspect, &["State", "Pid"])
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    let running = json_str(inspect, &["State", "Running"])
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let upper = json_str(inspect, &["GraphDriver", "Data", "UpperDir"])
        .and_then(|v| v.as_str())
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    (info, pid, running, upper)
}

impl Pipeline<'_> {
    fn engine(&mut self) -> Option<&DockerEngine> {
        if self.engine.is_none() {
            if self.engine_retry.is_some_and(|t| t > Instant::now()) {
                return None;
            }
            match DockerEngine::connect(&self.opts.host) {
                Ok(e) => self.engine = Some(e),
                Err(_) => {
                    self.engine_retry = Some(Instant::now() + Duration::from_secs(1));
                    return None;
                }
            }
        }
        self.engine.as_ref()
    }

    /// Inspects `id` (again when `refresh`), keeping what is known when it cannot.
    fn learn(&mut self, id: &str, refresh: bool) {
        if !refresh && self.known.contains_key(id) {
            return;
        }
        if !refresh && self.unknown.get(id).is_some_and(|t| *t > Instant::now()) {
            return;
        }
        let inspected = self
            .engine()
            .and_then(|e| e.inspect_container(id).ok())
            .and_then(|r| serde_json::to_value(&r).ok());
        let Some(json) = inspected else {
            if self.unknown.len() > MAX_CONTAINERS {
                self.unknown.clear();
            }
            self.unknown
                .insert(id.to_string(), Instant::now() + Duration::from_secs(5));
            return;
        };
        self.unknown.remove(id);
        let full_id = json
            .get("Id")
            .and_then(|v| v.as_str())
            .unwrap_or(id)
            .to_string();
        let (info, pid, running, upper) = container_info(&full_id, &json);
        if self.known.len() >= MAX_CONTAINERS && !self.known.contains_key(&full_id) {
            // Forget stopped containers first.
            let stopped: Vec<String> = self
                .known
                .iter()
                .filter(|(_, k)| !k.running)
                .map(|(id, _)| id.clone())
                .collect();
            for s in stopped {
                self.known.remove(&s);
            }
            if self.known.len() >= MAX_CONTAINERS {
                return;
            }
        }
        let entry = self.known.entry(full_id.clone()).or_insert_with(|| Known {
            info: info.clone(),
            pid,
            running,
            upper: upper.clone(),
            starts: VecDeque::new(),
        });
        let starts = entry.info.recent_starts;
        entry.info = info;
        entry.info.recent_starts = starts;
        entry.pid = pid;
        entry.running = running;
        entry.upper = upper;
        self.sync_targets(&full_id);
    }

    fn sync_targets(&mut self, id: &str) {
        let Some(k) = self.known.get(id) else { return };
        if let Ok(mut t) = self.targets.lock() {
            t.retain(|t| t.id != id);
            if k.running && k.pid > 0 {
                t.push(sampler::Target {
                    id: id.to_string(),
                    pid: k.pid,
                });
            }
        }
        if let Some(w) = &self.watch_tx {
            let _ = w.send(files::WatchRequest {
                container: id.to_string(),
                upper: if k.running { k.upper.clone() } else { None },
            });
        }
    }

    fn container(&mut self, id: &str) -> Option<ContainerInfo> {
        if id.is_empty() {
            return None;
        }
        self.learn(id, false);
        self.known.get(id).map(|k| k.info.clone())
    }

    /// Adds the exec's `Privileged` and `User` (inspected at its creation: the engine
    /// forgets exec instances a while after they end) to its event's attributes.
    fn describe_exec(&mut self, kind: &str, d: &mut DockerEventInfo) {
        let Some(exec_id) = d.attributes.get("execID").cloned() else {
            return;
        };
        let known = match self.execs.get(&exec_id) {
            Some(k) => Some(k.clone()),
            None => self
                .engine()
                .and_then(|e| e.inspect_exec(&exec_id).ok())
                .and_then(|x| x.process_config)
                .map(|p| (p.privileged.unwrap_or(false), p.user.unwrap_or_default())),
        };
        let Some((privileged, user)) = known else {
            return;
        };
        if kind == "exec_create" {
            if self.execs.len() >= MAX_EXECS {
                self.execs.clear();
            }
            self.execs.insert(exec_id, (privileged, user.clone()));
        } else {
            self.execs.remove(&exec_id);
        }
        d.attributes
            .insert(EXEC_PRIVILEGED.to_string(), privileged.to_string());
        d.attributes.insert(EXEC_USER.to_string(), user);
    }

    fn docker_event(&mut self, mut d: DockerEventInfo) -> (RuntimeEvent, Option<String>) {
        let kind = docker::event_type(&d);
        let mut ev = RuntimeEvent {
            time_ns: d.time_nano,
            source: EventSource::Docker,
            kind: kind.clone(),
            ..RuntimeEvent::default()
        };
        let mut cid = None;
        if d.kind == "container" {
            let id = d.actor.clone();
            match kind.as_str() {
                "container_start" => {
                    self.learn(&id, true);
                    if let Some(k) = self.known.get_mut(&id) {
                        let now = Instant::now();
                        k.starts.push_back(now);
                        while k
                            .starts
                            .front()
                            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
                        {
                            k.starts.pop_front();
                        }
                        k.info.recent_starts = u32::try_from(k.starts.len()).unwrap_or(u32::MAX);
                    }
                }
                "container_die" => {
                    if let Some(k) = self.known.get_mut(&id) {
                        k.running = false;
                    }
                    self.sync_targets(&id);
                }
                _ => {}
            }
            let mut info = self.container(&id).unwrap_or_else(|| ContainerInfo {
                id: id.clone(),
                ..ContainerInfo::default()
            });
            if info.name.is_empty() {
                info.name = d.attributes.get("name").cloned().unwrap_or_default();
            }
            if info.image.is_empty() {
                info.image = d.attributes.get("image").cloned().unwrap_or_default();
            }
            if matches!(kind.as_str(), "exec_create" | "exec_start") {
                self.describe_exec(&kind, &mut d);
                let cmd = d
                    .action
                    .split_once(':')
                    .map(|(_, c)| c.trim().to_string())
                    .unwrap_or_default();
                ev.process = Some(ProcessInfo {
                    name: cmd.split_whitespace().next().unwrap_or("").to_string(),
                    cmdline: cmd,
                    ..ProcessInfo::default()
                });
            }
            if kind == "container_destroy" {
                self.known.remove(&id);
            }
            cid = Some(info.id.clone());
            ev.container = Some(info);
        }
        ev.docker = Some(d);
        (ev, cid)
    }

    fn event_of(&mut self, m: Msg) -> Option<(RuntimeEvent, String, Option<String>)> {
        match m {
            Msg::Docker(d) => {
                self.stats.docker_events += 1;
                let key = docker::event_key(&d);
                let (ev, cid) = self.docker_event(d);
                Some((ev, key, cid))
            }
            Msg::Proc(p) => {
                self.stats.proc_events += 1;
                let key = format!("proc:{}:{}:{}", p.ktime, p.process.pid, p.kind);
                // A process of a container this engine does not know (another engine
                // on the host) is not this monitor's business.
                let container = Some(self.container(&p.container)?);
                Some((
                    RuntimeEvent {
                        time_ns: p.time_ns,
                        source: EventSource::Proc,
                        kind: p.kind.to_string(),
                        container,
                        process: Some(p.process),
                        ..RuntimeEvent::default()
                    },
                    key,
                    Some(p.container),
                ))
            }
            Msg::Net(n) => {
                let key = if n.kind == "listen" {
                    format!("net:{}:listen:{}:{}", n.container, n.net.proto, n.net.sport)
                } else {
                    format!(
                        "net:{}:connect:{}:{}:{}:{}:{}",
                        n.container, n.net.proto, n.net.sip, n.net.sport, n.net.dip, n.net.dport
                    )
                };
                let container = self.container(&n.container);
                let process = n.pid.and_then(|p| procinfo::Proc::default().process(p));
                Some((
                    RuntimeEvent {
                        time_ns: n.time_ns,
                        source: EventSource::Net,
                        kind: n.kind.to_string(),
                        container,
                        process,
                        net: Some(n.net),
                        ..RuntimeEvent::default()
                    },
                    key,
                    Some(n.container),
                ))
            }
            Msg::Cgroup(c) => {
                let key = if c.kind == "oom_kill" {
                    format!("cgroup:{}:oom_kill:{}", c.container, c.resource.oom_kills)
                } else {
                    format!("cgroup:{}:{}:{}", c.container, c.kind, c.time_ns)
                };
                let container = self.container(&c.container);
                Some((
                    RuntimeEvent {
                        time_ns: c.time_ns,
                        source: EventSource::Cgroup,
                        kind: c.kind.to_string(),
                        container,
                        resource: Some(c.resource),
                        ..RuntimeEvent::default()
                    },
                    key,
                    Some(c.container),
                ))
            }
            Msg::File(f) => {
                let key = format!("file:{}:{}:{}", f.container, f.file.path, f.time_ns);
                let container = self.container(&f.container);
                Some((
                    RuntimeEvent {
                        time_ns: f.time_ns,
                        source: EventSource::File,
                        kind: "file_write".to_string(),
                        container,
                        file: Some(f.file),
                        ..RuntimeEvent::default()
                    },
                    key,
                    Some(f.container),
                ))
            }
            Msg::Dropped { count, note } => {
                self.stats.dropped += count;
                let t = now_ns();
                Some((
                    RuntimeEvent {
                        time_ns: t,
                        source: EventSource::Monitor,
                        kind: "dropped".to_string(),
                        dropped: Some(count),
                        note: Some(note),
                        ..RuntimeEvent::default()
                    },
                    format!("monitor:dropped:{t}:{count}"),
                    None,
                ))
            }
            Msg::Note { source, note } => {
                let t = now_ns();
                Some((
                    RuntimeEvent {
                        time_ns: t,
                        source: EventSource::Monitor,
                        kind: "source_state".to_string(),
                        note: Some(format!("{source}: {note}")),
                        ..RuntimeEvent::default()
                    },
                    format!("monitor:note:{t}:{source}"),
                    None,
                ))
            }
        }
    }
}

fn event_record(ev: &RuntimeEvent, key: &str, cid: Option<&str>) -> Record {
    let mut r = Record::new(
        "event",
        ev.time_ns,
        serde_json::to_value(ev).unwrap_or(serde_json::Value::Null),
    )
    .key(key);
    if let Some(c) = cid {
        r = r.container(c);
    }
    r
}

fn alert_record(a: &Alert, key: &str) -> Record {
    let mut r = Record::new(
        "alert",
        a.time_ns,
        serde_json::to_value(a).unwrap_or(serde_json::Value::Null),
    )
    .rule(&a.rule)
    .severity(a.severity.as_str())
    .key(&format!("alert:{}:{key}", a.rule));
    if let Some(c) = &a.container {
        r = r.container(&c.id);
    }
    r
}

/// The nice value of the monitor's threads (set on the calling thread, inherited by the
/// source threads it starts): a security monitor must keep up with the workload it
/// watches even when that workload keeps every core busy, or the kernel drops process
/// events. Needs root (which the monitor needs anyway); ignored without.
pub const MONITOR_NICE: i32 = -10;

/// Runs the monitor until `stop` is set or the duration passes; returns the counts.
pub fn run(
    opts: &Options,
    rules: &rules::RuleSet,
    sinks: &mut [Box<dyn AlertSink>],
    stop: Arc<AtomicBool>,
) -> Result<Stats, MonitorError> {
    let _ = rustix::process::setpriority_process(None, MONITOR_NICE);
    let mut store = Store::open(&opts.store)?;
    let mut log = match &opts.log {
        Some(p) => Some(JsonlLog::open(p, opts.rotation)?),
        None => None,
    };
    let cursor: Option<i64> = store.cursor(DOCKER_CURSOR)?.and_then(|c| c.parse().ok());
    let (tx, rx): (SyncSender<Msg>, Receiver<Msg>) = std::sync::mpsc::sync_channel(QUEUE);
    let lost = Arc::new(AtomicU64::new(0));
    let sender = Sender {
        tx,
        lost: Arc::clone(&lost),
    };
    let targets = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    let src_stop = Arc::new(AtomicBool::new(false));

    if opts.sources.proc {
        let (s, st) = (sender.clone(), Arc::clone(&src_stop));
        threads.push(std::thread::spawn(move || procconn::run(s, st)));
    }
    let mut watch_tx = None;
    if opts.sources.files {
        let (wtx, wrx) = std::sync::mpsc::channel();
        watch_tx = Some(wtx);
        let (s, st) = (sender.clone(), Arc::clone(&src_stop));
        threads.push(std::thread::spawn(move || files::run(wrx, s, st)));
    }
    if opts.sources.net || opts.sources.cgroup {
        let (s, st, t, iv) = (
            sender.clone(),
            Arc::clone(&src_stop),
            Arc::clone(&targets),
            opts.sample_interval,
        );
        threads.push(std::thread::spawn(move || sampler::run(t, iv, s, st)));
    }
    let mut pipe = Pipeline {
        opts,
        rules,
        engine: None,
        engine_retry: None,
        known: HashMap::new(),
        unknown: HashMap::new(),
        targets,
        watch_tx,
        stats: Stats::default(),
        execs: HashMap::new(),
    };
    // The containers running now.
    if let Some(list) = pipe.engine().and_then(|e| e.containers().ok()) {
        for c in list {
            if c.state
                .as_ref()
                .map(|s| format!("{s:?}").to_ascii_lowercase())
                .is_some_and(|s| s.contains("running"))
                && let Some(id) = &c.id
            {
                pipe.learn(id, true);
            }
        }
    }
    if opts.sources.docker {
        let (s, st, host) = (sender.clone(), Arc::clone(&src_stop), opts.host.clone());
        // Detached: it may sit in a blocking read of the engine's socket when the
        // monitor stops; the process exit ends it.
        std::thread::spawn(move || docker_source(&host, cursor, s, st));
    }
    drop(sender);

    let started = Instant::now();
    let deadline = opts.duration.map(|d| started + d);
    let mut reported_lost = 0u64;
    let mut pending: Vec<Msg> = Vec::new();
    let mut window_start = Instant::now();
    loop {
        let now = Instant::now();
        let done = stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| now >= d);
        let wait = opts
            .batch_interval
            .saturating_sub(now.duration_since(window_start))
            .max(Duration::from_millis(1));
        let mut flush = done;
        if !done {
            match rx.recv_timeout(wait) {
                Ok(m) => {
                    pending.push(m);
                    while pending.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(m) => pending.push(m),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => flush = true,
            }
            if pending.len() >= MAX_BATCH || window_start.elapsed() >= opts.batch_interval {
                flush = true;
            }
        } else {
            while let Ok(m) = rx.try_recv() {
                pending.push(m);
            }
        }
        let lost_now = lost.load(Ordering::Relaxed);
        if lost_now > reported_lost {
            pending.push(Msg::Dropped {
                count: lost_now - reported_lost,
                note: "monitor queue full (events lost between a source and the store)".into(),
            });
            reported_lost = lost_now;
        }
        if flush && !pending.is_empty() {
            write_batch(
                &mut pipe,
                &mut store,
                log.as_mut(),
                sinks,
                std::mem::take(&mut pending),
            )?;
        }
        if flush {
            window_start = Instant::now();
        }
        if done {
            break;
        }
    }
    src_stop.store(true, Ordering::Relaxed);
    for s in sinks.iter_mut() {
        s.close();
    }
    // Source threads notice the stop flag within one poll; the proc connector may wait
    // for one more process event, so they are not joined.
    drop(threads);
    Ok(pipe.stats)
}

fn write_batch(
    pipe: &mut Pipeline<'_>,
    store: &mut Store,
    log: Option<&mut JsonlLog>,
    sinks: &mut [Box<dyn AlertSink>],
    msgs: Vec<Msg>,
) -> Result<(), MonitorError> {
    let mut records = Vec::with_capacity(msgs.len());
    let mut alerts: Vec<(Alert, String)> = Vec::new();
    let mut cursor: Option<i64> = None;
    for m in msgs {
        if let Msg::Docker(d) = &m {
            cursor = Some(cursor.map_or(d.time_nano, |c: i64| c.max(d.time_nano)));
        }
        let Some((ev, key, cid)) = pipe.event_of(m) else {
            continue;
        };
        let matches = pipe.rules.evaluate(&ev);
        let keep =
            pipe.opts.store_proc_events || ev.source != EventSource::Proc || !matches.is_empty();
        if keep {
            records.push(event_record(&ev, &key, cid.as_deref()));
        }
        for m in matches {
            let a = Alert {
                time_ns: ev.time_ns,
                rule: m.rule,
                severity: m.severity,
                output: m.output,
                container: ev.container.clone(),
                process: ev.process.clone(),
                evidence: ev.clone(),
                tags: m.tags,
                action: m.action,
            };
            records.push(alert_record(&a, &key));
            alerts.push((a, key.clone()));
        }
    }
    let cursor_text = cursor.map(|c| c.to_string());
    let cursors: Vec<(&str, &str)> = cursor_text
        .as_deref()
        .map(|c| vec![(DOCKER_CURSOR, c)])
        .unwrap_or_default();
    let out = store.append(&records, &cursors)?;
    pipe.stats.duplicates += out.duplicates as u64;
    for r in &out.inserted {
        if r.kind == "alert" {
            pipe.stats.alerts += 1;
        } else {
            pipe.stats.events += 1;
        }
    }
    if let Some(log) = log {
        log.append(&out.inserted)?;
    }
    // Alerts that were new in the store (a replayed engine event raises nothing twice).
    let new_keys: std::collections::HashSet<&str> = out
        .inserted
        .iter()
        .filter(|r| r.kind == "alert")
        .filter_map(|r| r.key.as_deref())
        .collect();
    for (a, key) in &alerts {
        if !new_keys.contains(format!("alert:{}:{key}", a.rule).as_str()) {
            continue;
        }
        for s in sinks.iter_mut() {
            if s.send(a).is_err() {
                pipe.stats.sink_errors += 1;
            }
        }
    }
    Ok(())
}

/// Reads the engine's events from `cursor` on, reconnecting with backoff (100 ms doubling
/// to 5 s) whenever the stream ends or fails.
fn docker_source(host: &str, cursor: Option<i64>, tx: Sender, stop: Arc<AtomicBool>) {
    // Without a stored cursor the stream starts now; from then on it resumes from the
    // last event read.
    let mut since = Some(cursor.unwrap_or_else(now_ns));
    let mut backoff = Duration::from_millis(100);
    let mut connected_once = false;
    let mut announced_down = false;
    while !stop.load(Ordering::Relaxed) {
        match docker::EventStream::open(host, since, None) {
            Ok(mut stream) => {
                backoff = Duration::from_millis(100);
                if connected_once || announced_down {
                    tx.note("docker", "event stream reconnected");
                }
                connected_once = true;
                announced_down = false;
                loop {
                    match stream.next_event() {
                        Ok(Some(ev)) => {
                            since = Some(ev.time_nano);
                            if !tx.send_wait(Msg::Docker(ev)) {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            tx.note("docker", &format!("event stream failed: {e}"));
                            break;
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                }
            }
            Err(e) => {
                if !announced_down {
                    tx.note(
                        "docker",
                        &format!("event stream unavailable, retrying: {e}"),
                    );
                    announced_down = true;
                }
            }
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
