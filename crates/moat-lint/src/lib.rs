//! Configuration linter: Dockerfile, compose, daemon.json and image-config rules.
//!
//! Entry points: [`lint_source`] (one file's text of a known kind), [`detect_kind`],
//! [`rules::RULES`] (the registry), [`image_config::check`] (for `moat scan`).

pub mod compose;
pub mod container;
pub mod daemon;
pub mod detect;
pub mod dockerfile;
pub mod hadolint_config;
pub mod image_config;
pub mod image_input;
pub mod read;
pub mod rules;
pub mod shell;
pub mod shellcheck;
pub mod suppress;

pub use detect::detect_kind;

use moat_model::ConfigFinding;
use rules::{DfCtx, RULES, RuleConfig, Sink};

/// The kind of a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Dockerfile,
    Compose,
    Daemon,
}

/// An error that stops linting one file. Its text (`path: message`) has the control
/// characters of both escaped, for a terminal; the fields keep them.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: {}",
    moat_model::escape_control(path),
    moat_model::escape_control(message)
)]
pub struct LintError {
    pub path: String,
    pub message: String,
}

/// Budgets of linting files (issue 12); see docs/limits.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// Bytes read from one file (a file named on the command line, an `extends` file,
    /// `.env`); a larger one is an error naming it, or a DC018 finding when referenced.
    pub max_file_bytes: u64,
    /// Bounds on following compose `extends`.
    pub compose: compose::Limits,
    /// What the rules read from a hadolint configuration (trusted registries, label schema).
    pub rules: RuleConfig,
    /// Honour `# hadolint ignore=` comments (hadolint's `disable-ignore-pragma` turns
    /// them off; `# moat:ignore` comments stay honoured).
    pub hadolint_pragmas: bool,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            max_file_bytes: read::DEFAULT_MAX_FILE_BYTES,
            compose: compose::Limits::default(),
            rules: RuleConfig::default(),
            hadolint_pragmas: true,
        }
    }
}

/// Lint one file's text. Findings are sorted (line, column, rule). Compose
/// interpolation sees no variables (use [`lint_source_with_env`]).
pub fn lint_source(kind: Kind, path: &str, text: &str) -> Result<Vec<ConfigFinding>, LintError> {
    lint_source_with_env(kind, path, text, &std::collections::BTreeMap::new())
}

