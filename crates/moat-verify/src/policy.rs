//! The policy file (YAML): rules scoped by image glob. Read into a line-numbered tree
//! (moat-lint's compose `Node`) and checked key by key, so an error names the line and
//! the key (`policy.yml:7: rules[0].max_age_days: expected a whole number of days`).
//!
//! ```yaml
//! unmatched: deny                  # an image no rule covers fails (default)
//! trusted_root: trusted_root.json  # for keyless identities (relative to this file)
//! rules:
//!   - images: ["registry.example.com/team/**"]
//!     allowed_registries: [registry.example.com]
//!     allowed_repositories: ["registry.example.com/team/*"]
//!     require_digest: true
//!     max_age_days: 90
//!     signatures:
//!       - key: keys/ci.pub
//!       - issuer: https://token.actions.githubusercontent.com
//!         subject: "https://github.com/org/*/.github/workflows/release.yml@refs/heads/main"
//!     attestations:
//!       - predicate_type: https://slsa.dev/provenance/v1
//!         builder_id: https://github.com/org/builder
//!         key: keys/ci.pub
//!     forbidden_base_images: ["docker.io/library/debian:9*"]
//!     scan: {max_severity: high, kev: deny}
//! ```

use crate::error::VerifyError;
use moat_lint::compose::{Node, Value};
use moat_model::Severity;
use std::path::{Path, PathBuf};

/// A validated policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// An image that no rule covers passes (`unmatched: allow`) or fails (`deny`).
    pub unmatched_allowed: bool,
    pub trusted_root: Option<PathBuf>,
    /// Where the policy came from (for messages).
    pub path: String,
}

/// One rule: the images it covers and what they must satisfy.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// `rules[N]` and its line.
    pub name: String,
    pub images: Vec<Glob>,
    pub allowed_registries: Vec<Glob>,
    pub allowed_repositories: Vec<Glob>,
    pub require_digest: bool,
    pub max_age_days: Option<u64>,
    pub signatures: Vec<Requirement>,
    pub attestations: Vec<AttestationRequirement>,
    pub forbidden_base_images: Vec<Glob>,
    pub scan: Option<ScanGate>,
}

/// A glob over `host/repository[:tag]`: `*` stays within one path component, `**`
/// crosses them.
#[derive(Debug, Clone)]
pub struct Glob {
    pub text: String,
    matcher: globset::GlobMatcher,
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, globset::Error> {
        let g = globset::GlobBuilder::new(text)
            .literal_separator(true)
            .build()?;
        Ok(Glob {
            text: text.to_string(),
            matcher: g.compile_matcher(),
        })
    }
    pub fn is_match(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }
}

/// Who must have signed: one of these keys, or a keyless identity.
#[derive(Debug, Clone)]
pub enum Signer {
    /// Any of the key files (resolved relative to the policy file).
    Keys(Vec<PathBuf>),
    /// A certificate from the trusted root naming this OIDC issuer and a subject
    /// (SAN e-mail or URI) matching the pattern.
    Keyless {
        issuer: String,
        subject: SubjectPattern,
    },
}

/// `subject`: exact text or a glob (`*` any run of characters); `subject_regex`: a regex.
#[derive(Debug, Clone)]
pub enum SubjectPattern {
    Glob(String, regex::Regex),
    Regex(regex::Regex),
}

impl SubjectPattern {
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            SubjectPattern::Glob(_, r) | SubjectPattern::Regex(r) => r.is_match(s),
        }
    }
    pub fn text(&self) -> &str {
        match self {
            SubjectPattern::Glob(t, _) => t,
            SubjectPattern::Regex(r) => r.as_str(),
        }
    }
}

/// A required signature.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub signer: Signer,
    pub line: u32,
}

/// A required attestation.
#[derive(Debug, Clone)]
pub struct AttestationRequirement {
    pub predicate_type: String,
    /// SLSA provenance: the builder id must be this.
    pub builder_id: Option<String>,
    /// Who must have signed it; `None`: any key or identity the run trusts.
    pub signer: Option<Signer>,
    pub line: u32,
}

