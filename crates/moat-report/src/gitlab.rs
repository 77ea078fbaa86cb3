//! GitLab Code Quality JSON of lint findings (as `hadolint --format gitlab_codeclimate`):
//! an array of issues with `description`, `check_name`, `fingerprint` (SHA-256 of path,
//! line, rule and message: stable between runs), `severity` (`info`, `minor`, `major`,
//! `critical`, `blocker`) and `location.path` / `location.lines.begin`.

use moat_model::{ConfigFinding, Severity};
use sha2::{Digest, Sha256};
use std::io::Write;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "major",
        Severity::Medium => "minor",
        Severity::Low | Severity::Unknown => "info",
    }
}

/// Write the findings as a GitLab Code Quality report.
pub fn lint(findings: &[ConfigFinding], w: &mut dyn Write) -> std::io::Result<()> {
    let issues: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut h = Sha256::new();
            for part in [f.path.as_str(), &f.line.to_string(), &f.rule, &f.message] {
                h.update(part.as_bytes());
                h.update([0u8]);
            }
            serde_json::json!({
                "type": "issue",
                "check_name": f.rule,
                "description": format!("{}: {}", f.rule, f.message),
                "categories": ["Style"],
                "fingerprint": hex::encode(h.finalize()),
                "severity": severity(f.severity),
                "location": { "path": f.path, "lines": { "begin": f.line } },
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &issues).map_err(std::io::Error::other)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_issue_per_finding_with_a_stable_fingerprint() {
        let f = ConfigFinding {
            path: "Dockerfile".into(),
            line: 4,
            column: 1,
            rule: "DF011".into(),
            aliases: vec![],
            severity: Severity::High,
            message: "pin".into(),
        };
        let run = || {
            let mut out = Vec::new();
            lint(std::slice::from_ref(&f), &mut out).unwrap();
            serde_json::from_slice::<serde_json::Value>(&out).unwrap()
        };
        let v = run();
        assert_eq!(v, run());
        assert_eq!(v[0]["severity"], "major");
        assert_eq!(v[0]["location"]["lines"]["begin"], 4);
        assert_eq!(v[0]["fingerprint"].as_str().map(str::len), Some(64));
    }
}
