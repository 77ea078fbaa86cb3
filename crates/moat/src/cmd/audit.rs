//! `moat audit`: a live Docker Engine, its host files, every container and the images
//! they use, checked against the CIS Docker Benchmark v1.6.0, plus an isolation proof of
//! each running container read from the host's /proc and cgroup filesystem.
//!
//! Exit codes (as `moat lint`): 0 when no finding reaches `--fail-on` (or it is not
//! given), 1 when one does, 2 when the engine cannot be reached or queried.

use crate::Global;
use anyhow::Context;
use moat_audit::AuditOptions;
use moat_audit::moat_engine::{self, DockerEngine};
use moat_model::Severity;
use moat_report::Format;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `moat audit`'s output formats: the report's (table, JSON, SARIF) and the CIS-report
/// view (every benchmark item with its verdict, per section) as text, JSON or HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditFormat {
    Report(Format),
    Cis,
    CisJson,
    CisHtml,
}

impl AuditFormat {
    pub const NAMES: [&'static str; 6] = ["table", "json", "sarif", "cis", "cis-json", "cis-html"];
}

fn audit_formats() -> impl clap::builder::TypedValueParser<Value = AuditFormat> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(AuditFormat::NAMES)
        .try_map(|s| s.parse::<AuditFormat>())
}

impl std::str::FromStr for AuditFormat {
    type Err = moat_report::format::ParseFormatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cis" => Ok(AuditFormat::Cis),
            "cis-json" => Ok(AuditFormat::CisJson),
            "cis-html" => Ok(AuditFormat::CisHtml),
            other => other.parse().map(AuditFormat::Report),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The engine: unix:///PATH or tcp://HOST:PORT (default: $DOCKER_HOST, else unix:///var/run/docker.sock).
    #[arg(long, short = 'H', value_name = "HOST")]
    pub host: Option<String>,
    /// Reach a TCP host over TLS with a client certificate (default: $DOCKER_TLS_VERIFY).
    #[arg(long)]
    pub tlsverify: bool,
    /// CA certificate (default: $DOCKER_CERT_PATH/ca.pem).
    #[arg(long, value_name = "FILE")]
    pub tlscacert: Option<PathBuf>,
    /// Client certificate (default: $DOCKER_CERT_PATH/cert.pem).
    #[arg(long, value_name = "FILE")]
    pub tlscert: Option<PathBuf>,
    /// Client key (default: $DOCKER_CERT_PATH/key.pem).
    #[arg(long, value_name = "FILE")]
    pub tlskey: Option<PathBuf>,
    /// table, json, sarif; or the CIS-report view: cis (text), cis-json, cis-html.
    #[arg(long, default_value = "table",
          value_parser = audit_formats())]
    pub format: AuditFormat,
    /// Exit 1 when a finding of this severity or higher remains.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Report only these rules (codes, aliases or prefixes such as CC), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,
    /// Never report these rules (codes, aliases or prefixes), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
    /// Skip the isolation proof (reading running containers' /proc and cgroups).
    #[arg(long)]
    pub no_proof: bool,
    /// Skip walking image layers on the host for setuid/setgid files.
    #[arg(long)]
    pub no_image_files: bool,
    /// Report images created more than this many days ago.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub max_image_age: i64,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The store `moat monitor` writes: its `docker exec` history answers CIS 5.23
    /// (`--privileged`) and 5.24 (`--user root`), not evaluated without it.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// With --store: only execs at or after this time (RFC 3339 or unix seconds).
    #[arg(long, value_name = "TIME", requires = "store")]
    pub since: Option<String>,
}

/// Most exec records read from the store.
const MAX_EXECS: usize = 1_000_000;

