//! Incident response for Docker containers (`moat respond`, docs/respond.md).
//!
//! A [`Responder`] carries out one [`ActionKind`] on a container through the Engine API
//! ([`api::Api`], over moat-engine's bounded client): isolate it on a quarantine network
//! of its own (or pause it when its network cannot be detached) and release it back
//! exactly, pause, unpause, stop, kill, or snapshot it into an evidence bundle with a
//! hash-chained manifest ([`bundle`]). Every action, whatever its outcome, becomes one
//! [`ActionRecord`] appended to an [`ActionLog`] (JSON lines by default; the durable store
//! of `moat monitor` plugs in through the same trait).
//!
//! The image scan and remediation plan of a snapshot come through [`ImageScanner`],
//! which the binary implements with moat-scan (a peer crate at this layer).

#![forbid(unsafe_code)]

pub mod api;
pub mod bundle;
mod contain;
mod error;
pub mod log;
pub mod procs;
mod snapshot;
pub mod state;

pub use api::{Api, RawApi};
pub use error::RespondError;
pub use log::{ActionLog, JsonlLog, StoreLog, TeeLog};
pub use snapshot::{ImageScan, ImageScanner, SnapshotOptions};

use moat_model::response::{
    ActionKind, ActionRecord, ActionSource, ContainerRef, ContainerState, Outcome, RESPONSE_SCHEMA,
    Step,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// moat's version, as recorded in every record and manifest.
pub const MOAT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Characters of a `--reason`.
pub const MAX_REASON_CHARS: usize = 4096;

/// How actions are carried out and recorded.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where isolation records (`state/`) and snapshots (`snapshots/`) are kept.
    pub evidence_dir: PathBuf,
    pub reason: Option<String>,
    /// Plan only: every step is listed as `planned`, nothing is changed or written
    /// (the record is still logged, with `dry_run: true`).
    pub dry_run: bool,
    /// Who acts (see [`operator`]).
    pub operator: String,
    /// This machine's name (see [`hostname`]).
    pub host_name: String,
    pub source: ActionSource,
    pub snapshot: SnapshotOptions,
}

impl Options {
    /// Options with the operator and host of this process.
    pub fn new(evidence_dir: PathBuf) -> Options {
        Options {
            evidence_dir,
            reason: None,
            dry_run: false,
            operator: operator(),
            host_name: hostname(),
            source: ActionSource::Cli,
            snapshot: SnapshotOptions::default(),
        }
    }
}

/// Carries out actions on one engine and logs each one.
pub struct Responder<'a> {
    api: &'a dyn Api,
    log: &'a dyn ActionLog,
    scanner: Option<&'a dyn ImageScanner>,
    opts: Options,
}

/// The outcome of [`Responder::run`]: the record, and whether it reached the log.
#[derive(Debug)]
pub struct Ran {
    pub record: ActionRecord,
    /// `Err` when the action log refused the record (the action itself is in `record`).
    pub logged: Result<(), RespondError>,
}

