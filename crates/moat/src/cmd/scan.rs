//! `moat scan SOURCE`: packages, vulnerabilities (and, with `--scanners misconfig`,
//! image-config findings) of an image or source tree.
//!
//! Exit codes: 0 clean, 1 a finding at or above `--fail-on` remains, 2 error.

use crate::Global;
use anyhow::Context;
use moat_model::Severity;
use moat_report::Format;
use moat_scan::{ScanOptions, ScanReport, Scanners};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The image or tree: docker-archive:PATH, oci-dir:PATH[:TAG|@DIGEST],
    /// oci-archive:PATH, registry:REF, docker:REF, dir:PATH, rootfs:PATH, a bare
    /// path or reference, or sbom:FILE (a CycloneDX or SPDX SBOM, matched as an
    /// image's inventory).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Output format.
    #[arg(long, short = 'f', default_value = "table",
          value_parser = super::formats(&[Format::Table, Format::Json, Format::Sarif, Format::CyclonedxJson, Format::Html]))]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub severity: Vec<Severity>,
    /// Leave out vulnerabilities that have no fixed version.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Exit 1 when a remaining finding is at or above this severity, or (`kev`) is
    /// known exploited; comma-separated, e.g. `high,kev`.
    #[arg(long, value_name = "SEVERITY|kev", value_delimiter = ',', value_parser = parse_gate)]
    pub fail_on: Vec<Gate>,
    /// A previous `moat scan --format json` report: mark each finding `new` or
    /// `unchanged` and list the fixed ones.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 1 when a finding that is new against --baseline is at or above this
    /// severity (or, `kev`, known exploited).
    #[arg(long, value_name = "SEVERITY|kev", value_delimiter = ',', value_parser = parse_gate, requires = "baseline")]
    pub fail_on_new: Vec<Gate>,
    /// Ignore rules (YAML: id, package, path, reason, expires).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// OpenVEX documents whose not_affected/fixed statements suppress findings.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Scanners to run (comma-separated): vuln, misconfig, secret, malware, file,
    /// integrity, or all.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "vuln,secret",
        value_name = "LIST"
    )]
    pub scanners: Vec<String>,
    #[command(flatten)]
    pub content: Box<ContentArgs>,
    /// Explain one vulnerability id: how it matched, or why each candidate was dropped.
    #[arg(long, value_name = "ID")]
    pub explain: Option<String>,
    /// Never use the network (a `registry:` source is refused; the database is never updated by a scan).
    #[arg(long)]
    pub offline: bool,
    /// Do not reuse cached inventories.
    #[arg(long)]
    pub no_cache: bool,
    /// Warn when the advisory database is older than this many days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub max_db_age: u64,
    #[command(flatten)]
    pub image: super::source::SourceArgs,
    #[command(flatten)]
    pub remote: Box<RemoteArgs>,
}

/// `--server`: scan on a `moat serve` (boxed: keeps `Command` small).
#[derive(clap::Args, Debug)]
pub struct RemoteArgs {
    /// Scan on this `moat serve` (http://HOST:PORT or https://HOST:PORT) and render its
    /// report here: the server's workers read SOURCE (a registry reference, or a path
    /// under their --allow-path); an `sbom:FILE` is read here and its inventory uploaded.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// A submitter token for --server (better given as MOAT_TOKEN).
    #[arg(long, env = "MOAT_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The CA certificate (PEM) of an https --server with a private certificate.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub ca_cert: Option<PathBuf>,
    /// Give up waiting for the server's scan after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub server_timeout: u64,
}

/// One `--fail-on` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// A finding at or above this severity.
    Severity(Severity),
    /// A finding known to be exploited (CISA KEV).
    Kev,
}

fn parse_gate(s: &str) -> Result<Gate, String> {
    if s.trim().eq_ignore_ascii_case("kev") {
        return Ok(Gate::Kev);
    }
    s.parse::<Severity>()
        .map(Gate::Severity)
        .map_err(|e| format!("{e}, or kev"))
}

