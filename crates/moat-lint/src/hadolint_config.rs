//! hadolint's configuration file (`.hadolint.yaml`), so that a team switching from
//! hadolint keeps its file.
//!
//! Keys read: `ignored` (codes never reported), `override` (`error`, `warning`, `info`,
//! `style`: lists of codes whose severity changes), `trustedRegistries`, `label-schema`
//! (label name → `text`, `url`, `rfc3339`, `spdx`, `hash`, `semver`, `email`),
//! `strict-labels`, `failure-threshold` (`error`, `warning`, `info`, `style`, `ignore`,
//! `none`), `disable-ignore-pragma`. Other keys of hadolint's (`format`, `no-color`,
//! `no-fail`, `verbose`) are accepted and not used. Codes are hadolint's (`DL3008`) or
//! moat's (`DF011`).
//!
//! hadolint's severities map to moat's: `error` → high, `warning` → medium, `info` and
//! `style` → low.
//!
//! Discovery ([`discover`]) follows hadolint: `.hadolint.yaml` (or `.yml`) in the working
//! directory, then `$XDG_CONFIG_HOME/hadolint.yaml`, `~/.config/hadolint.yaml`,
//! `~/.hadolint/hadolint.yaml`, `~/hadolint/config.yaml`, `~/.hadolint.yaml`.

use crate::rules::{LabelType, RuleConfig};
use crate::suppress::code_matches;
use moat_model::{ConfigFinding, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A bad `.hadolint.yaml`; its text has control characters escaped (it quotes input).
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: {}",
    moat_model::escape_control(path),
    moat_model::escape_control(message)
)]
pub struct HadolintConfigError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
struct Raw {
    #[serde(default)]
    ignored: Vec<String>,
    #[serde(default, rename = "override")]
    overrides: Overrides,
    #[serde(default, rename = "trustedRegistries")]
    trusted_registries: Vec<String>,
    #[serde(default, rename = "label-schema")]
    label_schema: BTreeMap<String, String>,
    #[serde(default, rename = "strict-labels")]
    strict_labels: bool,
    #[serde(default, rename = "failure-threshold")]
    failure_threshold: Option<String>,
    #[serde(default, rename = "disable-ignore-pragma")]
    disable_ignore_pragma: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Overrides {
    #[serde(default)]
    error: Vec<String>,
    #[serde(default)]
    warning: Vec<String>,
    #[serde(default)]
    info: Vec<String>,
    #[serde(default)]
    style: Vec<String>,
}

/// What the failure threshold says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    /// Fail on a finding of this severity or higher.
    AtLeast(Severity),
    /// Never fail (`none`, `ignore`).
    Never,
}

/// A loaded hadolint configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HadolintConfig {
    /// Codes never reported.
    pub ignored: Vec<String>,
    /// Codes whose findings get another severity (in file order: error, warning, info,
    /// style; a later list wins).
    pub overrides: Vec<(String, Severity)>,
    /// What the rules read (trusted registries, label schema, strict labels).
    pub rules: RuleConfig,
    pub failure_threshold: Option<Threshold>,
    /// `# hadolint ignore=` comments are not honoured.
    pub disable_ignore_pragma: bool,
}

/// hadolint's severity names in moat's scale.
pub fn severity(name: &str) -> Option<Severity> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "info" | "style" => Severity::Low,
        _ => return None,
    })
}

impl HadolintConfig {
    /// Parse the text of a `.hadolint.yaml`; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, HadolintConfigError> {
        let err = |m: String| HadolintConfigError {
            path: path.to_string(),
            message: m,
        };
        let raw: Raw = if text.trim().is_empty() {
            Raw::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                err(e
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("invalid YAML")
                    .to_string())
            })?
        };
        let mut label_schema = BTreeMap::new();
        for (k, t) in raw.label_schema {
            let ty = LabelType::parse(&t).ok_or_else(|| {
                err(format!(
                    "label-schema: {k}: unknown type {t:?} (text, url, rfc3339, spdx, hash, semver, email)"
                ))
            })?;
            label_schema.insert(k, ty);
        }
        let failure_threshold = match raw.failure_threshold.as_deref().map(str::trim) {
            None => None,
            Some(t) if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("ignore") => {
                Some(Threshold::Never)
            }
            Some(t) => Some(Threshold::AtLeast(severity(t).ok_or_else(|| {
                err(format!(
                    "failure-threshold: unknown level {t:?} (error, warning, info, style, ignore, none)"
                ))
            })?)),
        };
        let o = raw.overrides;
        let mut overrides = Vec::new();
        for (list, sev) in [
            (o.error, Severity::High),
            (o.warning, Severity::Medium),
            (o.info, Severity::Low),
            (o.style, Severity::Low),
        ] {
            overrides.extend(list.into_iter().map(|c| (c, sev)));
        }
        Ok(HadolintConfig {
            ignored: raw.ignored,
            overrides,
            rules: RuleConfig {
                trusted_registries: raw.trusted_registries,
                label_schema,
                strict_labels: raw.strict_labels,
            },
            failure_threshold,
            disable_ignore_pragma: raw.disable_ignore_pragma,
        })
    }

    /// Drop the ignored findings and apply the severity overrides.
    pub fn apply(&self, findings: &mut Vec<ConfigFinding>) {
        findings.retain(|f| !self.ignored.iter().any(|c| code_matches(c, f)));
        for f in findings.iter_mut() {
            if let Some((_, s)) = self
                .overrides
                .iter()
                .rev()
                .find(|(c, _)| code_matches(c, f))
            {
                f.severity = *s;
            }
        }
    }
}

