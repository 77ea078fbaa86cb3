//! The secret scanner: rules from `rules/secrets.yaml` (and a user's `--secret-config`),
//! each with keywords for an Aho-Corasick prefilter, a regex, an optional entropy floor
//! and allow-lists. A file is searched by one Aho-Corasick pass over every rule's
//! keywords; only the rules whose keywords occur run their regex.

use crate::ContentError;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use moat_model::Severity;
use moat_model::content::SecretFinding;
use moat_model::report::FindingLocation;
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

/// The bundled rules.
pub const BUNDLED_RULES: &str = include_str!("../rules/secrets.yaml");

/// Bytes of a file looked at for a NUL to call it binary.
const BINARY_PROBE: usize = 8192;

/// Where a text comes from: a file, or a field of the image config / history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    File,
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RuleTarget {
    #[default]
    Any,
    File,
    Config,
}

/// One rule as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    category: String,
    title: String,
    severity: Severity,
    #[serde(default)]
    keywords: Vec<String>,
    regex: String,
    /// The capture group holding the secret (default: 1 if the regex has one, else 0).
    #[serde(default)]
    group: Option<usize>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    entropy: Option<f64>,
    /// The rule applies only to paths matching this regex.
    #[serde(default)]
    path: Option<String>,
    /// Secrets matching any of these regexes are not reported.
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    target: RuleTarget,
    /// Also search binary files.
    #[serde(default)]
    binary: bool,
    /// A keyword-and-entropy rule: not applied to files that a package installed.
    #[serde(default)]
    generic: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    values: Vec<String>,
}

/// The rules file, bundled or the user's (`--secret-config`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allow: RawAllow,
    /// Rule ids to turn off (user configs).
    #[serde(default)]
    disable: Vec<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct SecretRule {
    pub id: String,
    pub category: String,
    pub title: String,
    pub severity: Severity,
    pub keywords: Vec<String>,
    regex: Regex,
    group: usize,
    entropy: Option<f64>,
    path: Option<Regex>,
    allow: Vec<Regex>,
    target: RuleTarget,
    binary: bool,
    pub generic: bool,
}

/// The compiled rule set.
#[derive(Debug, Clone)]
pub struct SecretScanner {
    rules: Vec<SecretRule>,
    ac: Option<AhoCorasick>,
    /// Aho-Corasick pattern index → the rules it wakes.
    by_keyword: Vec<Vec<usize>>,
    /// Rules without keywords: always run.
    always: Vec<usize>,
    allow_paths: Vec<Regex>,
    allow_values: Vec<Regex>,
    /// The order rules claim matches in.
    order: Vec<usize>,
    /// Some rule searches binary files (`binary: true`).
    any_binary: bool,
}

/// Rules are ASCII: `\b`, `\w`, `\s` and case folding are ASCII too, which keeps every
/// regex on the fast DFA engines (a Unicode `\b` forces the slow PikeVM on bytes) and
/// compiles the rule set in a fraction of the time.
fn re(origin: &str, what: &str, src: &str) -> Result<Regex, ContentError> {
    regex::bytes::RegexBuilder::new(src)
        .unicode(false)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| ContentError::rules(origin, format!("{what}: {e}")))
}

impl SecretScanner {
    /// The bundled rules only.
    pub fn bundled() -> Result<SecretScanner, ContentError> {
        SecretScanner::new(None)
    }

