//! The rule language: the default rules compile; errors name the file and line of the
//! item (bad CEL, unknown field, unknown name, missing keys, unknown YAML keys); lists and
//! macros expand; conditions evaluate over typed fields; outputs fill in fields.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::Severity;
use moat_model::runtime::{ContainerInfo, EventSource, NetInfo, ProcessInfo, RuntimeEvent};
use moat_monitor::rules::{RuleError, RuleSet};
use std::path::Path;

fn load(text: &str) -> Result<RuleSet, RuleError> {
    RuleSet::from_text(Path::new("my.yaml"), text, false)
}

fn err(text: &str) -> String {
    load(text).unwrap_err().to_string()
}

fn exec(name: &str, cmdline: &str, vpid: i64) -> RuntimeEvent {
    RuntimeEvent {
        time_ns: 1,
        source: EventSource::Proc,
        kind: "execve".into(),
        container: Some(ContainerInfo {
            id: "c".repeat(64),
            name: "web".into(),
            image: "busybox".into(),
            ..ContainerInfo::default()
        }),
        process: Some(ProcessInfo {
            pid: 42,
            vpid,
            name: name.into(),
            cmdline: cmdline.into(),
            ..ProcessInfo::default()
        }),
        ..RuntimeEvent::default()
    }
}

#[test]
fn the_default_rules_compile_and_cover_the_issue() {
    let set = RuleSet::default_rules().unwrap();
    let names: Vec<&str> = set.rules().iter().map(|r| r.name.as_str()).collect();
    for want in [
        "Terminal shell in container",
        "Package manager run in container",
        "Exec or attach into container",
        "Privileged exec into container",
        "Privileged container started",
        "Sensitive mount in container",
        "Write below binary or configuration directory",
        "Outbound connection to mining pool port",
        "Unexpected outbound connection",
        "Listening port not in EXPOSE",
        "Miner process in container",
        "OOM kill in container",
        "Container restart loop",
        "Memory near limit",
        "CPU spike",
        "Monitor dropped events",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
}

#[test]
fn errors_name_the_file_and_line() {
    let e = err("- rule: A\n  condition: evt.type ==\n  output: x\n  priority: HIGH\n");
    assert!(e.starts_with("my.yaml:1: rule \"A\": condition:"), "{e}");
    let e = err(
        "- list: l\n  items: [a]\n\n- rule: B\n  condition: proc.nmae == 'x'\n  output: x\n  priority: HIGH\n",
    );
    assert!(e.starts_with("my.yaml:4: rule \"B\""), "{e}");
    assert!(e.contains("nmae"), "{e}");
    let e = err(
        "- rule: C\n  condition: nosuchmacro && evt.type == 'x'\n  output: x\n  priority: HIGH\n",
    );
    assert!(
        e.starts_with("my.yaml:1:") && e.contains("nosuchmacro"),
        "{e}"
    );
    let e = err("- rule: D\n  condition: evt.type\n  output: x\n  priority: HIGH\n");
    assert!(e.contains("true or false"), "{e}");
    let e = err("\n\n- rule: E\n  condition: evt.type == 'x'\n  output: x\n  priority: LOUD\n");
    assert!(e.starts_with("my.yaml:3:") && e.contains("LOUD"), "{e}");
    let e =
        err("- rule: F\n  condition: evt.type == 'x'\n  output: \"%proc.nope\"\n  priority: LOW\n");
    assert!(e.contains("%proc.nope"), "{e}");
    let e = err(
        "- rule: G\n  condition: evt.type == 'x'\n  output: x\n  priority: LOW\n  severity: HIGH\n",
    );
    assert!(e.starts_with("my.yaml:") && e.contains("severity"), "{e}");
    let e = err("- macro: bad name\n  condition: true\n");
    assert!(e.starts_with("my.yaml:1:"), "{e}");
    let e = err("- rule: H\n  macro: I\n  condition: true\n");
    assert!(e.contains("exactly one"), "{e}");
    // A misspelt field under `&&`/`||` (CEL absorbs its error when the other side
    // decides), inside a comprehension, and with `has()`.
    for cond in [
        "evt.type == 'execve' && proc.nmae == 'sh'",
        "proc.name == 'sh' || container.imgae == 'x'",
        "container.mounts.exists(m, m == '/' && fd.dprot == 1)",
        "has(proc.cmdlin)",
    ] {
        let e = err(&format!(
            "- rule: J\n  condition: \"{cond}\"\n  output: x\n  priority: LOW\n"
        ));
        assert!(
            e.starts_with("my.yaml:1: rule \"J\"") && e.contains("unknown field"),
            "{cond}: {e}"
        );
    }
}

#[test]
fn lists_and_macros_expand_and_conditions_read_typed_fields() {
    let set = load(
        "- list: shells\n  items: [sh, bash]\n\
         - list: ports\n  items: [22, 3333]\n\
         - macro: spawned\n  condition: evt.type == 'execve' && container.id != ''\n\
         - macro: shell\n  condition: spawned && proc.name in shells\n\
         - rule: Shell\n  condition: shell && proc.vpid != 1\n  output: \"shell %proc.cmdline in %container.name (pid %proc.pid)\"\n  priority: WARNING\n  tags: [T1059]\n\
         - rule: Pool\n  condition: evt.type == 'connect' && fd.dport in ports\n  output: \"to %fd.dip:%fd.dport\"\n  priority: CRITICAL\n\
         - rule: Off\n  condition: true\n  output: x\n  priority: LOW\n  enabled: false\n",
    )
    .unwrap();
    assert_eq!(set.rules().len(), 2);
    let m = set.evaluate(&exec("sh", "sh -c id\nfake", 7));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].rule, "Shell");
    assert_eq!(m[0].severity, Severity::Medium);
    // Control characters from the event are escaped in the output.
    assert_eq!(m[0].output, "shell sh -c id\\nfake in web (pid 42)");
    assert!(
        set.evaluate(&exec("sh", "sh", 1)).is_empty(),
        "the container's init"
    );
    assert!(set.evaluate(&exec("ls", "ls", 7)).is_empty());
    let mut conn = exec("wget", "wget", 9);
    conn.kind = "connect".into();
    conn.net = Some(NetInfo {
        proto: "tcp".into(),
        direction: "outbound".into(),
        dip: "10.1.2.3".into(),
        dport: 3333,
        ..NetInfo::default()
    });
    let m = set.evaluate(&conn);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].output, "to 10.1.2.3:3333");
    // A later file replaces a rule of the same name.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("override.yaml");
    std::fs::write(
        &f,
        "- rule: Terminal shell in container\n  condition: spawned_process && proc.name == 'zsh'\n  output: zsh\n  priority: LOW\n",
    )
    .unwrap();
    let set = RuleSet::load(&[f], true).unwrap();
    assert!(
        set.evaluate(&exec("sh", "sh", 5))
            .iter()
            .all(|m| m.rule != "Terminal shell in container")
    );
    assert!(
        set.evaluate(&exec("zsh", "zsh", 5))
            .iter()
            .any(|m| m.rule == "Terminal shell in container" && m.severity == Severity::Low)
    );
}