impl Gate {
    fn fails_vuln(self, v: &moat_model::VulnFinding) -> bool {
        match self {
            Gate::Severity(t) => v.severity >= t,
            Gate::Kev => v.kev.is_some(),
        }
    }
}

/// Whether the gates fail the report: any finding (with `only_new`, any new one) that
/// meets one gate. Misconfigurations meet severity gates only.
fn gate_fails(gates: &[Gate], report: &ScanReport, only_new: bool) -> bool {
    let vuln_fails = report
        .vulnerabilities
        .iter()
        .filter(|v| !only_new || v.baseline == Some(moat_model::remediation::BaselineStatus::New))
        .any(|v| gates.iter().any(|g| g.fails_vuln(v)));
    let config_fails = !only_new
        && report.misconfigurations.iter().any(|m| {
            gates
                .iter()
                .any(|g| matches!(g, Gate::Severity(t) if m.severity >= *t))
        });
    // Content findings (secrets, malware, risky files, integrity) gate by severity.
    let content_fails = !only_new
        && report
            .findings()
            .filter(|h| {
                !matches!(
                    h.kind,
                    moat_model::FindingKind::Vulnerability
                        | moat_model::FindingKind::Misconfiguration
                )
            })
            .any(|h| {
                gates
                    .iter()
                    .any(|g| matches!(g, Gate::Severity(t) if h.severity >= *t))
            });
    vuln_fails || config_fails || content_fails
}

/// Read a baseline report, before the scan runs.
fn read_baseline(path: &std::path::Path) -> anyhow::Result<ScanReport> {
    let f = std::fs::File::open(path).with_context(|| format!("--baseline {}", path.display()))?;
    // A report is at most as large as the budget for JSON documents read from images.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(f, 512 << 20), &mut bytes)
        .with_context(|| format!("--baseline {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "--baseline {}: not a `moat scan --format json` report",
            path.display()
        )
    })
}

/// The content scanners' files (boxed: keeps `Command` small).
#[derive(clap::Args, Debug)]
pub struct ContentArgs {
    /// Extra secret rules and allow-lists (YAML: rules, allow.paths, allow.values, disable).
    #[arg(long, value_name = "FILE")]
    pub secret_config: Option<PathBuf>,
    /// A directory of YARA rules (*.yar, *.yara) added to the bundled malware rules.
    #[arg(long, value_name = "DIR")]
    pub yara_rules: Option<PathBuf>,
    /// Known-bad files: one sha256 a line (an optional label after it; # comments).
    #[arg(long, value_name = "FILE")]
    pub malware_hashes: Option<PathBuf>,
}