/// The `docker exec` history of a monitor's store.
fn exec_history(
    path: &std::path::Path,
    since: Option<&str>,
) -> anyhow::Result<Vec<moat_audit::ExecRecord>> {
    let store = moat_store::Store::open_existing(path)
        .with_context(|| format!("monitor store {}", path.display()))?;
    let since_ns = since
        .map(moat_store::parse_time_arg)
        .transpose()
        .with_context(|| "--since")?;
    let records = store
        .query(&moat_store::Query {
            since_ns,
            kind: Some("event".into()),
            event_type: Some("exec_create".into()),
            limit: Some(MAX_EXECS),
            ..moat_store::Query::default()
        })
        .with_context(|| format!("monitor store {}", path.display()))?;
    let text = |v: &serde_json::Value, p: &str| {
        v.pointer(p)
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string()
    };
    Ok(records
        .iter()
        .filter_map(|r| {
            let b = &r.body;
            let attrs = b.pointer("/docker/attributes")?;
            // Execs recorded before the monitor inspected them say nothing of either.
            let privileged = attrs.get(moat_monitor::EXEC_PRIVILEGED)?.as_str()? == "true";
            Some(moat_audit::ExecRecord {
                time_ns: r.time_ns,
                container: r
                    .container
                    .clone()
                    .unwrap_or_else(|| text(b, "/container/id")),
                name: text(b, "/container/name"),
                command: text(b, "/process/cmdline"),
                privileged,
                user: attrs
                    .get(moat_monitor::EXEC_USER)
                    .and_then(|u| u.as_str())
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect())
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    // The advisory database is optional: without it the patch level is reported, not matched.
    let db_path = crate::cmd::db::db_path(global);
    let db = if db_path.exists() {
        Some(
            moat_db::Database::open_read_only(&db_path)
                .with_context(|| format!("advisory database {}", db_path.display()))?,
        )
    } else if global.db.is_some() {
        anyhow::bail!("advisory database {} does not exist", db_path.display());
    } else {
        None
    };
    let host = args.host.clone().unwrap_or_else(moat_engine::default_host);
    let env_verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
    let tls_wanted = args.tlsverify
        || env_verify
        || args.tlscacert.is_some()
        || args.tlscert.is_some()
        || args.tlskey.is_some()
        || host.starts_with("https://");
    let tls = tls_wanted.then(|| {
        let dir = std::env::var_os("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))
            .unwrap_or_default();
        let d = moat_engine::TlsFiles::in_dir(&dir);
        moat_engine::TlsFiles {
            ca: args.tlscacert.clone().unwrap_or(d.ca),
            cert: args.tlscert.clone().unwrap_or(d.cert),
            key: args.tlskey.clone().unwrap_or(d.key),
        }
    });
    let engine = DockerEngine::connect_with(&host, tls.as_ref())?;
    let opts = AuditOptions {
        proof: !args.no_proof,
        image_files: !args.no_image_files,
        max_image_age_days: args.max_image_age,
        execs: args
            .store
            .as_deref()
            .map(|p| exec_history(p, args.since.as_deref()))
            .transpose()?,
        ..Default::default()
    };
    let lookup = db
        .as_ref()
        .map(|d| d as &dyn moat_audit::patch::AdvisoryLookup);
    let snap = moat_audit::collect(&engine, &opts).with_context(|| format!("audit of {host}"))?;
    let (mut report, coverage) = moat_audit::report_with_coverage(&snap, &opts, lookup);
    let selected = |f: &moat_model::lint::ConfigFinding| {
        (args.select.is_empty()
            || args
                .select
                .iter()
                .any(|c| moat_lint::suppress::code_matches(c, f)))
            && !args
                .ignore
                .iter()
                .any(|c| moat_lint::suppress::code_matches(c, f))
    };
    report.findings.retain(|f| selected(&f.finding));
    // The rules --select/--ignore leave out (for the CIS view's "not selected").
    let excluded: std::collections::BTreeSet<String> = moat_audit::rules::RULES
        .iter()
        .filter(|r| !selected(&r.finding("", 0, 0, "")))
        .map(|r| r.code.to_string())
        .collect();

    let mut buf = Vec::new();
    match args.format {
        AuditFormat::Report(Format::Table) => moat_report::audit::table(&report, &mut buf)?,
        AuditFormat::Report(Format::Json) => moat_report::json::write(&report, &mut buf)?,
        AuditFormat::Report(Format::Sarif) => {
            moat_report::sarif::audit(&report, moat_audit::rules::RULES, &mut buf)?
        }
        AuditFormat::Cis => moat_report::audit::cis_table(
            &moat_audit::cis::view(&report, &coverage, &excluded),
            &mut buf,
        )?,
        AuditFormat::CisJson => moat_report::json::write(
            &moat_audit::cis::view(&report, &coverage, &excluded),
            &mut buf,
        )?,
        AuditFormat::CisHtml => moat_report::audit::cis_html(
            &moat_audit::cis::view(&report, &coverage, &excluded),
            &mut buf,
        )?,
        AuditFormat::Report(_) => unreachable!("clap admits only audit's formats"),
    }
    match &args.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("{}", p.display()))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    let failed = args
        .fail_on
        .is_some_and(|t| report.findings.iter().any(|f| f.severity() >= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
