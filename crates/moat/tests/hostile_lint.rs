//! Issue 12, `moat lint`: hostile Dockerfiles and compose projects, generated at test
//! time, each run as a child process through `common::hostile` (exit code, peak RSS,
//! wall time, no raw control characters, nothing written outside the cache).
#![allow(clippy::unwrap_used)]

mod common;
use common::hostile::Case;
use std::fmt::Write as _;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// The findings of a `--format json` run.
fn findings(stdout: &[u8]) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    doc["findings"].as_array().unwrap().clone()
}

#[test]
fn a_fifo_named_as_a_dockerfile_is_rejected_not_waited_on() {
    let c = Case::new();
    mkfifo(&c.work().join("Dockerfile"));
    let o = c.run(&["lint", "Dockerfile"]);
    o.assert_rejected("Dockerfile");
    assert!(o.stderr().contains("not a regular file (a FIFO)"), "{o:?}");
}

#[test]
fn a_huge_sparse_file_is_rejected_naming_the_budget() {
    let c = Case::new();
    let f = std::fs::File::create(c.work().join("Dockerfile")).unwrap();
    f.set_len(20 << 30).unwrap(); // 20 GiB of zeros, nothing on disk
    let o = c.run(&["lint", "Dockerfile"]);
    o.assert_rejected("Dockerfile");
    assert!(o.stderr().contains("4194304-byte budget"), "{o:?}");
}

#[test]
fn a_character_device_is_rejected() {
    let c = Case::new();
    let o = c.run(&["lint", "/dev/zero"]);
    o.assert_rejected("/dev/zero");
    assert!(o.stderr().contains("character device"), "{o:?}");
}