fn now() -> anyhow::Result<time::OffsetDateTime> {
    Ok(match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            let secs: i64 = v
                .trim()
                .parse()
                .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"))?;
            time::OffsetDateTime::from_unix_timestamp(secs)
                .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is out of range"))?
        }
        Err(_) => time::OffsetDateTime::now_utc(),
    })
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if let Some(server) = args.remote.server.clone() {
        return remote(global, &args, &server);
    }
    let mut scanners = Scanners {
        vuln: false,
        misconfig: false,
    };
    let mut content = moat_content::ContentOptions {
        secret_config: args.content.secret_config.clone(),
        yara_rules: args.content.yara_rules.clone(),
        malware_hashes: args.content.malware_hashes.clone(),
        ..Default::default()
    };
    for s in &args.scanners {
        match s.trim() {
            "vuln" => scanners.vuln = true,
            "misconfig" | "config" => scanners.misconfig = true,
            "secret" => content.secret = true,
            "malware" => content.malware = true,
            "file" => content.file = true,
            "integrity" => content.integrity = true,
            "all" => {
                scanners.vuln = true;
                scanners.misconfig = true;
                content.secret = true;
                content.malware = true;
                content.file = true;
                content.integrity = true;
            }
            other => anyhow::bail!(
                "--scanners: unknown scanner {other:?} (known: vuln, misconfig, secret, malware, file, integrity, all)"
            ),
        }
    }
    let opts = ScanOptions {
        image: args.image.open_options(global),
        scanners,
        db_path: global.db_path(),
        severities: (!args.severity.is_empty())
            .then(|| args.severity.iter().copied().collect::<BTreeSet<_>>()),
        ignore_unfixed: args.ignore_unfixed,
        ignore_file: args.ignore_file.clone(),
        vex: args.vex.clone(),
        max_db_age_days: args.max_db_age,
        use_cache: !args.no_cache,
        now: now()?,
        offline: args.offline,
        catalog_limits: args.image.catalog_limits(),
    };
    // Everything is validated before the source is opened: a bad ignore file, VEX
    // document or database, or a network source under --offline, fails here.
    let plan = moat_scan::ScanPlan::new(&args.source, opts)?.with_content(content)?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;

    let progress = std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!("scanning {}", args.source));
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    });
    let outcome = plan.run();
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }
    let outcome = outcome?;
    let mut report = outcome.report;
    if let (Some(prev), Some(path)) = (&baseline, &args.baseline) {
        moat_scan::remediation::compare(&mut report, prev, &path.display().to_string());
    }
    for w in &report.warnings {
        eprintln!("moat: warning: {}", moat_model::escape_control(w));
    }

    if let Some(id) = &args.explain {
        let mut w = super::sbom::output(args.output.as_deref())?;
        explain(&report, &outcome.dropped, id, &mut w)?;
        w.flush().context("writing the explanation")?;
        return Ok(ExitCode::SUCCESS);
    }

    render(&args, &report)
}

