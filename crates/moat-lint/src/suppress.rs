//! Suppressions: inline comments and a config file.
//!
//! Inline, in any supported file:
//! - `# moat:ignore DF001,DF002 reason` on its own line silences those rules on the next
//!   non-comment line (in a Dockerfile: the next instruction); at the end of a line it
//!   silences them on that line.
//! - `# moat:ignore-file DF023 reason` silences them in the whole file.
//! - hadolint's `# hadolint ignore=DL3008,DL3009` is honoured through rule aliases.
//!
//! Codes match a rule's code or any of its aliases; `*` or `all` matches every rule.
//!
//! Config file (TOML, `--config` or `.moat-lint.toml` in the working directory):
//! ```toml
//! ignore = ["DF023"]          # never report these
//! [[suppress]]
//! rules = ["DF002"]
//! paths = ["test/**", "**/examples/**"]
//! reason = "test images run as root on purpose"
//! ```

use moat_model::ConfigFinding;
use serde::Deserialize;

/// Does `code` (a rule code, alias, prefix such as `DF0`, `*` or `all`) match this finding?
pub fn code_matches(code: &str, f: &ConfigFinding) -> bool {
    let c = code.trim();
    if c == "*" || c.eq_ignore_ascii_case("all") {
        return true;
    }
    let up = c.to_ascii_uppercase();
    f.rule.to_ascii_uppercase().starts_with(&up)
        || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(c))
}

#[derive(Debug, Clone)]
struct Inline {
    /// Line the suppression covers; 0 = whole file.
    line: u32,
    codes: Vec<String>,
}

fn parse_codes(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// hadolint's ignore pragmas: `hadolint ignore=A,B` and `hadolint global ignore=A, B`
/// (spaces around `=` and `,` allowed; a `#` after the list starts a comment). As in
/// hadolint, a list with a code that is not a rule code (`crazy`) is not a pragma.
/// Returns (file-wide, codes).
pub fn hadolint_pragma(comment: &str) -> Option<(bool, Vec<String>)> {
    let rest = comment.trim().strip_prefix("hadolint")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let (global, rest) = match rest.strip_prefix("global") {
        Some(r) if r.starts_with(char::is_whitespace) => (true, r.trim_start()),
        _ => (false, rest),
    };
    let rest = rest
        .strip_prefix("ignore")?
        .trim_start()
        .strip_prefix('=')?;
    let list = rest.split('#').next().unwrap_or("");
    let codes: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let valid = |c: &str| {
        let letters = c.chars().take_while(|ch| ch.is_ascii_uppercase()).count();
        letters > 0 && c.len() > letters && c[letters..].chars().all(|ch| ch.is_ascii_digit())
    };
    (!codes.is_empty() && codes.iter().all(|c| valid(c))).then_some((global, codes))
}

/// Collect inline suppressions of a file's text (hadolint's pragmas too when `hadolint`).
fn inline(text: &str, hadolint: bool) -> Vec<Inline> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(pos) = l.find('#') else { continue };
        let comment = l[pos + 1..].trim();
        let own_line = l[..pos].trim().is_empty();
        let (file_wide, codes) = if let Some(r) = comment.strip_prefix("moat:ignore-file") {
            (
                true,
                r.split_whitespace()
                    .next()
                    .map(parse_codes)
                    .unwrap_or_default(),
            )
        } else if let Some(r) = comment.strip_prefix("moat:ignore") {
            (
                false,
                r.split_whitespace()
                    .next()
                    .map(parse_codes)
                    .unwrap_or_default(),
            )
        } else if let Some((global, codes)) = hadolint_pragma(comment).filter(|_| hadolint) {
            (global, codes)
        } else {
            continue;
        };
        if codes.is_empty() {
            continue;
        }
        let line = if file_wide {
            0
        } else if own_line {
            // The next line that is neither empty nor a comment.
            match lines[i + 1..].iter().position(|n| {
                let t = n.trim();
                !t.is_empty() && !t.starts_with('#')
            }) {
                Some(p) => (i + 1 + p + 1) as u32,
                None => continue,
            }
        } else {
            (i + 1) as u32
        };
        out.push(Inline { line, codes });
    }
    out
}

