//! `moat verify SOURCE…`: trusted source, pinning, signatures and attestations against a
//! policy (docs/verify.md). Exit 0 when every image satisfies it, 1 when one does not,
//! 2 on error (an unreadable key or policy, an unreachable registry).

use crate::Global;
use anyhow::Context;
use moat_report::Format;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Image sources (registry:REF, oci-dir:PATH, docker:REF…), Dockerfiles or compose files.
    #[arg(value_name = "SOURCE", required = true)]
    pub sources: Vec<String>,
    /// The policy file (YAML; see docs/verify.md).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// A public key (PEM: ECDSA P-256/P-384, Ed25519, RSA); without --policy an image
    /// passes when a signature verifies with one of the keys. Repeatable.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,
    /// Sigstore trusted root (JSON) for keyless signatures, checked offline.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    #[arg(long, short = 'f', default_value = "table",
          value_parser = super::formats(&[Format::Table, Format::Json, Format::Sarif]))]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub image: super::source::SourceArgs,
}

fn now() -> anyhow::Result<i64> {
    Ok(match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"))?,
        Err(_) => time::OffsetDateTime::now_utc().unix_timestamp(),
    })
}

/// The policy's scan gate, through moat-scan.
struct Gate<'a> {
    global: &'a Global,
    image: moat_image::OpenOptions,
}

impl moat_verify::ScanRunner for Gate<'_> {
    fn scan(&self, source: &str) -> Result<moat_verify::GateResult, moat_verify::VerifyError> {
        let err = |e: &dyn std::fmt::Display| moat_verify::VerifyError::Scan {
            image: source.to_string(),
            message: e.to_string(),
        };
        let opts = moat_scan::ScanOptions {
            image: self.image.clone(),
            scanners: moat_scan::Scanners {
                vuln: true,
                misconfig: false,
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
        let out = moat_scan::scan(source, &opts).map_err(|e| err(&e))?;
        Ok(moat_verify::GateResult {
            findings: out
                .report
                .vulnerabilities
                .iter()
                .map(|v| moat_verify::GateFinding {
                    id: v.id.to_string(),
                    severity: v.severity,
                    kev: v.kev.is_some(),
                })
                .collect(),
            // KEV dates come from the CVE records; a database without them cannot say.
            kev_known: moat_db::Database::open_read_only(&opts.db_path)
                .and_then(|db| db.has_cve_records())
                .unwrap_or(false),
        })
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let image = args.image.open_options(global);
    let plan = moat_verify::Plan::new(moat_verify::VerifyOptions {
        policy: args.policy.clone(),
        keys: args.key.clone(),
        trusted_root: args.trusted_root.clone(),
        image: image.clone(),
        now: now()?,
    })?;
    let gate = Gate { global, image };
    let scan: Option<&dyn moat_verify::ScanRunner> = plan.wants_scan().then_some(&gate as _);
    let report = plan.run(&args.sources, scan)?;
    let mut w = super::sbom::output(args.output.as_deref())?;
    match args.format {
        Format::Table => moat_report::verify::table(&report, &mut w)?,
        Format::Json => moat_report::verify::json(&report, &mut w)?,
        Format::Sarif => moat_report::verify::sarif(&report, &mut w)?,
        _ => unreachable!("clap admits only verify's formats"),
    }
    w.flush().context("writing the report")?;
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
