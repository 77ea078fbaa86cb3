//! `moat monitor`: watch containers (engine events, process executions, sockets, cgroups,
//! writes in writable layers), raise alerts on rules, keep everything in a durable store.
//! `moat monitor query` reads the store; `moat monitor rules` lists or validates rules.
//!
//! Exit codes: the monitor exits 0 when it raised no alert, 1 when it did (with
//! `--duration`), 2 on error; `query` 0 (2 on error); `rules --validate` 0 when the file is
//! valid, 1 when it is not (the error names file and line).

use crate::Global;
use anyhow::{Context, bail};
use moat_model::runtime::QueryRow;
use moat_monitor::output::{
    LineFormat, OutputError, SyslogSink, SyslogTarget, WebhookOptions, WebhookSink, WriterSink,
};
use moat_monitor::rules::RuleSet;
use moat_monitor::{AlertSink, Options};
use moat_report::monitor::{RuleRow, query_json, query_table, rules_table};
use moat_store::{Query, Store, parse_time_arg};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub sub: Option<Sub>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Read the store: events and alerts by time, container, rule, severity.
    Query(QueryArgs),
    /// List the rules in force, or validate a rules file.
    Rules(RulesArgs),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The engine: unix:///PATH or tcp://HOST:PORT (default: $DOCKER_HOST, else unix:///var/run/docker.sock).
    #[arg(long, short = 'H', value_name = "SOCK")]
    pub host: Option<String>,
    /// More rules files (YAML), read after the default rules; a rule of the same name replaces one.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// Leave the default rules out.
    #[arg(long)]
    pub no_default_rules: bool,
    /// Also append every stored record to this JSONL file (rotated by size and age).
    #[arg(long, value_name = "FILE.jsonl")]
    pub log: Option<PathBuf>,
    /// Rotate the JSONL log at this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub log_max_mib: u64,
    /// Rotate the JSONL log after this many hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub log_max_hours: u64,
    /// The SQLite store (default: <cache>/monitor/store.db).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Where alerts go: stdout (text), jsonl (JSON lines on stdout), syslog or
    /// syslog=udp://HOST:PORT|unix:///PATH (RFC 5424; default unix:///dev/log),
    /// webhook=URL. Repeatable.
    #[arg(long, value_name = "OUTPUT", default_value = "stdout")]
    pub output: Vec<String>,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Sockets and cgroups are sampled this often (milliseconds).
    #[arg(long, value_name = "MS", default_value_t = 250)]
    pub sample_ms: u64,
    /// Store only the process executions that raise an alert (saves space under heavy load).
    #[arg(long)]
    pub alerts_only_proc: bool,
    /// Leave a source out: docker, proc, net, cgroup, files (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SOURCES")]
    pub without: Vec<String>,
    /// Carry out the `action:` of rules that raise an alert (isolate, pause, stop, kill,
    /// snapshot the container): `--respond` alone or `--respond=dry-run` only logs the
    /// plan; `--respond=enforce` acts. Every action is logged in the store (kind `action`).
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true,
          default_missing_value = "dry-run", value_parser = ["dry-run", "enforce"])]
    pub respond: Option<String>,
    /// Where `--respond` keeps isolation records and snapshots (default: <cache>/respond,
    /// as `moat respond`).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
}

/// Carries out the `action:` of an alert's rule on its container (`--respond`).
struct RespondSink {
    api: moat_respond::RawApi,
    log: moat_respond::StoreLog,
    opts: moat_respond::Options,
    enforce: bool,
}

impl AlertSink for RespondSink {
    fn name(&self) -> String {
        format!(
            "respond ({})",
            if self.enforce { "enforce" } else { "dry run" }
        )
    }

