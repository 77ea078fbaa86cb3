//! GitHub Actions workflow commands for lint findings (as `hadolint --format tty` in
//! an action's annotations): `::error file=…,line=…,col=…,title=…::message`, with
//! `error` (high, critical), `warning` (medium) or `notice` (low), and the values
//! escaped as the runner requires.

use moat_model::{ConfigFinding, Severity};
use std::io::Write;

/// The runner's escapes for CR, LF and `%`; every other control character from the
/// input (an escape sequence that would recolour the job log) is made visible.
fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    moat_model::escape_control(&s).into_owned()
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Write one annotation per finding.
pub fn lint(findings: &[ConfigFinding], w: &mut dyn Write) -> std::io::Result<()> {
    for f in findings {
        let level = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Unknown => "notice",
        };
        writeln!(
            w,
            "::{level} file={},line={},col={},title={}::{}",
            escape_property(&f.path),
            f.line,
            f.column,
            escape_property(&f.rule),
            escape_data(&f.message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_values() {
        let f = ConfigFinding {
            path: "a,b:c/Dockerfile".into(),
            line: 2,
            column: 3,
            rule: "DF011".into(),
            aliases: vec![],
            severity: Severity::Low,
            message: "50%\nnext\x1b[31m".into(),
        };
        let mut out = Vec::new();
        lint(&[f], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::notice file=a%2Cb%3Ac/Dockerfile,line=2,col=3,title=DF011::50%25%0Anext\\x1b[31m\n"
        );
    }
}