    /// The bundled rules, with a user's config file (extra rules, rules replacing a
    /// bundled one by id, allow-lists, `disable`).
    pub fn new(user: Option<&Path>) -> Result<SecretScanner, ContentError> {
        let mut cfg: RawConfig = serde_saphyr::from_str(BUNDLED_RULES)
            .map_err(|e| ContentError::rules("bundled secrets.yaml", e.to_string()))?;
        let mut origins = vec!["bundled secrets.yaml".to_string(); cfg.rules.len()];
        if let Some(p) = user {
            let origin = p.display().to_string();
            let text = std::fs::read_to_string(p)
                .map_err(|e| ContentError::rules(&origin, e.to_string()))?;
            let u: RawConfig = serde_saphyr::from_str(&text)
                .map_err(|e| ContentError::rules(&origin, e.to_string()))?;
            let off: BTreeSet<String> = u.disable.iter().cloned().collect();
            let replaced: BTreeSet<String> = u.rules.iter().map(|r| r.id.clone()).collect();
            let keep: Vec<bool> = cfg
                .rules
                .iter()
                .map(|r| !off.contains(&r.id) && !replaced.contains(&r.id))
                .collect();
            let mut i = 0;
            cfg.rules.retain(|_| {
                i += 1;
                keep[i - 1]
            });
            origins = vec!["bundled secrets.yaml".to_string(); cfg.rules.len()];
            for r in u.rules {
                if !off.contains(&r.id) {
                    cfg.rules.push(r);
                    origins.push(origin.clone());
                }
            }
            cfg.allow.paths.extend(u.allow.paths);
            cfg.allow.values.extend(u.allow.values);
        }
        let mut rules = Vec::with_capacity(cfg.rules.len());
        let mut seen = BTreeSet::new();
        for (r, origin) in cfg.rules.into_iter().zip(origins) {
            if !seen.insert(r.id.clone()) {
                return Err(ContentError::rules(
                    &origin,
                    format!("rule {} is defined twice", r.id),
                ));
            }
            let regex = re(&origin, &r.id, &r.regex)?;
            let group = r
                .group
                .unwrap_or(if regex.captures_len() > 1 { 1 } else { 0 });
            if group >= regex.captures_len() {
                return Err(ContentError::rules(
                    &origin,
                    format!("{}: the regex has no group {group}", r.id),
                ));
            }
            rules.push(SecretRule {
                path: r
                    .path
                    .as_deref()
                    .map(|p| re(&origin, &r.id, p))
                    .transpose()?,
                allow: r
                    .allow
                    .iter()
                    .map(|a| re(&origin, &r.id, a))
                    .collect::<Result<_, _>>()?,
                id: r.id,
                category: r.category,
                title: r.title,
                severity: r.severity,
                keywords: r.keywords,
                regex,
                group,
                entropy: r.entropy,
                target: r.target,
                binary: r.binary,
                generic: r.generic,
            });
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut by_keyword: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.keywords.is_empty() {
                always.push(i);
            }
            for k in &r.keywords {
                let k = k.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == k) {
                    Some(j) => by_keyword[j].push(i),
                    None => {
                        patterns.push(k);
                        by_keyword.push(vec![i]);
                    }
                }
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(&patterns)
                    .map_err(|e| ContentError::rules("secret keywords", e.to_string()))?,
            )
        };
        let allow_paths = cfg
            .allow
            .paths
            .iter()
            .map(|p| re("allow.paths", p, p))
            .collect::<Result<_, _>>()?;
        let allow_values = cfg
            .allow
            .values
            .iter()
            .map(|p| re("allow.values", p, p))
            .collect::<Result<_, _>>()?;
        let mut order: Vec<usize> = (0..rules.len()).collect();
        order.sort_by_key(|&i| rules[i].generic);
        Ok(SecretScanner {
            any_binary: rules.iter().any(|r| r.binary),
            order,
            rules,
            ac,
            by_keyword,
            always,
            allow_paths,
            allow_values,
        })
    }

    pub fn rules(&self) -> &[SecretRule] {
        &self.rules
    }

    /// True when the path is on the allow-list (documentation, package test fixtures).
    pub fn path_allowed(&self, path: &str) -> bool {
        self.allow_paths.iter().any(|r| r.is_match(path.as_bytes()))
    }

    /// The secrets in `data`, read from `path`. `packaged`: the file was installed by a
    /// package (generic keyword rules skip it). Location layers are left empty.
    pub fn scan(
        &self,
        path: &str,
        data: &[u8],
        target: Target,
        packaged: bool,
    ) -> Vec<SecretFinding> {
        if target == Target::File && self.path_allowed(path) {
            return Vec::new();
        }
        let binary = target == Target::File && is_binary(data);
        if binary && !self.any_binary {
            // No rule searches binary files: not even the prefilter runs.
            return Vec::new();
        }
        let mut wake = vec![false; self.rules.len()];
        for &i in &self.always {
            wake[i] = true;
        }
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(data) {
                if let Some(rs) = self.by_keyword.get(m.pattern().as_usize()) {
                    for &r in rs {
                        wake[r] = true;
                    }
                }
            }
        }
        let mut hits: Vec<(usize, usize, usize)> = Vec::new(); // (rule, start, end)
        // Specific rules claim a match first (in file order), generic ones last.
        for &i in &self.order {
            let rule = &self.rules[i];
            if !wake[i]
                || (binary && !rule.binary)
                || (packaged && rule.generic)
                || !target_ok(rule.target, target)
                || rule
                    .path
                    .as_ref()
                    .is_some_and(|p| !p.is_match(path.as_bytes()))
            {
                continue;
            }
            for caps in rule.regex.captures_iter(data) {
                let Some(m) = caps.get(rule.group) else {
                    continue;
                };
                let secret = m.as_bytes();
                if secret.is_empty()
                    || rule.allow.iter().any(|a| a.is_match(secret))
                    || self.allow_values.iter().any(|a| a.is_match(secret))
                    || rule.entropy.is_some_and(|e| entropy(secret) < e)
                {
                    continue;
                }
                // One finding per place: a later rule matching the same bytes is
                // the same secret.
                if hits.iter().any(|&(_, s, e)| s < m.end() && m.start() < e) {
                    continue;
                }
                hits.push((i, m.start(), m.end()));
            }
        }
        hits.sort_by_key(|&(_, s, _)| s);
        let ranges: Vec<(usize, usize)> = hits.iter().map(|&(_, s, e)| (s, e)).collect();
        hits.into_iter()
            .map(|(i, s, e)| {
                let rule = &self.rules[i];
                let (line, col, ls, le) = line_of(data, s);
                SecretFinding {
                    rule: rule.id.clone(),
                    category: rule.category.clone(),
                    severity: rule.severity,
                    title: rule.title.clone(),
                    location: FindingLocation {
                        path: path.to_string(),
                        layer: String::new(),
                        line,
                        column: col,
                    },
                    redacted: redact(&data[s..e]),
                    length: e - s,
                    snippet: snippet(data, ls, le, &ranges, s),
                    deleted_in: None,
                }
            })
            .collect()
    }
}