    fn send(&mut self, alert: &moat_model::runtime::Alert) -> Result<(), OutputError> {
        let (Some(action), Some(c)) = (alert.action, &alert.container) else {
            return Ok(());
        };
        let ran = moat_respond::respond_to_alert(
            &self.api,
            &self.log,
            self.opts.clone(),
            action,
            &c.id,
            &alert.rule,
            None,
            &alert.output,
            self.enforce,
        );
        let r = &ran.record;
        eprintln!(
            "moat monitor: {} {}{}: {:?}{}",
            action.as_str(),
            moat_model::escape_control(if c.name.is_empty() { &c.id } else { &c.name }),
            if r.dry_run { " (dry run)" } else { "" },
            r.outcome,
            r.error
                .as_deref()
                .map(|e| format!(" ({})", moat_model::escape_control(e)))
                .unwrap_or_default()
        );
        match ran.logged {
            Ok(()) => Ok(()),
            Err(e) => Err(OutputError::Io {
                sink: self.name(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    /// The SQLite store (default: <cache>/monitor/store.db).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// From this time on (RFC 3339 or unix seconds).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Up to this time (RFC 3339 or unix seconds).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Container id, id prefix or name.
    #[arg(long, value_name = "X")]
    pub container: Option<String>,
    /// Rule name.
    #[arg(long, value_name = "R")]
    pub rule: Option<String>,
    /// Alerts of this severity or higher (LOW, MEDIUM, HIGH, CRITICAL).
    #[arg(long, value_name = "S")]
    pub severity: Option<moat_model::Severity>,
    /// Only this kind of record: event or alert.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only events of this type (`evt.type`: execve, connect, exec_create…).
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// At most this many records.
    #[arg(long, value_name = "N", default_value_t = moat_store::DEFAULT_QUERY_LIMIT)]
    pub limit: usize,
    /// table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// Validate this rules file (with the default rules before it) instead of listing.
    #[arg(long, value_name = "FILE")]
    pub validate: Option<PathBuf>,
    /// table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

fn default_store(global: &Global) -> PathBuf {
    global.cache_dir().join("monitor").join("store.db")
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.sub {
        Some(Sub::Query(q)) => query(global, q),
        Some(Sub::Rules(r)) => rules(r),
        None => monitor(global, args.run),
    }
}

fn sink(spec: &str) -> anyhow::Result<Box<dyn AlertSink>> {
    let (kind, arg) = match spec.split_once('=') {
        Some((k, a)) => (k, Some(a)),
        None => (spec, None),
    };
    Ok(match (kind, arg) {
        ("stdout", None) => Box::new(WriterSink::new(
            "stdout",
            Box::new(std::io::stdout()),
            LineFormat::Text,
        )),
        ("jsonl", None) => Box::new(WriterSink::new(
            "jsonl",
            Box::new(std::io::stdout()),
            LineFormat::Json,
        )),
        ("syslog", target) => {
            let t = SyslogTarget::parse(target.unwrap_or("unix:///dev/log"))
                .map_err(anyhow::Error::msg)?;
            Box::new(SyslogSink::new(t).map_err(anyhow::Error::msg)?)
        }
        ("webhook", Some(url)) => {
            Box::new(WebhookSink::new(url, WebhookOptions::default()).map_err(anyhow::Error::msg)?)
        }
        _ => bail!(
            "--output {spec:?}: expected stdout, jsonl, syslog, syslog=udp://HOST:PORT, syslog=unix:///PATH or webhook=URL"
        ),
    })
}

fn monitor(global: &Global, a: RunArgs) -> anyhow::Result<ExitCode> {
    let host = a.host.clone().unwrap_or_else(moat_engine_host);
    let rules = RuleSet::load(&a.rules, !a.no_default_rules)?;
    let store = a.store.clone().unwrap_or_else(|| default_store(global));
    let mut opts = Options::new(&host, store);
    opts.log = a.log.clone();
    opts.rotation = moat_store::Rotation {
        max_bytes: a.log_max_mib.max(1) << 20,
        max_age: Duration::from_secs(a.log_max_hours.max(1) * 3600),
        ..moat_store::Rotation::default()
    };
    if let Some(d) = a.duration {
        if !(d.is_finite() && d > 0.0 && d <= 1e9) {
            bail!("--duration {d}: expected a positive number of seconds");
        }
        opts.duration = Some(Duration::from_secs_f64(d));
    }
    if !(10..=60_000).contains(&a.sample_ms) {
        bail!("--sample-ms {}: expected 10 to 60000", a.sample_ms);
    }
    opts.sample_interval = Duration::from_millis(a.sample_ms);
    opts.store_proc_events = !a.alerts_only_proc;
    for s in &a.without {
        match s.as_str() {
            "docker" => opts.sources.docker = false,
            "proc" => opts.sources.proc = false,
            "net" => opts.sources.net = false,
            "cgroup" => opts.sources.cgroup = false,
            "files" => opts.sources.files = false,
            other => bail!("--without {other:?}: expected docker, proc, net, cgroup or files"),
        }
    }
    let mut sinks = Vec::new();
    for o in &a.output {
        sinks.push(sink(o)?);
    }
    if let Some(mode) = &a.respond {
        let evidence_dir = a
            .evidence_dir
            .clone()
            .unwrap_or_else(|| global.cache_dir().join("respond"));
        sinks.push(Box::new(RespondSink {
            api: moat_respond::RawApi::connect(&host)?,
            log: moat_respond::StoreLog::open(&opts.store)?,
            opts: moat_respond::Options::new(evidence_dir),
            enforce: mode == "enforce",
        }));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stats = moat_monitor::run(&opts, &rules, &mut sinks, stop)
        .with_context(|| format!("monitor {}", opts.store.display()))?;
    eprintln!(
        "moat monitor: {} events stored ({} engine, {} process), {} alerts, {} events dropped, {} duplicates skipped",
        stats.events,
        stats.docker_events,
        stats.proc_events,
        stats.alerts,
        stats.dropped,
        stats.duplicates
    );
    Ok(if stats.alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn moat_engine_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

fn query(global: &Global, q: QueryArgs) -> anyhow::Result<ExitCode> {
    let path = q.store.clone().unwrap_or_else(|| default_store(global));
    let store = Store::open_existing(&path)?;
    let time = |s: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
        s.as_deref()
            .map(|t| parse_time_arg(t).with_context(|| format!("--{flag}")))
            .transpose()
    };
    let query = Query {
        since_ns: time(&q.since, "since")?,
        until_ns: time(&q.until, "until")?,
        container: q.container.clone(),
        rule: q.rule.clone(),
        severity: q.severity.map(|s| s.as_str().to_string()),
        kind: q.kind.clone(),
        event_type: q.event_type.clone(),
        after_seq: None,
        limit: Some(q.limit),
    };
    let rows: Vec<QueryRow> = store
        .query(&query)?
        .into_iter()
        .map(|r| QueryRow {
            seq: r.seq,
            time_ns: r.time_ns,
            kind: r.kind,
            container: r.container,
            rule: r.rule,
            severity: r.severity,
            body: r.body,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if q.format == "json" {
        query_json(&rows, &mut out)?;
    } else {
        query_table(&rows, &mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn rules(r: RulesArgs) -> anyhow::Result<ExitCode> {
    let set = match &r.validate {
        Some(f) => match RuleSet::load(std::slice::from_ref(f), true) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "moat: invalid rules: {}",
                    moat_model::escape_control(&e.to_string())
                );
                return Ok(ExitCode::from(1));
            }
        },
        None => RuleSet::default_rules()?,
    };
    let rows: Vec<RuleRow> = set
        .summaries()
        .into_iter()
        .map(|s| RuleRow {
            name: s.name,
            severity: s.severity,
            desc: s.desc,
            condition: s.condition,
            tags: s.tags,
            origin: s.origin,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if r.format == "json" {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        rules_table(&rows, &mut out)?;
        if let Some(f) = &r.validate {
            writeln!(
                out,
                "{}: valid",
                moat_model::escape_control(&f.display().to_string())
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
