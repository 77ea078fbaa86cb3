//! Checkstyle XML of lint findings (as `hadolint --format checkstyle`): one `<file>` per
//! path, one `<error>` per finding; `source` is the rule code, the severity is
//! `error` (high, critical), `warning` (medium) or `info`.

use moat_model::{ConfigFinding, Severity};
use std::io::Write;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push_str("&#xFFFD;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "info",
    }
}

/// Write the findings (sorted by the caller) as Checkstyle XML.
pub fn lint(findings: &[ConfigFinding], w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(w, "<checkstyle version=\"4.3\">")?;
    let mut paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    for p in paths {
        writeln!(w, "  <file name=\"{}\">", xml_escape(p))?;
        for f in findings.iter().filter(|f| f.path == p) {
            writeln!(
                w,
                "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"{}\"/>",
                f.line,
                f.column,
                level(f.severity),
                xml_escape(&f.message),
                xml_escape(&f.rule)
            )?;
        }
        writeln!(w, "  </file>")?;
    }
    writeln!(w, "</checkstyle>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_groups_by_file() {
        let f = |path: &str, line, msg: &str| ConfigFinding {
            path: path.into(),
            line,
            column: 1,
            rule: "DF011".into(),
            aliases: vec!["DL3008".into()],
            severity: Severity::Medium,
            message: msg.into(),
        };
        let mut out = Vec::new();
        lint(
            &[
                f("a/Dockerfile", 2, "pin <x> & \"y\""),
                f("a/Dockerfile", 3, "z\u{1}"),
            ],
            &mut out,
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches("<file ").count(), 1);
        assert!(
            s.contains("message=\"pin &lt;x&gt; &amp; &quot;y&quot;\""),
            "{s}"
        );
        assert!(s.contains("message=\"z&#xFFFD;\""), "{s}");
        assert!(s.contains("severity=\"warning\" "), "{s}");
    }
}