fn target_ok(rule: RuleTarget, t: Target) -> bool {
    matches!(
        (rule, t),
        (RuleTarget::Any, _)
            | (RuleTarget::File, Target::File)
            | (RuleTarget::Config, Target::Config)
    )
}

/// A NUL in the first 8 KiB.
pub fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(BINARY_PROBE)].contains(&0)
}

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A prefix (a quarter of the secret, at most 4 bytes), then `*` for every further
/// byte (at most 60 shown, then `…(N bytes)`).
pub fn redact(secret: &[u8]) -> String {
    let keep = (secret.len() / 4).min(4);
    let mut out: String = secret[..keep]
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    let rest = secret.len() - keep;
    out.extend(std::iter::repeat_n('*', rest.min(60)));
    if rest > 60 {
        out.push_str(&format!("…({} bytes)", secret.len()));
    }
    out
}

/// 1-based line and column of byte `at`, and the line's byte range.
fn line_of(data: &[u8], at: usize) -> (u32, u32, usize, usize) {
    let before = &data[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let ls = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let le = data[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |p| at + p);
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(at - ls + 1).unwrap_or(u32::MAX),
        ls,
        le,
    )
}

/// The line `ls..le` with every secret range on it redacted, cut to 160 characters
/// around `at`.
fn snippet(data: &[u8], ls: usize, le: usize, ranges: &[(usize, usize)], at: usize) -> String {
    let mut out = Vec::new();
    let mut i = ls;
    let mut at_out = 0;
    while i < le {
        if let Some(&(s, e)) = ranges.iter().find(|&&(s, e)| s <= i && i < e) {
            if s == at {
                at_out = out.len();
            }
            out.extend_from_slice(redact(&data[s..e]).as_bytes());
            i = e.max(i + 1);
            continue;
        }
        out.push(data[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&out);
    let text = moat_model::escape_control(text.trim_end_matches('\r')).into_owned();
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 160 {
        return text;
    }
    // Window around the match (byte position as an estimate of the char position).
    let start = at_out.min(chars.len()).saturating_sub(40);
    let end = (start + 160).min(chars.len());
    chars[start..end].iter().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn redaction_keeps_prefix_and_length() {
        assert_eq!(redact(b"AKIAABCDEFGHIJKLMNOP"), "AKIA****************");
        assert_eq!(redact(b"abc"), "***");
        let long = vec![b'x'; 100];
        let r = redact(&long);
        assert!(r.starts_with("xxxx*") && r.ends_with("…(100 bytes)"), "{r}");
    }

    #[test]
    fn entropy_orders_random_above_repeated() {
        assert!(entropy(b"aaaaaaaaaaaa") < 0.1);
        assert!(entropy(b"q8Zr2LmP0xVb7TnK") > 3.5);
    }
}