impl<'a> Responder<'a> {
    pub fn new(api: &'a dyn Api, log: &'a dyn ActionLog, opts: Options) -> Responder<'a> {
        Responder {
            api,
            log,
            scanner: None,
            opts,
        }
    }

    /// Scans the image of a snapshot for its remediation plan.
    pub fn with_scanner(mut self, scanner: &'a dyn ImageScanner) -> Responder<'a> {
        self.scanner = Some(scanner);
        self
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Carries out `action` on `container` (an id or name) and logs the record, whatever
    /// the outcome: a failed step leaves `outcome: failed`, the error, and a note with the
    /// state the container is in now.
    pub fn run(&self, action: ActionKind, container: &str) -> Ran {
        let mut rec = ActionRecord {
            schema: RESPONSE_SCHEMA,
            id: record_id(),
            action,
            container: ContainerRef {
                id: container.to_string(),
                name: container.to_string(),
                ..ContainerRef::default()
            },
            operator: self.opts.operator.clone(),
            host: self.opts.host_name.clone(),
            engine: self.api.host().to_string(),
            moat_version: MOAT_VERSION.to_string(),
            source: self.opts.source.clone(),
            started: now_rfc3339(),
            finished: String::new(),
            reason: self.opts.reason.clone(),
            dry_run: self.opts.dry_run,
            before: None,
            after: None,
            outcome: Outcome::Done,
            steps: Vec::new(),
            notes: Vec::new(),
            error: None,
            evidence: None,
        };
        let result = state::inspect(self.api, container).and_then(|c| {
            rec.container = c.container.clone();
            rec.before = Some(c.state.clone());
            match action {
                ActionKind::Isolate => self.isolate(&mut rec, &c),
                ActionKind::Release => self.release(&mut rec, &c),
                ActionKind::Pause | ActionKind::Unpause | ActionKind::Stop | ActionKind::Kill => {
                    self.lifecycle(&mut rec, &c)
                }
                ActionKind::Snapshot => self.snapshot(&mut rec, &c),
            }
        });
        if let Err(e) = result {
            rec.outcome = Outcome::Failed;
            rec.error = Some(e.to_string());
            if rec.before.is_some() && !self.opts.dry_run {
                match state::inspect(self.api, &rec.container.id) {
                    Ok(now) => {
                        rec.notes
                            .push(format!("state now: {}", describe(&now.state)));
                        rec.after = Some(now.state);
                    }
                    Err(e2) => rec
                        .notes
                        .push(format!("state now: unknown (inspect failed: {e2})")),
                }
            }
        } else if self.opts.dry_run && rec.outcome == Outcome::Done {
            rec.outcome = Outcome::Planned;
        }
        rec.finished = now_rfc3339();
        let logged = self.log.append(&rec);
        Ran {
            record: rec,
            logged,
        }
    }

    /// Runs `f` as a step named `description`, or lists it as planned in a dry run.
    fn act(
        &self,
        rec: &mut ActionRecord,
        description: String,
        f: impl FnOnce() -> Result<(), RespondError>,
    ) -> Result<(), RespondError> {
        if self.opts.dry_run {
            rec.steps.push(Step {
                description,
                result: "planned".into(),
            });
            return Ok(());
        }
        match f() {
            Ok(()) => {
                rec.steps.push(Step {
                    description,
                    result: "ok".into(),
                });
                Ok(())
            }
            Err(e) => {
                rec.steps.push(Step {
                    description,
                    result: format!("failed: {e}"),
                });
                Err(e)
            }
        }
    }
}

/// A container's state in one line: `status running, networks front (10.1.0.2), back`.
pub fn describe(s: &ContainerState) -> String {
    let nets: Vec<String> = s
        .networks
        .iter()
        .map(|(n, e)| {
            if e.ipv4.is_empty() {
                n.clone()
            } else {
                format!("{n} ({})", e.ipv4)
            }
        })
        .collect();
    format!(
        "status {}, network mode {}, networks: {}",
        if s.status.is_empty() { "?" } else { &s.status },
        if s.network_mode.is_empty() {
            "?"
        } else {
            &s.network_mode
        },
        if nets.is_empty() {
            "none".to_string()
        } else {
            nets.join(", ")
        }
    )
}

/// Now, RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A record id unique on this host: `rsp-<unix nanos>-<pid>-<n>`.
pub fn record_id() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!(
        "rsp-{nanos}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Who is acting: `$SUDO_USER` (the person behind sudo), else `$USER`, else `uid N`.
pub fn operator() -> String {
    for v in ["SUDO_USER", "USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(v)
            && !u.trim().is_empty()
        {
            return moat_model::escape_control(u.trim()).into_owned();
        }
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_else(|| "?".into());
    format!("uid {uid}")
}

/// This machine's host name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// What `moat monitor --respond` does for an alert whose rule names an `action:`:
/// carries it out on the container (`enforce`), or logs it as a plan (`dry_run`, the
/// default of `--respond`), the record naming the rule and the alert. The reason is
/// the rule and the alert's title.
#[allow(clippy::too_many_arguments)]
pub fn respond_to_alert(
    api: &dyn Api,
    log: &dyn ActionLog,
    mut opts: Options,
    action: ActionKind,
    container: &str,
    rule: &str,
    alert: Option<&str>,
    title: &str,
    enforce: bool,
) -> Ran {
    opts.dry_run = !enforce;
    opts.source = ActionSource::Monitor {
        rule: rule.to_string(),
        alert: alert.map(str::to_string),
    };
    opts.reason = Some(format!("monitor rule {rule}: {title}"));
    Responder::new(api, log, opts).run(action, container)
}
