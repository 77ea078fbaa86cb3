//! `moat respond ACTION CONTAINER…` and `moat respond verify BUNDLE` (docs/respond.md):
//! contain a compromised container (isolate, release, pause, unpause, stop, kill), keep
//! the evidence (snapshot), check a bundle. Exit 0 when every action is done (or had
//! nothing to do, or was only planned), 2 when one failed or could not be logged;
//! `verify` exits 0 for an intact bundle, 1 for a changed one, 2 when it cannot be read.

use crate::Global;
use anyhow::Context;
use moat_model::response::{ActionKind, RespondReport};
use moat_report::Format;
use moat_respond::ActionLog;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// The actions, and `verify`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Move the container to a quarantine network of its own (pause it when its network
    /// cannot be detached); it keeps running.
    Isolate,
    /// Undo `isolate`: the same networks, aliases and (where the engine allows) addresses.
    Release,
    Pause,
    Unpause,
    Stop,
    Kill,
    /// Write an evidence bundle (tar.gz with a hash-chained manifest).
    Snapshot,
    /// Check an evidence bundle: any changed, added or removed byte fails it.
    Verify,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// isolate, release, pause, unpause, stop, kill, snapshot, or verify.
    #[arg(value_enum, value_name = "ACTION")]
    pub action: Action,
    /// Containers (ids or names); for `verify`, the bundle.
    #[arg(value_name = "CONTAINER", required = true)]
    pub targets: Vec<String>,
    /// Why (recorded with the action and in a snapshot's manifest).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Where isolation records and snapshots are kept (default: <cache>/respond).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Option<PathBuf>,
    /// Print the plan; change nothing (the plan is still logged, marked as a dry run).
    #[arg(long)]
    pub dry_run: bool,
    /// The Docker engine (default: $DOCKER_HOST, else unix:///var/run/docker.sock).
    #[arg(long, value_name = "SOCK")]
    pub host: Option<String>,
    #[arg(long, short = 'f', default_value = "table",
          value_parser = super::formats(&[Format::Table, Format::Json]))]
    pub format: Format,
    /// The action log (JSON lines; default: <evidence-dir>/actions.jsonl).
    #[arg(long, value_name = "FILE.jsonl")]
    pub log: Option<PathBuf>,
    /// The durable store of `moat monitor`, where every action is also recorded (kind
    /// `action`; default: <cache>/monitor/store.db).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// snapshot: also `docker commit` the container and put it in the bundle as a
    /// docker-archive.
    #[arg(long)]
    pub commit: bool,
    /// snapshot: do not scan the image for the remediation plan.
    #[arg(long)]
    pub no_scan: bool,
    /// snapshot: read a running container without pausing it.
    #[arg(long)]
    pub no_pause: bool,
    /// snapshot: write the bundle here (one container only).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// snapshot: copy changed files up to this size each (bytes, or K/M/G).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size)]
    pub max_file_size: Option<u64>,
    /// snapshot: keep at most this much of the logs.
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size)]
    pub max_log_size: Option<u64>,
}

/// The image scan of a snapshot, through moat-scan.
struct Scanner<'a> {
    global: &'a Global,
}

impl moat_respond::ImageScanner for Scanner<'_> {
    fn scan(
        &self,
        image_id: &str,
        engine_host: &str,
    ) -> Result<moat_respond::ImageScan, moat_respond::RespondError> {
        let err = |e: &dyn std::fmt::Display| moat_respond::RespondError::Scan {
            image: image_id.to_string(),
            message: e.to_string(),
        };
        let mut image = moat_image::OpenOptions::new(self.global.cache_dir());
        image.docker_host = Some(engine_host.to_string());
        let opts = moat_scan::ScanOptions {
            image,
            scanners: moat_scan::Scanners {
                vuln: true,
                misconfig: true,
            },
            db_path: self.global.db_path(),
            severities: None,
            ignore_unfixed: false,
            ignore_file: None,
            vex: Vec::new(),
            max_db_age_days: 7,
            use_cache: true,
            now: time::OffsetDateTime::now_utc(),
            offline: false,
            catalog_limits: moat_catalog::Limits::default(),
        };
        let out = moat_scan::scan(&format!("docker:{image_id}"), &opts).map_err(|e| err(&e))?;
        let r = &out.report;
        let report_json = serde_json::to_vec_pretty(r).map_err(|e| err(&e))?;
        let remediation_json = serde_json::to_vec_pretty(&r.remediations).map_err(|e| err(&e))?;
        let fixable = r
            .remediations
            .iter()
            .filter(|m| m.fixed_version.is_some())
            .count();
        Ok(moat_respond::ImageScan {
            report_json,
            remediation_json,
            summary: format!(
                "{} packages, {} vulnerabilities; {} packages to upgrade ({fixable} with a fix)",
                r.packages.len(),
                r.vulnerabilities.len(),
                r.remediations.len()
            ),
        })
    }
}

