//! The CIS-report view (`moat audit --format cis`): every benchmark item with its
//! verdict, built from the benchmark table, the rules' items, the findings and what
//! the audit could not evaluate.
//!
//! Verdicts, as docker-bench-security gives them: an item moat checks is PASS with no
//! finding, else WARN (or INFO where the benchmark only informs: 1.1.2, 2.8, 2.17,
//! 4.7, 4.9, 5.18, 5.19, 5.30, 6.x, 7.4, 7.7–7.9). An item the audit could not evaluate
//! here (file not found, no command line) is INFO with the reason. An item moat does
//! not check (docker-bench only prints it as NOTE) is MANUAL with the command to run.

use crate::benchmark::{self, Assessment, Level, Verdict};
use crate::rules::{AUDIT_RULES, rules_for_item};
use crate::{AuditReport, Coverage};
use moat_model::audit::AuditFinding;
pub use moat_report::audit::{CisCounts, CisFinding, CisItem, CisSection, CisStatus, CisView};
use std::collections::BTreeSet;

fn cis_finding(f: &AuditFinding) -> CisFinding {
    CisFinding {
        rule: f.rule().to_string(),
        severity: f.severity().to_string(),
        object: f.path().to_string(),
        message: f.message().to_string(),
    }
}

/// The items a finding belongs to: its references (a multi-item rule's finding names
/// its one item).
fn items_of(f: &AuditFinding) -> Vec<&str> {
    f.references
        .iter()
        .filter_map(|r| benchmark::number_of_reference(r))
        .collect()
}

/// The CIS-report view of an audit. `excluded` are rule codes left out by
/// `--select`/`--ignore`: an item whose every rule is excluded is INFO ("not selected").
pub fn view(report: &AuditReport, coverage: &Coverage, excluded: &BTreeSet<String>) -> CisView {
    let mut sections: Vec<CisSection> = Vec::new();
    let mut totals = CisCounts::default();
    for item in benchmark::ITEMS {
        let rules = rules_for_item(item.number);
        let findings: Vec<CisFinding> = report
            .findings
            .iter()
            .filter(|f| items_of(f).contains(&item.number) && !excluded.contains(f.rule()))
            .map(cis_finding)
            .collect();
        let selected: Vec<&str> = rules
            .iter()
            .map(|r| r.meta.code)
            .filter(|c| !excluded.contains(*c))
            .collect();
        let skipped = coverage.skipped.get(item.number);
        let (status, note) = if rules.is_empty() {
            (
                CisStatus::Manual,
                coverage.context.get(item.number).cloned(),
            )
        } else if !findings.is_empty() {
            let s = match item.verdict {
                Verdict::Warn => CisStatus::Warn,
                Verdict::Info => CisStatus::Info,
            };
            (s, None)
        } else if selected.is_empty() {
            (
                CisStatus::Info,
                Some("not selected (--select/--ignore)".to_string()),
            )
        } else if let Some(why) = skipped {
            (CisStatus::Info, Some(format!("not evaluated: {why}")))
        } else {
            (CisStatus::Pass, coverage.context.get(item.number).cloned())
        };
        // Swarm items without a swarm pass, manual or not (docker-bench does the same).
        let swarm_off = coverage
            .context
            .get(item.number)
            .is_some_and(|c| c == "swarm mode not enabled");
        let status = if status == CisStatus::Manual && swarm_off {
            CisStatus::Pass
        } else {
            status
        };
        totals.add(status);
        let section = match item.section() {
            s if s.starts_with("1.") => s,
            s => s.split('.').next().unwrap_or(s),
        };
        if sections.last().is_none_or(|s| s.number != section) {
            let title = benchmark::section(section)
                .map(|s| s.title)
                .unwrap_or_default();
            sections.push(CisSection {
                number: section.to_string(),
                title: title.to_string(),
                counts: CisCounts::default(),
                items: Vec::new(),
            });
        }
        if let Some(s) = sections.last_mut() {
            s.counts.add(status);
            s.items.push(CisItem {
                number: item.number.to_string(),
                title: item.title.to_string(),
                level: match item.level {
                    Level::L1 => 1,
                    Level::L2 => 2,
                },
                automated: item.assessment == Assessment::Automated,
                status,
                rules: rules.iter().map(|r| r.meta.code.to_string()).collect(),
                findings,
                note,
                command: (!item.command.is_empty()).then(|| item.command.to_string()),
            });
        }
    }
    let beyond_rules: BTreeSet<&str> = AUDIT_RULES
        .iter()
        .filter(|r| r.cis.is_empty())
        .map(|r| r.meta.code)
        .collect();
    let beyond = report
        .findings
        .iter()
        .filter(|f| beyond_rules.contains(f.rule()) && !excluded.contains(f.rule()))
        .map(cis_finding)
        .collect();
    CisView {
        benchmark: benchmark::BENCHMARK.to_string(),
        host: report.host.clone(),
        engine_version: report.engine_version.clone(),
        totals,
        sections,
        beyond,
    }
}

/// The item table of docs/audit.md: every benchmark item, its level and assessment,
/// what docker-bench-security v1.6.0 does and moat's rules for it.
pub fn markdown_items() -> String {
    let mut out = String::from(
        "| CIS | title | level | scored (automated) | docker-bench v1.6.0 | moat |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for i in benchmark::ITEMS {
        let rules: Vec<&str> = rules_for_item(i.number)
            .iter()
            .map(|r| r.meta.code)
            .collect();
        let bench = match (i.bench, i.verdict) {
            (benchmark::Bench::Note, _) => "note only".to_string(),
            (benchmark::Bench::Check, Verdict::Warn) => "check (WARN)".to_string(),
            (benchmark::Bench::Check, Verdict::Info) => "check (INFO)".to_string(),
        };
        let moat = if rules.is_empty() {
            format!("manual: `{}`", i.command.replace('|', "\\|"))
        } else {
            rules.join(", ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            i.number,
            i.title.replace('|', "\\|"),
            match i.level {
                Level::L1 => "1",
                Level::L2 => "2",
            },
            if i.scored() { "yes" } else { "no (manual)" },
            bench,
            moat
        ));
    }
    out
}

/// The rule table of docs/audit.md.
pub fn markdown_rules() -> String {
    let mut out =
        String::from("| code | severity | CIS v1.6.0 | title |\n| --- | --- | --- | --- |\n");
    for r in AUDIT_RULES {
        let cis: Vec<&str> = r.cis.iter().map(|(n, _)| *n).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.meta.code,
            r.meta.severity.as_str(),
            if cis.is_empty() {
                "—".to_string()
            } else {
                cis.join(", ")
            },
            r.meta.title.replace('|', "\\|")
        ));
    }
    out
}