/// Write the report in `--format` and choose the exit code from `--fail-on` and
/// `--fail-on-new`.
fn render(args: &Args, report: &ScanReport) -> anyhow::Result<ExitCode> {
    let mut w = super::sbom::output(args.output.as_deref())?;
    match args.format {
        Format::Table => moat_report::table::scan(report, &mut w)?,
        Format::Json => moat_report::json::scan(report, &mut w)?,
        Format::Sarif => moat_report::sarif::scan(report, &mut w)?,
        Format::Html => moat_report::html::scan(report, &mut w)?,
        Format::CyclonedxJson => {
            let meta = moat_report::SbomMeta {
                source: report.source.clone(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                timestamp: super::sbom::timestamp()?,
            };
            moat_report::cyclonedx::scan(report, &meta, &mut w)?
        }
        _ => unreachable!("clap admits only scan's formats"),
    }
    w.flush().context("writing the report")?;

    let fails =
        gate_fails(&args.fail_on, report, false) || gate_fails(&args.fail_on_new, report, true);
    Ok(if fails {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--server`: submit the scan to a `moat serve`, wait for it (bounded), fetch the
/// report its worker stored and render it as a local scan would be.
fn remote(global: &Global, args: &Args, server: &str) -> anyhow::Result<ExitCode> {
    let refused = [
        (!args.severity.is_empty(), "--severity"),
        (args.ignore_unfixed, "--ignore-unfixed"),
        (args.ignore_file.is_some(), "--ignore-file"),
        (!args.vex.is_empty(), "--vex"),
        (args.explain.is_some(), "--explain"),
        (args.content.secret_config.is_some(), "--secret-config"),
        (args.content.yara_rules.is_some(), "--yara-rules"),
        (args.content.malware_hashes.is_some(), "--malware-hashes"),
        (
            args.scanners.iter().map(|s| s.trim()).collect::<Vec<_>>() != ["vuln", "secret"],
            "--scanners",
        ),
    ];
    if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
        anyhow::bail!(
            "{flag} is not supported with --server (the server's workers scan with their own settings)"
        );
    }
    let token = args
        .remote
        .token
        .as_deref()
        .context("--server needs --token (or MOAT_TOKEN): a submitter token of the tenant")?;
    let timeout = std::time::Duration::from_secs(args.remote.server_timeout.max(1));
    let client = moat_server::client::Client::new(
        server,
        token,
        args.remote.ca_cert.as_deref(),
        timeout.min(std::time::Duration::from_secs(300)),
    )?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let body = if args.source.starts_with("sbom:") {
        // The SBOM is read here (the server never sees the file), as `moat sbom` reads it.
        let opts = ScanOptions {
            image: args.image.open_options(global),
            scanners: Scanners {
                vuln: false,
                misconfig: false,
            },
            db_path: global.db_path(),
            severities: None,
            ignore_unfixed: false,
            ignore_file: None,
            vex: Vec::new(),
            max_db_age_days: u64::MAX,
            use_cache: !args.no_cache,
            now: now()?,
            offline: true,
            catalog_limits: args.image.catalog_limits(),
        };
        let inv = moat_scan::ScanPlan::new(&args.source, opts)?
            .inventory()?
            .inventory;
        serde_json::json!({ "sbom": inv, "reference": args.source })
    } else {
        serde_json::json!({ "source": args.source })
    };
    let job = client
        .post("/api/v1/scans", &body)?
        .get("job")
        .and_then(serde_json::Value::as_i64)
        .context("the server's reply to a scan has no job id")?;
    let progress = std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!("job {job} on {server}"));
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    });
    let waited = client.wait_job(job, timeout);
    if let Some(pb) = &progress {
        pb.finish_and_clear();
    }
    waited?;
    let text = client.get_text(&format!("/api/v1/jobs/{job}/report"))?;
    let mut report: ScanReport = serde_json::from_str(&text)
        .with_context(|| format!("{server}: job {job}: the report is not moat's JSON report"))?;
    if let (Some(prev), Some(path)) = (&baseline, &args.baseline) {
        moat_scan::remediation::compare(&mut report, prev, &path.display().to_string());
    }
    for w in &report.warnings {
        eprintln!("moat: warning: {}", moat_model::escape_control(w));
    }
    render(args, &report)
}

/// `--explain ID`: every finding and dropped candidate whose id or alias is `id`.
fn explain(
    r: &ScanReport,
    dropped: &[moat_match::Dropped],
    id: &str,
    w: &mut dyn Write,
) -> anyhow::Result<()> {
    let is = |v: &moat_match::VulnFinding| {
        v.id.eq_ignore_ascii_case(id) || v.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
    };
    let mut any = false;
    for v in r.vulnerabilities.iter().filter(|v| is(v)) {
        any = true;
        let m = &v.matched_by;
        writeln!(
            w,
            "REPORTED {} in {} {} ({}) at {}: matcher {} looked up {} {} in {}; affected range {}; fixed in [{}]; severity {}",
            v.id,
            v.package.name,
            v.package.version,
            v.package.ecosystem,
            v.path,
            m.matcher,
            m.searched_name,
            m.searched_version,
            m.namespace,
            m.constraint,
            v.fixed_versions.join(", "),
            v.severity
        )?;
    }
    for i in r.ignored.iter().filter(|i| is(&i.finding)) {
        any = true;
        writeln!(
            w,
            "IGNORED {} in {} {}: {} ({}: {})",
            i.finding.id,
            i.finding.package.name,
            i.finding.package.version,
            i.suppressed_by.kind,
            i.suppressed_by.source,
            i.suppressed_by.reason
        )?;
    }
    for d in dropped
        .iter()
        .filter(|d| d.id.eq_ignore_ascii_case(id) || d.id.ends_with(&format!("-{id}")))
    {
        any = true;
        writeln!(
            w,
            "DROPPED {} for {} {}: {}",
            d.id, d.package, d.version, d.reason
        )?;
    }
    if !any {
        writeln!(w, "{id}: no package of this image was a candidate for it")?;
    }
    Ok(())
}
