//! `moat network [COMPOSE_FILE…] [--host SOCK] [--policy FILE] [--probe] [--store PATH]
//! [--format table|json|sarif|dot|mermaid|html] [--fail-on SEV]`: which containers can
//! reach which, against a segmentation policy, measured for real with `--probe`, and
//! what `moat monitor` observed with `--store`.
//!
//! With compose files only: the planned deployment (several files merged like
//! `docker compose -f a -f b`), no daemon. With `--host` (or no
//! compose file): the live engine. Exit codes: 0 clean; 1 when the policy fails, when a
//! finding reaches `--fail-on`, or when the probe disagrees with the model; 2 on errors.

use crate::Global;
use anyhow::Context;
use moat_model::Severity;
use moat_netseg::moat_engine::{self, DockerEngine};
use moat_report::Format;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const FORMATS: &[Format] = &[
    Format::Table,
    Format::Json,
    Format::Sarif,
    Format::Dot,
    Format::Mermaid,
    Format::Html,
];

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Compose files of the planned deployment (no daemon needed); several are merged
    /// in order like `docker compose -f a -f b`.
    #[arg(value_name = "COMPOSE_FILE")]
    pub files: Vec<PathBuf>,
    /// The live engine: unix:///PATH, a socket path, or tcp://HOST:PORT (default with no
    /// compose file: $DOCKER_HOST, else unix:///var/run/docker.sock).
    #[arg(long, short = 'H', value_name = "SOCK")]
    pub host: Option<String>,
    /// The segmentation policy (YAML: zones, allowed flows, expected egress).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Test the graph for real: TCP connects and UDP datagrams (IPv4 and IPv6) from
    /// inside each running container's network namespace (live engine only; needs root).
    #[arg(long)]
    pub probe: bool,
    /// One probe connect's time limit, in milliseconds.
    #[arg(long, default_value_t = 1500, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub probe_timeout: u64,
    /// Probe connects at most.
    #[arg(long, default_value_t = 4096, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_probes: u64,
    /// `moat monitor`'s store: report the outbound connections it observed next to the
    /// model; those the policy denies are violations (NP005).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    #[arg(long, default_value = "table", value_parser = super::formats(FORMATS))]
    pub format: Format,
    /// Exit 1 when a finding of this severity or higher remains.
    #[arg(long, value_name = "SEV")]
    pub fail_on: Option<Severity>,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if !args.files.is_empty() && args.host.is_some() {
        anyhow::bail!("give compose files or --host, not both");
    }
    if args.probe && !args.files.is_empty() {
        anyhow::bail!("--probe tests a live engine: use --host, not compose files");
    }
    let policy = match &args.policy {
        Some(p) => Some(moat_netseg::Policy::load(p)?),
        None => None,
    };
    let opts = moat_netseg::Options {
        policy,
        probe: args.probe.then(|| moat_netseg::probe::ProbeOptions {
            timeout: std::time::Duration::from_millis(args.probe_timeout),
            max_probes: usize::try_from(args.max_probes).unwrap_or(usize::MAX),
            ..Default::default()
        }),
        store: args.store.clone(),
        ..Default::default()
    };
    let report = if args.files.is_empty() {
        let host = args.host.clone().unwrap_or_else(moat_engine::default_host);
        // A bare socket path is a unix:// host.
        let host = if host.starts_with('/') {
            format!("unix://{host}")
        } else {
            host
        };
        let engine = DockerEngine::connect(&host)?;
        moat_netseg::from_engine(&engine, &opts)
            .with_context(|| format!("network model of {host}"))?
    } else {
        moat_netseg::from_compose(&args.files, &opts)?
    };
    let mut buf = Vec::new();
    match args.format {
        Format::Table => moat_report::network::table(&report, &mut buf)?,
        Format::Json => moat_report::json::write(&report, &mut buf)?,
        Format::Sarif => moat_report::network::sarif(
            &report,
            &|code| moat_netseg::rules::meta(code).cloned(),
            &mut buf,
        )?,
        Format::Dot => moat_report::network::dot(&report, &mut buf)?,
        Format::Mermaid => moat_report::network::mermaid(&report, &mut buf)?,
        Format::Html => moat_report::network_html::html(&report, &mut buf)?,
        other => anyhow::bail!("format {other} is not available for moat network"),
    }
    match &args.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("{}", p.display()))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    let policy_failed = report.policy.as_ref().is_some_and(|p| !p.passed);
    let disagreed = report.summary.disagreements > 0;
    let over = args
        .fail_on
        .is_some_and(|t| report.findings.iter().any(|f| f.severity() >= t));
    Ok(if policy_failed || disagreed || over {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