/// Lint one file's text, with the variables compose interpolation uses (`.env`).
pub fn lint_source_with_env(
    kind: Kind,
    path: &str,
    text: &str,
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<ConfigFinding>, LintError> {
    lint_source_full(kind, path, text, vars, &|_| None)
}

/// Lint one file's text; `load` reads files named by compose `extends: {file: …}`.
pub fn lint_source_full(
    kind: Kind,
    path: &str,
    text: &str,
    vars: &std::collections::BTreeMap<String, String>,
    load: &compose::Loader<'_>,
) -> Result<Vec<ConfigFinding>, LintError> {
    lint_source_files(
        kind,
        path,
        text,
        vars,
        &compose::LoaderFiles(load),
        compose::Limits::default(),
    )
}

/// Lint one file's text; `files` locates and reads the files a compose file names.
pub fn lint_source_files(
    kind: Kind,
    path: &str,
    text: &str,
    vars: &std::collections::BTreeMap<String, String>,
    files: &dyn compose::Files,
    limits: compose::Limits,
) -> Result<Vec<ConfigFinding>, LintError> {
    lint_source_config(
        kind,
        path,
        text,
        vars,
        files,
        limits,
        &RuleConfig::default(),
    )
}

/// Lint a Dockerfile's text with the configuration the rules read, and apply its
/// inline suppressions (`# hadolint ignore=`, `# moat:ignore`). Findings are sorted.
pub fn lint_dockerfile(path: &str, text: &str, config: &RuleConfig) -> Vec<ConfigFinding> {
    let mut findings = Vec::new();
    run_dockerfile_rules(path, text, config, &mut findings);
    findings.sort();
    findings.dedup();
    suppress::apply_inline(text, &mut findings);
    findings
}

/// Every rule's Dockerfile check on `text`, unsorted and unsuppressed.
fn run_dockerfile_rules(
    path: &str,
    text: &str,
    config: &RuleConfig,
    findings: &mut Vec<ConfigFinding>,
) {
    let df = dockerfile::parse(text);
    let cx = DfCtx::with_config(&df, config);
    for r in RULES {
        let mut sink = Sink {
            path,
            meta: r.meta(),
            findings,
        };
        r.dockerfile(&cx, &mut sink);
    }
}

/// [`lint_source_files`] with the configuration the rules read.
pub fn lint_source_config(
    kind: Kind,
    path: &str,
    text: &str,
    vars: &std::collections::BTreeMap<String, String>,
    files: &dyn compose::Files,
    limits: compose::Limits,
    config: &RuleConfig,
) -> Result<Vec<ConfigFinding>, LintError> {
    let mut findings = Vec::new();
    match kind {
        Kind::Dockerfile => run_dockerfile_rules(path, text, config, &mut findings),
        Kind::Compose => {
            let c =
                compose::parse_with_files(text, vars, files, limits).map_err(|e| LintError {
                    path: path.to_string(),
                    message: e.0,
                })?;
            for r in RULES {
                let mut sink = Sink {
                    path,
                    meta: r.meta(),
                    findings: &mut findings,
                };
                r.compose(&c, &mut sink);
            }
        }
        Kind::Daemon => {
            let d = daemon::parse(text).map_err(|e| LintError {
                path: path.to_string(),
                message: e.0,
            })?;
            for r in RULES {
                let mut sink = Sink {
                    path,
                    meta: r.meta(),
                    findings: &mut findings,
                };
                r.daemon(&d, &mut sink);
            }
        }
    }
    findings.sort();
    findings.dedup();
    Ok(findings)
}

/// Files larger than this are not linted (configuration files are small): the default
/// of [`LintOptions::max_file_bytes`].
pub const MAX_FILE_SIZE: u64 = read::DEFAULT_MAX_FILE_BYTES;

/// A file to lint, with its kind when known from its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub path: std::path::PathBuf,
    pub kind: Option<Kind>,
}

