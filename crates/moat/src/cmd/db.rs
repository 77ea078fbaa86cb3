//! `moat db`: the advisory database — import, update, status, query.
//!
//! The database lives at `--db PATH` / `MOAT_DB`, by default
//! `<cache dir>/db/moat.db` (`~/.cache/moat/db/moat.db` on Linux). Every change is
//! built in a temporary file beside it and renamed into place, so a failed or
//! killed import or update leaves the previous database whole.
//!
//! Exit codes: 0 done (skipped advisories are reported, not failures; a stale
//! database is a warning), 2 error.

use crate::Global;
use anyhow::Context;
use moat_db::update::{self, Config, Source};
use moat_db::{Database, ImportReport, Status, Writer};
use moat_report::db::{ImportView, OriginView, SkippedView, SourceView, StatusView};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The staleness threshold when neither `--max-age` nor the sources file sets one.
pub const DEFAULT_MAX_AGE: &str = "7d";

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Import OSV JSON files, directories of them, osv.dev all.zip archives and
    /// Alpine secdb files (vX.Y/main.json) into the database.
    Import(ImportArgs),
    /// Fetch the configured sources (conditional GET) and rebuild the database.
    Update(UpdateArgs),
    /// Show the database: path, schema, counts per source and ecosystem, age.
    Status(StatusArgs),
    /// Show the advisories of one package (and, with --version, those affecting it).
    Query(QueryArgs),
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
struct ImportArgs {
    /// Files, directories or all.zip archives.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Start from an empty database instead of adding to the current one.
    #[arg(long)]
    fresh: bool,
    /// List every skipped record (with its file and reason) under its source's line.
    #[arg(long, short = 'v')]
    verbose: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct UpdateArgs {
    /// The sources file (TOML; default: <config dir>/moat/sources.toml when it exists,
    /// else the upstream defaults).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Fetch this URL instead of the configured sources (repeatable).
    #[arg(long = "source", value_name = "URL")]
    sources: Vec<String>,
    /// Download even when the stored ETag / Last-Modified say nothing changed.
    #[arg(long)]
    force: bool,
    /// Network timeout per connection and per read, in seconds; also the window over
    /// which the transfer rate is measured.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// The whole update must end within this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1800)]
    deadline: u64,
    /// Abandon a source that sends fewer bytes per second than this over a --timeout window.
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    min_rate: u64,
    /// The NVD CVE API key for an `nvd-api` source (sent as the `apiKey` header; allows
    /// 50 requests per 30 s instead of 5).
    #[arg(long, value_name = "KEY", env = "NVD_API_KEY", hide_env_values = true)]
    nvd_api_key: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct StatusArgs {
    /// Warn when the database is older than this (`7d`, `36h`; default: the sources
    /// file's `max_age`, else 7d).
    #[arg(long, value_name = "AGE")]
    max_age: Option<String>,
    /// The sources file that may set `max_age`.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct QueryArgs {
    /// OSV ecosystem: Debian:12, Alpine:v3.21, PyPI, crates.io, Go, npm, ...
    ecosystem: String,
    /// Package name (source package for distributions).
    package: String,
    /// Only advisories whose ranges include this version (withdrawn ones excluded).
    #[arg(long)]
    version: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let db = db_path(global);
    match args.command {
        Command::Import(a) => import(&db, a),
        Command::Update(a) => run_update(&db, a),
        Command::Status(a) => status(&db, a),
        Command::Query(a) => query(&db, a),
    }
}

/// The database in force: `--db` / `MOAT_DB`, else `<cache dir>/db/moat.db`.
pub fn db_path(global: &Global) -> PathBuf {
    global
        .db
        .clone()
        .unwrap_or_else(|| global.cache_dir().join("db").join("moat.db"))
}

fn load_config(explicit: Option<&Path>) -> anyhow::Result<Config> {
    match explicit {
        Some(p) => Ok(Config::load(p)?),
        None => {
            let default = dirs::config_dir().map(|d| d.join("moat").join("sources.toml"));
            match default {
                Some(p) if p.exists() => Ok(Config::load(&p)?),
                _ => Ok(Config::default()),
            }
        }
    }
}

fn import(db: &Path, a: ImportArgs) -> anyhow::Result<ExitCode> {
    let mut w = if a.fresh {
        Writer::fresh(db)
    } else {
        Writer::begin(db)
    }
    .with_context(|| format!("opening {} for import", db.display()))?;
    if let Some(old) = w.replaced_schema() {
        eprintln!(
            "moat: note: {} had database schema {old}; this moat writes {}: it is rebuilt from what this import reads",
            db.display(),
            moat_db::SCHEMA_VERSION
        );
    }
    let mut reports = Vec::new();
    for p in &a.paths {
        let progress = std::io::stderr().is_terminal().then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_message(format!("importing {}", p.display()));
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        });
        let r = w.import_path(p);
        if let Some(pb) = &progress {
            pb.finish_and_clear();
        }
        reports.push(r.with_context(|| format!("importing {}", p.display()))?);
    }
    let status = w.commit()?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            let v =
                serde_json::json!({ "imports": reports, "database": status_json(&status, None) });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Table => {
            let views: Vec<ImportView> = reports.iter().map(import_view).collect();
            moat_report::db::import_text(
                &mut out,
                &views,
                a.verbose,
                &status.path.display().to_string(),
                status.advisories,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import_view(r: &ImportReport) -> ImportView {
    ImportView {
        location: r.location.clone(),
        stored: r.stored.clone(),
        total: r.total(),
        withdrawn: r.withdrawn,
        git_ranges: r.git_ranges,
        skipped: r
            .skipped
            .iter()
            .map(|s| SkippedView {
                location: s.location.clone(),
                id: s.id.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
        other_records: r.other_records.clone(),
        sources: r
            .sources
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    SourceView {
                        records: v.records,
                        skipped: v.skipped.clone(),
                    },
                )
            })
            .collect(),
    }
}

fn run_update(db: &Path, a: UpdateArgs) -> anyhow::Result<ExitCode> {
    let sources: Vec<Source> = if a.sources.is_empty() {
        load_config(a.config.as_deref())?.sources_or_default()
    } else {
        a.sources.iter().map(Source::url).collect()
    };
    let opts = update::Options {
        timeout: Duration::from_secs(a.timeout.max(1)),
        force: a.force,
        deadline: Duration::from_secs(a.deadline.max(1)),
        min_bytes_per_sec: a.min_rate,
        nvd: update::NvdOptions {
            api_key: a.nvd_api_key.clone().filter(|k| !k.trim().is_empty()),
            ..update::NvdOptions::default()
        },
    };
    let report = update::update(db, &sources, &opts).with_context(|| {
        format!(
            "updating {} (the previous database is unchanged)",
            db.display()
        )
    })?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            let v = serde_json::json!({ "sources": report.sources, "database": status_json(&report.status, None) });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Table => {
            for s in &report.sources {
                match &s.import {
                    Some(r) if !r.other_records.is_empty() => writeln!(
                        out,
                        "{}: updated, {} bytes, {} advisories, {} CVE records, {} skipped{}",
                        s.url,
                        s.bytes,
                        r.total(),
                        r.other_records.values().sum::<usize>(),
                        r.skipped.len(),
                        if s.requests.len() > 1 {
                            format!(", {} requests", s.requests.len())
                        } else {
                            String::new()
                        }
                    )?,
                    Some(r) => writeln!(
                        out,
                        "{}: updated, {} bytes, {} advisories, {} skipped",
                        s.url,
                        s.bytes,
                        r.total(),
                        r.skipped.len()
                    )?,
                    None => writeln!(out, "{}: not modified", s.url)?,
                }
            }
            writeln!(
                out,
                "database {}: {} advisories",
                report.status.path.display(),
                report.status.advisories
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_json(s: &Status, max_age: Option<Duration>) -> serde_json::Value {
    let age = s.last_update.map(|t| (now() - t).max(0));
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("age_seconds".into(), serde_json::json!(age));
        o.insert(
            "last_update_time".into(),
            serde_json::json!(s.last_update.map(moat_db::format_unix)),
        );
        if let Some(m) = max_age {
            o.insert("max_age_seconds".into(), serde_json::json!(m.as_secs()));
            o.insert(
                "stale".into(),
                serde_json::json!(age.is_none_or(|a| a as u64 > m.as_secs())),
            );
        }
    }
    v
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn status(db: &Path, a: StatusArgs) -> anyhow::Result<ExitCode> {
    let max_age_s = match a.max_age {
        Some(m) => m,
        None => load_config(a.config.as_deref())?
            .max_age
            .unwrap_or_else(|| DEFAULT_MAX_AGE.to_string()),
    };
    let max_age = update::parse_age(&max_age_s).map_err(|e| anyhow::anyhow!("--max-age: {e}"))?;
    let database = Database::open_read_only(db)?;
    let s = database.status()?;
    let age = s.last_update.map(|t| (now() - t).max(0));
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&status_json(&s, Some(max_age)))?
            )?;
        }
        Format::Table => {
            let view = StatusView {
                path: s.path.display().to_string(),
                schema_version: s.schema_version,
                size_bytes: s.size_bytes,
                last_update: s
                    .last_update
                    .zip(age)
                    .map(|(t, age)| (moat_db::format_unix(t), moat_db::format_age(age))),
                advisories: s.advisories,
                withdrawn: s.withdrawn,
                sources: s.sources.clone(),
                ecosystems: s.ecosystems.clone(),
                cve_records: s.cve_records.clone(),
                origins: s
                    .origins
                    .iter()
                    .map(|o| OriginView {
                        location: o.location.clone(),
                        kind: o.kind.clone(),
                        records: o.records,
                        skipped: o.skipped,
                        fetched: moat_db::format_unix(o.fetched_at),
                    })
                    .collect(),
            };
            moat_report::db::status_text(&mut out, &view)?;
        }
    }
    if age.is_none_or(|a| a as u64 > max_age.as_secs()) {
        eprintln!(
            "moat: warning: the advisory database {} is {} (older than {max_age_s}); run `moat db update`",
            db.display(),
            age.map_or("never updated".to_string(), |a| format!(
                "{} old",
                moat_db::format_age(a)
            ))
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn query(db: &Path, a: QueryArgs) -> anyhow::Result<ExitCode> {
    let database = Database::open_read_only(db)?;
    let advs = match &a.version {
        Some(v) => database.affected_advisories(&a.ecosystem, &a.package, v)?,
        None => database.advisories_for(&a.ecosystem, &a.package)?,
    };
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&advs)?)?,
        Format::Table => {
            for adv in &advs {
                let fixed: Vec<&str> = adv
                    .affected
                    .iter()
                    .flat_map(|f| f.ranges.iter())
                    .flat_map(|r| r.events.iter())
                    .filter_map(|e| match e {
                        moat_db::Event::Fixed(v) => Some(v.as_str()),
                        _ => None,
                    })
                    .collect();
                writeln!(
                    out,
                    "{}\t{}\t{}\tfixed: {}{}",
                    adv.id,
                    adv.source,
                    adv.rating(),
                    if fixed.is_empty() {
                        "-".into()
                    } else {
                        fixed.join(", ")
                    },
                    if adv.withdrawn.is_some() {
                        "\t(withdrawn)"
                    } else {
                        ""
                    }
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
