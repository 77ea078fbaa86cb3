//! Configuration linter: Dockerfile, compose, daemon.json and image-config rules.
//!
//! Entry points: [`lint_source`] (one file's text of a known kind), [`detect_kind`],
//! [`rules::RULES`] (the registry), [`image_config::check`] (for `moat scan`).

pub mod compose;
pub mod daemon;
pub mod detect;
pub mod dockerfile;
pub mod image_config;
pub mod rules;
pub mod shell;
pub mod suppress;

pub use detect::detect_kind;

use moat_model::ConfigFinding;
use rules::{DfCtx, RULES, Sink};

/// The kind of a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Dockerfile,
    Compose,
    Daemon,
}

/// An error that stops linting one file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct LintError {
    pub path: String,
    pub message: String,
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
    let mut findings = Vec::new();
    match kind {
        Kind::Dockerfile => {
            let df = dockerfile::parse(text);
            let cx = DfCtx::new(&df);
            for r in RULES {
                let mut sink = Sink {
                    path,
                    meta: r.meta(),
                    findings: &mut findings,
                };
                r.dockerfile(&cx, &mut sink);
            }
        }
        Kind::Compose => {
            let c = compose::parse_with_loader(text, vars, load).map_err(|e| LintError {
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

/// Files larger than this are not linted (configuration files are small).
pub const MAX_FILE_SIZE: u64 = 8 << 20;

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

/// Read, detect, lint and apply inline suppressions to one file.
pub fn lint_file(target: &Target) -> Result<Vec<ConfigFinding>, LintError> {
    let shown = target.path.display().to_string();
    let err = |m: String| LintError {
        path: shown.clone(),
        message: m,
    };
    let md = std::fs::metadata(&target.path).map_err(|e| err(e.to_string()))?;
    if md.len() > MAX_FILE_SIZE {
        return Err(err(format!("file is larger than {MAX_FILE_SIZE} bytes")));
    }
    let bytes = std::fs::read(&target.path).map_err(|e| err(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| err("not UTF-8 text".to_string()))?;
    let kind = match target.kind.or_else(|| detect::kind_by_content(&text)) {
        Some(k) => k,
        None => {
            return Err(err(
                "not a Dockerfile, compose file or daemon.json (by name or content)".to_string(),
            ));
        }
    };
    let mut vars = std::collections::BTreeMap::new();
    if kind == Kind::Compose
        && let Some(dir) = target.path.parent()
        && let Ok(env) = std::fs::read_to_string(dir.join(".env"))
    {
        vars = compose::parse_dotenv(&env);
    }
    let dir = target
        .path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let load = |name: &str| -> Option<String> {
        let p = dir.join(name);
        let md = std::fs::metadata(&p).ok()?;
        if md.len() > MAX_FILE_SIZE {
            return None;
        }
        std::fs::read_to_string(p).ok()
    };
    let mut f = lint_source_full(kind, &shown, &text, &vars, &load)?;
    suppress::apply_inline(&text, &mut f);
    Ok(f)
}