/// Expand the command-line paths: a file is taken as is (its kind detected later by
/// name or content); a directory is walked for files whose *name* says they are a
/// Dockerfile, compose file or daemon.json (hidden directories, `.git` and
/// `node_modules` are skipped). Sorted and deduplicated.
pub fn collect_targets(paths: &[std::path::PathBuf]) -> Result<Vec<Target>, LintError> {
    let mut out = Vec::new();
    for p in paths {
        let md = std::fs::metadata(p).map_err(|e| LintError {
            path: p.display().to_string(),
            message: e.to_string(),
        })?;
        if md.is_dir() {
            let walker = walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let n = e.file_name().to_string_lossy();
                    e.depth() == 0
                        || !(n.starts_with('.') && e.file_type().is_dir() || n == "node_modules")
                });
            for e in walker {
                let e = e.map_err(|e| LintError {
                    path: e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| p.display().to_string()),
                    message: e.to_string(),
                })?;
                if !e.file_type().is_file() {
                    continue;
                }
                let name = e.path().to_string_lossy();
                if let Some(k) = detect::kind_by_name(&name) {
                    out.push(Target {
                        path: e.path().to_path_buf(),
                        kind: Some(k),
                    });
                }
            }
        } else {
            out.push(Target {
                path: p.clone(),
                kind: detect::kind_by_name(&p.to_string_lossy()),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Read, detect, lint and apply inline suppressions to one file (default budgets).
pub fn lint_file(target: &Target) -> Result<Vec<ConfigFinding>, LintError> {
    lint_file_with(target, &LintOptions::default())
}

/// The files a compose file names, found relative to its directory (the project).
struct ProjectFiles {
    dir: std::path::PathBuf,
    max_file_bytes: u64,
}

impl compose::Files for ProjectFiles {
    fn locate(&self, name: &str) -> compose::Located {
        let (real, outside) = read::is_outside(&self.dir, name);
        compose::Located {
            key: real.display().to_string(),
            // As written in the compose file (so that the finding does not depend on
            // where the project is checked out); the real path only when a symlink,
            // not the name itself, leads outside.
            shown: if outside && !read::escapes_lexically(name) {
                format!("{name} (resolves to {})", real.display())
            } else {
                name.to_string()
            },
            outside,
        }
    }
    fn read(&self, at: &compose::Located) -> Result<String, read::ReadError> {
        read::read_text(std::path::Path::new(&at.key), self.max_file_bytes)
    }
}

/// Read (regular files only, within `opts.max_file_bytes`), detect, lint and apply
/// inline suppressions to one file.
pub fn lint_file_with(
    target: &Target,
    opts: &LintOptions,
) -> Result<Vec<ConfigFinding>, LintError> {
    let shown = target.path.display().to_string();
    let err = |m: String| LintError {
        path: shown.clone(),
        message: m,
    };
    let text =
        read::read_text(&target.path, opts.max_file_bytes).map_err(|e| err(e.to_string()))?;
    let kind = match target.kind.or_else(|| detect::kind_by_content(&text)) {
        Some(k) => k,
        None => {
            return Err(err(
                "not a Dockerfile, compose file or daemon.json (by name or content)".to_string(),
            ));
        }
    };
    let dir = match target.path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut vars = std::collections::BTreeMap::new();
    let mut notes = Vec::new();
    if kind == Kind::Compose {
        let (real, outside) = read::is_outside(&dir, ".env");
        let r = if outside {
            Err(format!(
                ".env is outside the project directory ({}): not read",
                real.display()
            ))
        } else {
            match read::read_text(&dir.join(".env"), opts.max_file_bytes) {
                Ok(env) => Ok(compose::parse_dotenv(&env)),
                Err(e) if e.is_not_found() => Ok(vars.clone()),
                Err(e) => Err(format!("{} not read: {e}", dir.join(".env").display())),
            }
        };
        match r {
            Ok(v) => vars = v,
            Err(m) => notes.push(m),
        }
    }
    let files = ProjectFiles {
        dir,
        max_file_bytes: opts.max_file_bytes,
    };
    let mut f = lint_source_config(
        kind,
        &shown,
        &text,
        &vars,
        &files,
        opts.compose,
        &opts.rules,
    )?;
    for m in notes {
        f.push(rules::dc018_compose_reference::META.finding(
            &moat_model::escape_control(&shown),
            1,
            1,
            moat_model::escape_control(&m),
        ));
    }
    f.sort();
    suppress::apply_inline_with(&text, &mut f, opts.hadolint_pragmas);
    Ok(f)
}

/// ShellCheck findings of a Dockerfile's `RUN` scripts (see [`shellcheck`]), with the
/// file's inline suppressions applied. Not a Dockerfile (by name or content): none.
pub fn lint_shellcheck(
    target: &Target,
    opts: &LintOptions,
    binary: &std::path::Path,
) -> Result<Vec<ConfigFinding>, LintError> {
    let shown = target.path.display().to_string();
    let err = |m: String| LintError {
        path: shown.clone(),
        message: m,
    };
    let text =
        read::read_text(&target.path, opts.max_file_bytes).map_err(|e| err(e.to_string()))?;
    if target.kind.or_else(|| detect::kind_by_content(&text)) != Some(Kind::Dockerfile) {
        return Ok(Vec::new());
    }
    let df = dockerfile::parse(&text);
    let mut f = shellcheck::check(binary, &shown, &df).map_err(|e| err(e.to_string()))?;
    suppress::apply_inline_with(&text, &mut f, opts.hadolint_pragmas);
    Ok(f)
}
