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
    /// oci-archive:PATH, registry:REF, docker:REF, dir:PATH, rootfs:PATH, or a bare
    /// path or reference.
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
    /// Exit 1 when a remaining finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Ignore rules (YAML: id, package, path, reason, expires).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// OpenVEX documents whose not_affected/fixed statements suppress findings.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Scanners to run (comma-separated): vuln, misconfig.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "vuln",
        value_name = "LIST"
    )]
    pub scanners: Vec<String>,
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
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Registry hosts that may be reached over plain HTTP (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub insecure_registry: Vec<String>,
    /// Refuse images whose layers unpack to more than this (bytes, or K/M/G/T).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size, default_value = "8G")]
    pub max_unpacked_size: u64,
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
    let mut scanners = Scanners {
        vuln: false,
        misconfig: false,
    };
    for s in &args.scanners {
        match s.trim() {
            "vuln" => scanners.vuln = true,
            "misconfig" | "config" => scanners.misconfig = true,
            other => {
                anyhow::bail!("--scanners: unknown scanner {other:?} (known: vuln, misconfig)")
            }
        }
    }
    let mut image = moat_image::OpenOptions::new(global.cache_dir());
    image.platform = args.platform.clone();
    image.insecure_registries = args.insecure_registry.clone();
    image.max_unpacked_size = args.max_unpacked_size;
    let opts = ScanOptions {
        image,
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
    };
    // Everything is validated before the source is opened: a bad ignore file, VEX
    // document or database, or a network source under --offline, fails here.
    let plan = moat_scan::ScanPlan::new(&args.source, opts)?;

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
    let report = outcome.report;
    for w in &report.warnings {
        eprintln!("moat: warning: {}", moat_model::escape_control(w));
    }

    if let Some(id) = &args.explain {
        let mut w = super::sbom::output(args.output.as_deref())?;
        explain(&report, &outcome.dropped, id, &mut w)?;
        w.flush().context("writing the explanation")?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut w = super::sbom::output(args.output.as_deref())?;
    match args.format {
        Format::Table => moat_report::table::scan(&report, &mut w)?,
        Format::Json => moat_report::json::scan(&report, &mut w)?,
        Format::Sarif => moat_report::sarif::scan(&report, &mut w)?,
        Format::Html => moat_report::html::scan(&report, &mut w)?,
        Format::CyclonedxJson => {
            let meta = moat_report::SbomMeta {
                source: report.source.clone(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                timestamp: super::sbom::timestamp()?,
            };
            moat_report::cyclonedx::scan(&report, &meta, &mut w)?
        }
        _ => unreachable!("clap admits only scan's formats"),
    }
    w.flush().context("writing the report")?;

    Ok(match (args.fail_on, report.max_severity()) {
        (Some(threshold), Some(max)) if max >= threshold => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
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