fn kind(a: Action) -> Option<ActionKind> {
    Some(match a {
        Action::Isolate => ActionKind::Isolate,
        Action::Release => ActionKind::Release,
        Action::Pause => ActionKind::Pause,
        Action::Unpause => ActionKind::Unpause,
        Action::Stop => ActionKind::Stop,
        Action::Kill => ActionKind::Kill,
        Action::Snapshot => ActionKind::Snapshot,
        Action::Verify => return None,
    })
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let Some(action) = kind(args.action) else {
        let [bundle] = args.targets.as_slice() else {
            anyhow::bail!("respond verify takes one bundle");
        };
        let bundle = std::path::Path::new(bundle);
        // The hash recorded when the bundle was written, from the action log.
        let log_path = args.log.clone().unwrap_or_else(|| {
            args.evidence_dir
                .clone()
                .unwrap_or_else(|| global.cache_dir().join("respond"))
                .join("actions.jsonl")
        });
        let recorded = moat_respond::log::recorded_sha256(&log_path, bundle)?;
        let check = moat_respond::bundle::verify_against(
            bundle,
            moat_respond::bundle::VerifyLimits::default(),
            recorded.as_deref(),
        )?;
        match args.format {
            Format::Json => moat_report::respond::verify_json(&check, &mut out)?,
            _ => moat_report::respond::verify_table(&check, &mut out)?,
        }
        out.flush().context("writing the report")?;
        return Ok(if check.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    };
    if let Some(r) = &args.reason
        && r.chars().count() > moat_respond::MAX_REASON_CHARS
    {
        anyhow::bail!(
            "--reason is longer than {} characters",
            moat_respond::MAX_REASON_CHARS
        );
    }
    if args.output.is_some() && (action != ActionKind::Snapshot || args.targets.len() != 1) {
        anyhow::bail!("--output takes one container to snapshot");
    }
    let evidence_dir = args
        .evidence_dir
        .clone()
        .unwrap_or_else(|| global.cache_dir().join("respond"));
    let log_path = args
        .log
        .clone()
        .unwrap_or_else(|| evidence_dir.join("actions.jsonl"));
    let host = args.host.clone().unwrap_or_else(moat_engine::default_host);
    let api = moat_respond::RawApi::connect(&host)?;
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| global.cache_dir().join("monitor").join("store.db"));
    let log = moat_respond::TeeLog::new(vec![
        Box::new(moat_respond::JsonlLog::open(&log_path)?),
        Box::new(moat_respond::StoreLog::open(&store)?),
    ]);
    let mut opts = moat_respond::Options::new(evidence_dir);
    opts.reason = args.reason.clone();
    opts.dry_run = args.dry_run;
    opts.snapshot.commit = args.commit;
    opts.snapshot.scan = !args.no_scan;
    opts.snapshot.pause = !args.no_pause;
    opts.snapshot.output = args.output.clone();
    if let Some(n) = args.max_file_size {
        opts.snapshot.max_file_bytes = n;
    }
    if let Some(n) = args.max_log_size {
        opts.snapshot.max_log_bytes = n;
    }
    let scanner = Scanner { global };
    let responder = moat_respond::Responder::new(&api, &log, opts).with_scanner(&scanner);
    let mut report = RespondReport {
        actions: Vec::new(),
        log: log.location(),
    };
    let mut log_errors = Vec::new();
    for t in &args.targets {
        let ran = responder.run(action, t);
        if let Err(e) = ran.logged {
            log_errors.push(e.to_string());
        }
        report.actions.push(ran.record);
    }
    match args.format {
        Format::Json => moat_report::respond::json(&report, &mut out)?,
        _ => moat_report::respond::table(&report, &mut out)?,
    }
    out.flush().context("writing the report")?;
    if let Some(e) = log_errors.first() {
        anyhow::bail!("the action was carried out but not logged: {e}");
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