/// The configuration file hadolint would read, first found of: `.hadolint.yaml`,
/// `.hadolint.yml` in `cwd`; `hadolint.yaml` in `xdg_config_home`; then under `home`:
/// `.config/hadolint.yaml`, `.hadolint/hadolint.yaml`, `hadolint/config.yaml`,
/// `.hadolint.yaml`.
pub fn discover(
    cwd: &Path,
    xdg_config_home: Option<&Path>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    let mut candidates = vec![cwd.join(".hadolint.yaml"), cwd.join(".hadolint.yml")];
    if let Some(x) = xdg_config_home {
        candidates.push(x.join("hadolint.yaml"));
    }
    if let Some(h) = home {
        candidates.extend([
            h.join(".config/hadolint.yaml"),
            h.join(".hadolint/hadolint.yaml"),
            h.join("hadolint/config.yaml"),
            h.join(".hadolint.yaml"),
        ]);
    }
    candidates.into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rule: &str, aliases: &[&str]) -> ConfigFinding {
        ConfigFinding {
            path: "Dockerfile".into(),
            line: 1,
            column: 1,
            rule: rule.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            severity: Severity::Low,
            message: String::new(),
        }
    }

    #[test]
    fn every_key() {
        let c = HadolintConfig::parse(
            ".hadolint.yaml",
            "failure-threshold: warning\nignored: [DL3008]\noverride:\n  error: [DL3059]\n  info: [DF029]\ntrustedRegistries:\n  - docker.io\n  - \"*.example.com\"\nlabel-schema:\n  maintainer: email\n  version: semver\nstrict-labels: true\nno-color: true\n",
        )
        .unwrap();
        assert_eq!(
            c.failure_threshold,
            Some(Threshold::AtLeast(Severity::Medium))
        );
        assert_eq!(c.rules.trusted_registries, ["docker.io", "*.example.com"]);
        assert_eq!(
            c.rules.label_schema.get("maintainer"),
            Some(&LabelType::Email)
        );
        assert!(c.rules.strict_labels);
        let mut v = vec![
            f("DF011", &["DL3008"]),
            f("DF065", &["DL3059"]),
            f("DF029", &["DL3003"]),
        ];
        c.apply(&mut v);
        let got: Vec<_> = v.iter().map(|f| (f.rule.as_str(), f.severity)).collect();
        assert_eq!(got, [("DF065", Severity::High), ("DF029", Severity::Low)]);
    }

    #[test]
    fn bad_values_name_the_file_and_key() {
        let e = HadolintConfig::parse("h.yaml", "label-schema:\n  a: colour\n").unwrap_err();
        assert!(e.to_string().starts_with("h.yaml: label-schema: a"), "{e}");
        let e = HadolintConfig::parse("h.yaml", "failure-threshold: loud\n").unwrap_err();
        assert!(e.to_string().contains("failure-threshold"), "{e}");
        assert!(HadolintConfig::parse("h.yaml", "ignored: [\n").is_err());
        assert_eq!(
            HadolintConfig::parse("h.yaml", "failure-threshold: none\n")
                .unwrap()
                .failure_threshold,
            Some(Threshold::Never)
        );
    }

    #[test]
    fn discovery_order() {
        let d = tempfile::tempdir().unwrap();
        let (cwd, home) = (d.path().join("w"), d.path().join("h"));
        std::fs::create_dir_all(home.join(".config")).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        assert_eq!(discover(&cwd, None, Some(&home)), None);
        std::fs::write(home.join(".hadolint.yaml"), "").unwrap();
        assert_eq!(
            discover(&cwd, None, Some(&home)),
            Some(home.join(".hadolint.yaml"))
        );
        std::fs::write(home.join(".config/hadolint.yaml"), "").unwrap();
        assert_eq!(
            discover(&cwd, None, Some(&home)),
            Some(home.join(".config/hadolint.yaml"))
        );
        std::fs::write(cwd.join(".hadolint.yml"), "").unwrap();
        assert_eq!(
            discover(&cwd, None, Some(&home)),
            Some(cwd.join(".hadolint.yml"))
        );
    }
}