#[test]
fn oversized_and_missing_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let e = RuleSet::load(std::slice::from_ref(&missing), true).unwrap_err();
    assert!(e.to_string().contains("nope.yaml"), "{e}");
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "#".repeat((4 << 20) + 1)).unwrap();
    let e = RuleSet::load(&[big], true).unwrap_err();
    assert!(matches!(e, RuleError::TooLarge { .. }), "{e}");
}

#[test]
fn a_rule_may_name_a_response_and_its_matches_carry_it() {
    let set = load(
        "- rule: Shell\n  condition: evt.type == \"execve\" && proc.name == \"sh\"\n  output: \"shell in %container.name\"\n  priority: HIGH\n  action: isolate\n\n- rule: Quiet\n  condition: evt.type == \"execve\"\n  output: x\n  priority: LOW\n",
    )
    .unwrap();
    let m = set.evaluate(&exec("sh", "sh -c id", 7));
    let by_rule = |r: &str| m.iter().find(|x| x.rule == r).unwrap().action;
    assert_eq!(
        by_rule("Shell"),
        Some(moat_model::response::ActionKind::Isolate)
    );
    assert_eq!(by_rule("Quiet"), None);
    // Undoing a containment is an operator's decision; an unknown word is an error
    // naming the file and line.
    for bad in ["release", "unpause", "explode"] {
        let e = err(&format!(
            "- rule: R\n  condition: evt.type == \"execve\"\n  output: x\n  priority: LOW\n  action: {bad}\n"
        ));
        assert!(
            e.starts_with("my.yaml:1:") && e.contains(&format!("unknown action \"{bad}\"")),
            "{e}"
        );
    }
}