/// The scan gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanGate {
    /// Fail on a finding at or above… no: fail on a finding *above* this severity.
    pub max_severity: Option<Severity>,
    pub kev_deny: bool,
}

struct Cx<'a> {
    path: &'a str,
    dir: &'a Path,
}

impl Cx<'_> {
    fn err(&self, n: &Node, key: &str, message: impl Into<String>) -> VerifyError {
        VerifyError::Policy {
            path: self.path.to_string(),
            line: n.line,
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn map<'n>(&self, n: &'n Node, key: &str) -> Result<&'n [(Node, Node)], VerifyError> {
        match &n.value {
            Value::Map(m) => Ok(m),
            _ => Err(self.err(n, key, "expected a mapping")),
        }
    }

    fn string(&self, n: &Node, key: &str) -> Result<String, VerifyError> {
        match &n.value {
            Value::Str(s) if !s.is_empty() => Ok(s.clone()),
            Value::Str(_) => Err(self.err(n, key, "must not be empty")),
            Value::Int(i) => Ok(i.to_string()),
            _ => Err(self.err(n, key, "expected a string")),
        }
    }

    fn strings(&self, n: &Node, key: &str) -> Result<Vec<String>, VerifyError> {
        match &n.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, it)| self.string(it, &format!("{key}[{i}]")))
                .collect(),
            _ => Ok(vec![self.string(n, key)?]),
        }
    }

    fn globs(&self, n: &Node, key: &str) -> Result<Vec<Glob>, VerifyError> {
        self.strings(n, key)?
            .iter()
            .map(|s| Glob::new(s).map_err(|e| self.err(n, key, format!("bad glob {s:?}: {e}"))))
            .collect()
    }

    fn boolean(&self, n: &Node, key: &str) -> Result<bool, VerifyError> {
        match &n.value {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.err(n, key, "expected true or false")),
        }
    }

    fn file(&self, n: &Node, key: &str) -> Result<PathBuf, VerifyError> {
        let s = self.string(n, key)?;
        let p = Path::new(&s);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        })
    }

    fn check_keys(
        &self,
        m: &[(Node, Node)],
        allowed: &[&str],
        at: &str,
    ) -> Result<(), VerifyError> {
        for (k, _) in m {
            let name = k.as_str().unwrap_or_default();
            if !allowed.contains(&name.as_str()) {
                return Err(self.err(
                    k,
                    &format!("{at}{name}"),
                    format!("unknown key (expected one of: {})", allowed.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn signer(
        &self,
        m: &[(Node, Node)],
        key: &str,
        n: &Node,
    ) -> Result<Option<Signer>, VerifyError> {
        let get = |k: &str| m.iter().find(|(kk, _)| kk.as_str().as_deref() == Some(k));
        let keys = match (get("key"), get("keys")) {
            (Some((_, v)), None) => Some(vec![self.file(v, &format!("{key}.key"))?]),
            (None, Some((_, v))) => Some(
                self.strings(v, &format!("{key}.keys"))?
                    .iter()
                    .map(|s| {
                        let p = Path::new(s);
                        if p.is_absolute() {
                            p.to_path_buf()
                        } else {
                            self.dir.join(p)
                        }
                    })
                    .collect(),
            ),
            (Some(_), Some((k, _))) => {
                return Err(self.err(k, &format!("{key}.keys"), "give `key` or `keys`, not both"));
            }
            (None, None) => None,
        };
        let issuer = get("issuer");
        let subject = get("subject");
        let subject_regex = get("subject_regex");
        match (keys, issuer) {
            (Some(_), Some((k, _))) => Err(self.err(
                k,
                &format!("{key}.issuer"),
                "a signer is a key or a keyless identity, not both",
            )),
            (Some(k), None) => Ok(Some(Signer::Keys(k))),
            (None, Some((_, iv))) => {
                let issuer = self.string(iv, &format!("{key}.issuer"))?;
                let subject = match (subject, subject_regex) {
                    (Some((_, sv)), None) => {
                        let s = self.string(sv, &format!("{key}.subject"))?;
                        let re = format!(
                            "^{}$",
                            s.split('*')
                                .map(regex::escape)
                                .collect::<Vec<_>>()
                                .join(".*")
                        );
                        let r = regex::Regex::new(&re)
                            .map_err(|e| self.err(sv, &format!("{key}.subject"), e.to_string()))?;
                        SubjectPattern::Glob(s, r)
                    }
                    (None, Some((_, rv))) => {
                        let s = self.string(rv, &format!("{key}.subject_regex"))?;
                        let r = regex::Regex::new(&s).map_err(|e| {
                            self.err(
                                rv,
                                &format!("{key}.subject_regex"),
                                format!("bad regex: {e}"),
                            )
                        })?;
                        SubjectPattern::Regex(r)
                    }
                    (Some(_), Some((k, _))) => {
                        return Err(self.err(
                            k,
                            &format!("{key}.subject_regex"),
                            "give `subject` or `subject_regex`, not both",
                        ));
                    }
                    (None, None) => {
                        return Err(self.err(
                            n,
                            key,
                            "a keyless identity needs `subject` or `subject_regex` with `issuer`",
                        ));
                    }
                };
                Ok(Some(Signer::Keyless { issuer, subject }))
            }
            (None, None) => {
                if let Some((k, _)) = subject.or(subject_regex) {
                    return Err(self.err(k, key, "`subject` needs an `issuer`"));
                }
                Ok(None)
            }
        }
    }
}

const SIGNER_KEYS: [&str; 5] = ["key", "keys", "issuer", "subject", "subject_regex"];

impl Policy {
    /// Read and validate a policy file.
    pub fn load(path: &Path) -> Result<Policy, VerifyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| VerifyError::source(path.display().to_string(), e))?;
        Policy::parse(
            &text,
            &path.display().to_string(),
            path.parent().unwrap_or(Path::new(".")),
        )
    }

    /// Validate policy text; relative key paths are resolved against `dir`.
    pub fn parse(text: &str, path: &str, dir: &Path) -> Result<Policy, VerifyError> {
        let cx = Cx { path, dir };
        let root: Node = serde_saphyr::from_str(text).map_err(|e| VerifyError::Policy {
            path: path.to_string(),
            line: 0,
            key: "(document)".into(),
            message: format!("not valid YAML: {e}"),
        })?;
        let top = cx.map(&root, "(document)")?;
        cx.check_keys(top, &["version", "unmatched", "trusted_root", "rules"], "")?;
        let mut policy = Policy {
            path: path.to_string(),
            ..Policy::default()
        };
        for (k, v) in top {
            match k.as_str().unwrap_or_default().as_str() {
                "version" if !matches!(v.value, Value::Int(1)) => {
                    return Err(cx.err(v, "version", "only version 1 is known"));
                }
                "unmatched" => {
                    policy.unmatched_allowed = match cx.string(v, "unmatched")?.as_str() {
                        "allow" => true,
                        "deny" => false,
                        o => {
                            return Err(cx.err(
                                v,
                                "unmatched",
                                format!("{o:?}: expected allow or deny"),
                            ));
                        }
                    }
                }
                "trusted_root" => policy.trusted_root = Some(cx.file(v, "trusted_root")?),
                "rules" => {
                    let Value::Seq(items) = &v.value else {
                        return Err(cx.err(v, "rules", "expected a list of rules"));
                    };
                    for (i, item) in items.iter().enumerate() {
                        policy.rules.push(parse_rule(&cx, item, i)?);
                    }
                }
                _ => {}
            }
        }
        Ok(policy)
    }

    /// The rules covering `name` (`host/repository[:tag]`).
    pub fn rules_for(&self, name: &str) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| {
                r.images
                    .iter()
                    .any(|g| g.is_match(name) || g.is_match(name.split('@').next().unwrap_or(name)))
            })
            .collect()
    }
}

fn parse_rule(cx: &Cx, n: &Node, i: usize) -> Result<Rule, VerifyError> {
    let at = format!("rules[{i}]");
    let m = cx.map(n, &at)?;
    cx.check_keys(
        m,
        &[
            "images",
            "allowed_registries",
            "allowed_repositories",
            "require_digest",
            "max_age_days",
            "signatures",
            "attestations",
            "forbidden_base_images",
            "scan",
        ],
        &format!("{at}."),
    )?;
    let mut r = Rule {
        name: format!("{at} (line {})", n.line),
        ..Rule::default()
    };
    let mut has_images = false;
    for (k, v) in m {
        let name = k.as_str().unwrap_or_default();
        let key = format!("{at}.{name}");
        match name.as_str() {
            "images" => {
                r.images = cx.globs(v, &key)?;
                has_images = true;
            }
            "allowed_registries" => r.allowed_registries = cx.globs(v, &key)?,
            "allowed_repositories" => r.allowed_repositories = cx.globs(v, &key)?,
            "require_digest" => r.require_digest = cx.boolean(v, &key)?,
            "max_age_days" => match v.value {
                Value::Int(d) if d >= 0 => r.max_age_days = Some(d.unsigned_abs()),
                _ => return Err(cx.err(v, &key, "expected a whole number of days")),
            },
            "forbidden_base_images" => r.forbidden_base_images = cx.globs(v, &key)?,
            "signatures" => {
                let Value::Seq(items) = &v.value else {
                    return Err(cx.err(v, &key, "expected a list of signers"));
                };
                for (j, it) in items.iter().enumerate() {
                    let key = format!("{key}[{j}]");
                    let sm = cx.map(it, &key)?;
                    cx.check_keys(sm, &SIGNER_KEYS, &format!("{key}."))?;
                    let signer = cx.signer(sm, &key, it)?.ok_or_else(|| {
                        cx.err(
                            it,
                            &key,
                            "a signer needs `key`, `keys` or `issuer` + `subject`",
                        )
                    })?;
                    r.signatures.push(Requirement {
                        signer,
                        line: it.line,
                    });
                }
            }
            "attestations" => {
                let Value::Seq(items) = &v.value else {
                    return Err(cx.err(v, &key, "expected a list of attestations"));
                };
                for (j, it) in items.iter().enumerate() {
                    let key = format!("{key}[{j}]");
                    let am = cx.map(it, &key)?;
                    let mut allowed = vec!["predicate_type", "builder_id"];
                    allowed.extend(SIGNER_KEYS);
                    cx.check_keys(am, &allowed, &format!("{key}."))?;
                    let get = |k: &str| am.iter().find(|(kk, _)| kk.as_str().as_deref() == Some(k));
                    let Some((_, pt)) = get("predicate_type") else {
                        return Err(cx.err(it, &format!("{key}.predicate_type"), "missing"));
                    };
                    let predicate_type = cx.string(pt, &format!("{key}.predicate_type"))?;
                    let predicate_type = match predicate_type.as_str() {
                        "slsaprovenance" | "slsa" => "https://slsa.dev/provenance/v0.2".to_string(),
                        "slsaprovenance1" => "https://slsa.dev/provenance/v1".to_string(),
                        "spdxjson" | "spdx" => "https://spdx.dev/Document".to_string(),
                        "cyclonedx" => "https://cyclonedx.org/bom".to_string(),
                        _ => predicate_type,
                    };
                    let builder_id = get("builder_id")
                        .map(|(_, b)| cx.string(b, &format!("{key}.builder_id")))
                        .transpose()?;
                    r.attestations.push(AttestationRequirement {
                        predicate_type,
                        builder_id,
                        signer: cx.signer(am, &key, it)?,
                        line: it.line,
                    });
                }
            }
            "scan" => {
                let sm = cx.map(v, &key)?;
                cx.check_keys(sm, &["max_severity", "kev"], &format!("{key}."))?;
                let mut gate = ScanGate {
                    max_severity: None,
                    kev_deny: false,
                };
                for (sk, sv) in sm {
                    let sname = sk.as_str().unwrap_or_default();
                    let skey = format!("{key}.{sname}");
                    match sname.as_str() {
                        "max_severity" => {
                            let s = cx.string(sv, &skey)?;
                            gate.max_severity = Some(parse_severity(&s).ok_or_else(|| {
                                cx.err(
                                    sv,
                                    &skey,
                                    format!(
                                        "{s:?}: expected unknown, low, medium, high or critical"
                                    ),
                                )
                            })?);
                        }
                        "kev" => {
                            gate.kev_deny = match cx.string(sv, &skey)?.as_str() {
                                "deny" => true,
                                "allow" => false,
                                o => {
                                    return Err(cx.err(
                                        sv,
                                        &skey,
                                        format!("{o:?}: expected deny or allow"),
                                    ));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                r.scan = Some(gate);
            }
            _ => {}
        }
    }
    if !has_images {
        return Err(cx.err(
            n,
            &format!("{at}.images"),
            "missing: which images does this rule cover? (\"**\" for all)",
        ));
    }
    Ok(r)
}

fn parse_severity(s: &str) -> Option<Severity> {
    Some(match s.to_ascii_lowercase().as_str() {
        "unknown" => Severity::Unknown,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Policy, VerifyError> {
        Policy::parse(t, "p.yml", Path::new("/etc/moat"))
    }

    #[test]
    fn a_full_policy_parses() {
        let p = parse(
            "version: 1\nunmatched: allow\nrules:\n  - images: [\"reg.example/team/**\"]\n    allowed_registries: reg.example\n    require_digest: true\n    max_age_days: 30\n    signatures:\n      - key: ci.pub\n      - issuer: https://issuer.example\n        subject: \"*@example.com\"\n    attestations:\n      - predicate_type: slsaprovenance1\n        builder_id: https://builder.example\n    scan: {max_severity: high, kev: deny}\n",
        )
        .unwrap();
        assert!(p.unmatched_allowed);
        let r = &p.rules[0];
        assert!(r.require_digest);
        assert_eq!(r.max_age_days, Some(30));
        assert!(
            matches!(&r.signatures[0].signer, Signer::Keys(k) if k[0] == Path::new("/etc/moat/ci.pub"))
        );
        match &r.signatures[1].signer {
            Signer::Keyless { issuer, subject } => {
                assert_eq!(issuer, "https://issuer.example");
                assert!(subject.is_match("a@example.com"));
                assert!(!subject.is_match("a@example.com.evil"));
            }
            s => panic!("{s:?}"),
        }
        assert_eq!(
            r.attestations[0].predicate_type,
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(r.scan.unwrap().max_severity, Some(Severity::High));
        assert_eq!(p.rules_for("reg.example/team/app:1").len(), 1);
        assert_eq!(p.rules_for("reg.example/other/app:1").len(), 0);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("rules:\n  - images: \"**\"\n    max_age_days: soon\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "p.yml:3: rules[0].max_age_days: expected a whole number of days"
        );
        let e = parse("rules:\n  - images: \"**\"\n    signatures:\n      - kee: a.pub\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.yml:4: rules[0].signatures[0].kee: unknown key"),
            "{e}"
        );
        let e = parse("rules:\n  - require_digest: \"true\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.yml:2: rules[0].require_digest: expected true or false"),
            "{e}"
        );
        let e = parse("rules:\n  - require_digest: true\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.yml:2: rules[0].images: missing"), "{e}");
        let e = parse("rules:\n  - images: \"**\"\n    scan: {max_severity: severe}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rules[0].scan.max_severity") && e.contains("severe"),
            "{e}"
        );
        let e = parse("rulez: []\n").unwrap_err().to_string();
        assert!(e.starts_with("p.yml:1: rulez: unknown key"), "{e}");
    }
}