/// Drop findings silenced by inline comments in `text`.
pub fn apply_inline(text: &str, findings: &mut Vec<ConfigFinding>) {
    apply_inline_with(text, findings, true)
}

/// Drop findings silenced by inline comments in `text`; `hadolint`: honour
/// `# hadolint ignore=` pragmas too.
pub fn apply_inline_with(text: &str, findings: &mut Vec<ConfigFinding>, hadolint: bool) {
    let sup = inline(text, hadolint);
    if sup.is_empty() {
        return;
    }
    findings.retain(|f| {
        !sup.iter().any(|s| {
            (s.line == 0 || s.line == f.line) && s.codes.iter().any(|c| code_matches(c, f))
        })
    });
}

/// The suppression config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub suppress: Vec<Suppress>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppress {
    pub rules: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub reason: String,
}

/// A bad suppression config; its text has control characters escaped (it quotes input).
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: {}",
    moat_model::escape_control(path),
    moat_model::escape_control(message)
)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// A loaded config with compiled path globs.
#[derive(Debug, Default)]
pub struct Suppressions {
    config: Config,
    globs: Vec<Option<globset::GlobSet>>,
}

impl Suppressions {
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError {
            path: path.to_string(),
            message: e
                .to_string()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_string(),
        })?;
        let mut globs = Vec::new();
        for s in &config.suppress {
            if s.paths.is_empty() {
                globs.push(None);
                continue;
            }
            let mut b = globset::GlobSetBuilder::new();
            for p in &s.paths {
                let g = globset::GlobBuilder::new(p)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| ConfigError {
                        path: path.to_string(),
                        message: format!("bad path pattern {p:?}: {e}"),
                    })?;
                b.add(g);
            }
            globs.push(Some(b.build().map_err(|e| ConfigError {
                path: path.to_string(),
                message: e.to_string(),
            })?));
        }
        Ok(Suppressions { config, globs })
    }

    /// Is this finding silenced by the config?
    pub fn silences(&self, f: &ConfigFinding) -> bool {
        if self.config.ignore.iter().any(|c| code_matches(c, f)) {
            return true;
        }
        let p = f.path.trim_start_matches("./");
        self.config.suppress.iter().zip(&self.globs).any(|(s, g)| {
            s.rules.iter().any(|c| code_matches(c, f)) && g.as_ref().is_none_or(|g| g.is_match(p))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moat_model::Severity;

    fn f(rule: &str, line: u32, aliases: &[&str]) -> ConfigFinding {
        ConfigFinding {
            path: "app/Dockerfile".into(),
            line,
            column: 1,
            rule: rule.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            severity: Severity::Low,
            message: String::new(),
        }
    }

    #[test]
    fn inline_next_line_same_line_file_and_hadolint() {
        let text = "FROM x\n# moat:ignore DF011 pinned elsewhere\n\nRUN apt-get install y\nUSER root # moat:ignore DF001\n# hadolint ignore=DL3003\nRUN cd /x\n# moat:ignore-file DF023\n";
        let mut v = vec![
            f("DF011", 4, &[]),
            f("DF012", 4, &[]),
            f("DF001", 5, &[]),
            f("DF029", 7, &["DL3003"]),
            f("DF023", 1, &[]),
        ];
        apply_inline(text, &mut v);
        let left: Vec<_> = v.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(left, ["DF012"]);
    }

    #[test]
    fn config_file() {
        let s = Suppressions::parse("c.toml", "ignore = [\"DL3008\"]\n[[suppress]]\nrules=[\"DF002\"]\npaths=[\"app/**\"]\nreason=\"x\"\n").unwrap();
        assert!(s.silences(&f("DF011", 1, &["DL3008"])));
        assert!(s.silences(&f("DF002", 1, &[])));
        assert!(!s.silences(&f("DF001", 1, &[])));
        assert!(Suppressions::parse("c.toml", "bogus = 1").is_err());
    }
}