#[test]
fn compose_references_to_fifos_and_devices_are_reported_not_read() {
    let c = Case::new();
    let w = c.work();
    mkfifo(&w.join(".env"));
    mkfifo(&w.join("base.yml"));
    write(
        &w,
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1.27\n    extends:\n      file: base.yml\n      service: base\n",
    );
    let o = c.run(&["lint", "--format", "json", "compose.yaml"]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    let dc018: Vec<&str> = f
        .iter()
        .filter(|x| x["rule"] == "DC018")
        .map(|x| x["message"].as_str().unwrap())
        .collect();
    assert!(
        dc018
            .iter()
            .any(|m| m.contains(".env") && m.contains("FIFO")),
        "{dc018:?}"
    );
    assert!(
        dc018
            .iter()
            .any(|m| m.contains("base.yml") && m.contains("FIFO")),
        "{dc018:?}"
    );
}

#[test]
fn compose_extends_fan_out_parses_each_file_once() {
    // Four levels of 200 services, each extending every service of the next file:
    // parsed per reference that is 200^4 parses; once per file it is four.
    let c = Case::new();
    let w = c.work();
    let n = 200;
    for level in 0..4 {
        let mut t = String::from("services:\n");
        for i in 0..n {
            write!(t, "  s{i}:\n    image: app:1\n").unwrap();
            if level < 3 {
                write!(
                    t,
                    "    extends:\n      file: l{}.yml\n      service: s{}\n",
                    level + 1,
                    (i + 1) % n
                )
                .unwrap();
            } else {
                t.push_str("    privileged: true\n");
            }
        }
        let name = if level == 0 {
            "compose.yaml".to_string()
        } else {
            format!("l{level}.yml")
        };
        write(&w, &name, &t);
    }
    let o = c.run(&["lint", "--format", "json", "compose.yaml"]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    // The deepest file's `privileged: true` reached every top-level service.
    let privileged = f.iter().filter(|x| x["rule"] == "DC001").count();
    assert_eq!(privileged, n, "{}", o.stdout());
}

#[test]
fn compose_extends_cycles_and_self_references_end() {
    let c = Case::new();
    let w = c.work();
    write(
        &w,
        "compose.yaml",
        "services:\n  a:\n    extends:\n      file: compose.yaml\n      service: a\n    image: x:1\n  b:\n    extends: c\n    image: x:1\n  c:\n    extends: b\n    image: x:1\n",
    );
    let o = c.run(&["lint", "--format", "json", "compose.yaml"]);
    o.assert_well_behaved(0);
}

#[test]
fn env_file_and_extends_outside_the_project_are_named_in_a_warning() {
    let c = Case::new();
    let w = c.work();
    std::fs::create_dir(w.join("proj")).unwrap();
    write(&w, "outside.yml", "services:\n  base:\n    image: app:1\n");
    write(&w, "outside.env", "SECRET=1\n");
    write(
        &w.join("proj"),
        "compose.yaml",
        "services:\n  web:\n    image: nginx:1.27\n    env_file: ../outside.env\n    extends:\n      file: ../outside.yml\n      service: base\n  api:\n    image: api:1\n    env_file:\n      - path: /etc/passwd\n",
    );
    let o = c.run(&["lint", "--format", "json", "proj/compose.yaml"]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    let msgs: Vec<&str> = f
        .iter()
        .filter(|x| x["rule"] == "DC018")
        .map(|x| x["message"].as_str().unwrap())
        .collect();
    // Exactly these three: the project's own (missing) .env is not "outside".
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    for want in ["outside.env", "outside.yml", "/etc/passwd"] {
        assert!(
            msgs.iter()
                .any(|m| m.contains(want) && m.contains("outside the project")),
            "{want}: {msgs:?}"
        );
    }
}

#[test]
fn env_with_a_huge_number_of_pairs() {
    let c = Case::new();
    let mut t = String::from("FROM alpine:3.19\nENV");
    for i in 0..200_000 {
        write!(t, " K{i}=v{i}").unwrap();
    }
    // The last pair refers to the first: DF056 must still find it.
    t.push_str(" LAST=$K0\nUSER 1000\n");
    write(&c.work(), "Dockerfile", &t);
    let o = c.run(&["lint", "--format", "json", "Dockerfile"]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    assert!(
        f.iter()
            .any(|x| x["rule"] == "DF056" && x["message"].as_str().unwrap().contains("K0")),
        "{}",
        o.stdout()
    );
}

#[test]
fn run_with_a_huge_number_of_words_and_prefixes() {
    let c = Case::new();
    let mut t = String::from("FROM alpine:3.19\nRUN");
    for i in 0..150_000 {
        write!(t, " A{i}=1").unwrap();
    }
    t.push_str(" sudo apk add curl\nRUN echo");
    for i in 0..300_000 {
        write!(t, " w{i}").unwrap();
    }
    t.push_str("\nUSER 1000\n");
    write(&c.work(), "Dockerfile", &t);
    let o = c.run(&["lint", "--format", "json", "Dockerfile"]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    // The command after 150,000 assignments is still seen (sudo, unpinned apk).
    assert!(f.iter().any(|x| x["rule"] == "DF010"), "{}", o.stdout());
}

#[test]
fn many_stages() {
    let c = Case::new();
    let mut t = String::new();
    for i in 0..20_000u32 {
        write!(
            t,
            "FROM alpine:3.19 AS s{i}\nENV V{i}=$V{prev}x\nCOPY --from=s{prev} /a /a\n",
            prev = i.saturating_sub(1)
        )
        .unwrap();
    }
    t.push_str("FROM s19999\nWORKDIR /$V19990\nUSER 1000\n");
    write(&c.work(), "Dockerfile", &t);
    let o = c.run(&["lint", "--format", "json", "Dockerfile"]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    // The only COPY --from that names no earlier stage is the first stage's own.
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "DF032").count(),
        1,
        "{}",
        o.stdout()
    );
    assert_eq!(f.iter().filter(|x| x["rule"] == "DF031").count(), 0);
}

#[test]
fn deeply_nested_defaults_and_many_heredocs() {
    let c = Case::new();
    let n = 50_000;
    let mut t = format!(
        "FROM alpine:3.19\nWORKDIR {}x{}\nRUN cat",
        "${A:-".repeat(n),
        "}".repeat(n)
    );
    for i in 0..50_000 {
        write!(t, " <<A{i}").unwrap();
    }
    t.push('\n');
    write(&c.work(), "Dockerfile", &t);
    write(
        &c.work(),
        "compose.yaml",
        &format!(
            "services:\n  a:\n    image: \"x:{}1{}\"\n",
            "${A:-".repeat(n),
            "}".repeat(n)
        ),
    );
    let o = c.run(&["lint", "--format", "json", "Dockerfile", "compose.yaml"]);
    o.assert_well_behaved(0);
}

#[test]
fn control_characters_in_names_and_content_reach_the_terminal_escaped() {
    let c = Case::new();
    let name = "evil\x1b[31m\nline\x07.Dockerfile";
    write(
        &c.work(),
        name,
        "FROM alpine\x1b[2J:latest\nENV PASS\x1b]0;x\x07WORD=hunter2\nEXPOSE 22\x1b[1m\n",
    );
    write(
        &c.work(),
        "compose.yaml",
        "services:\n  \"w\\e[31meb\":\n    image: \"nginx\\e[2J\\nx\"\n    privileged: true\n",
    );
    // Table: no raw control byte (the harness checks), and no forged line.
    let o = c.run(&["lint", name, "compose.yaml"]);
    o.assert_well_behaved(0);
    let out = o.stdout();
    assert!(
        out.contains("evil\\x1b[31m\\nline\\x07.Dockerfile"),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("line")), "{out}");
    // JSON stays valid JSON.
    let o = c.run(&["lint", "--format", "json", name, "compose.yaml"]);
    o.assert_well_behaved(0);
    assert!(!findings(&o.stdout).is_empty());
    let o = c.run(&["lint", "--format", "sarif", name]);
    o.assert_well_behaved(0);
    let _: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // An error naming such a file: one line, escaped.
    let bad = "bad\x1b[31m\n.Dockerfile";
    std::fs::create_dir(c.work().join("d")).unwrap();
    mkfifo(&c.work().join("d").join(bad));
    let o = c.run(&["lint", &format!("d/{bad}")]);
    o.assert_rejected("bad\\x1b[31m\\n.Dockerfile");
}

/// Issue 19's rules that pair instructions (an archive copied then extracted, each
/// package manager and its clean, consecutive RUNs, ONBUILD) stay linear: tens of
/// thousands of each in one file (3 MB, under the 4 MB budget).
#[test]
fn many_archives_extractions_installs_and_onbuilds() {
    let c = Case::new();
    let mut t = String::from("FROM alpine:3.19\n");
    for i in 0..10_000 {
        writeln!(
            t,
            "COPY a{}.tar /x/\nRUN tar -xf /x/a{}.tar",
            i % 7,
            (i + 1) % 7
        )
        .unwrap();
    }
    t.push_str("RUN true");
    for _ in 0..30_000 {
        t.push_str(" && dnf install -y x-1 && microdnf install -y y-1");
    }
    t.push('\n');
    for _ in 0..10_000 {
        t.push_str("ONBUILD RUN apt-get install x\n");
    }
    t.push_str("USER 1000\n");
    write(&c.work(), "Dockerfile", &t);
    let o = c.run(&[
        "lint",
        "--shellcheck",
        "never",
        "--format",
        "json",
        "Dockerfile",
    ]);
    o.assert_well_behaved(0);
    let f = findings(&o.stdout);
    assert!(f.iter().any(|x| x["rule"] == "DF069"), "no DF069");
    assert!(f.iter().any(|x| x["rule"] == "DF053"), "no DF053");
    assert!(f.iter().filter(|x| x["rule"] == "DF011").count() >= 10_000);
}
