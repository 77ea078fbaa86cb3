//! Hostile input: random combinations of tricky fragments (and every corpus file cut at
//! every byte offset that is a char boundary) must lint without panicking.

#![allow(clippy::unwrap_used)] // tests

use moat_lint::{Kind, lint_source};

const FRAGMENTS: &[&str] = &[
    "FROM ",
    "RUN ",
    "COPY ",
    "ADD ",
    "USER ",
    "ENV ",
    "ARG ",
    "EXPOSE ",
    "HEALTHCHECK CMD ",
    "ONBUILD ",
    "SHELL ",
    "WORKDIR ",
    "\\\n",
    "`\n",
    "\n",
    "# escape=`\n",
    "<<EOF",
    "<<-\"E\"",
    "\nEOF\n",
    "EOF",
    "$(",
    ")",
    "${",
    "}",
    "${A:-",
    "'",
    "\"",
    "|",
    "||",
    "&&",
    ";",
    "&",
    "case x in a|b) ;; esac",
    "sh -c '",
    "sudo ",
    "apt-get install ",
    "-y ",
    "--mount=type=cache,target=",
    "[\"a\", ",
    "]",
    "é",
    "日本",
    "\t",
    "=",
    ":",
    "@",
    "--from=",
    "-o",
    " ",
    "\r\n",
    "\u{feff}",
    "services:\n",
    "  a:\n",
    "    image: ",
    "<<: *x",
    "&x ",
    "- ",
    "{",
    "}",
    "[",
    "\"hosts\": [",
];

fn rng(seed: &mut u64) -> usize {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % 1_000_003) as usize
}

#[test]
fn random_fragments_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..3000 {
        let n = rng(&mut seed) % 40;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(FRAGMENTS[rng(&mut seed) % FRAGMENTS.len()]);
        }
        for kind in [Kind::Dockerfile, Kind::Compose, Kind::Daemon] {
            let _ = lint_source(kind, "fuzz", &s);
        }
        let mut f = lint_source(Kind::Dockerfile, "fuzz", &s).unwrap();
        moat_lint::suppress::apply_inline(&s, &mut f);
    }
}

#[test]
fn truncated_corpus_files_never_panic() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/dockerfiles");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok).take(40) {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for (i, _) in text.char_indices().step_by(7) {
            lint_source(Kind::Dockerfile, "t", &text[..i]).unwrap();
        }
    }
}

#[test]
fn deeply_nested_yaml_and_json_are_errors_not_crashes() {
    let deep = format!(
        "services:\n  a: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(lint_source(Kind::Compose, "c.yml", &deep).is_err());
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(lint_source(Kind::Daemon, "daemon.json", &deep).is_err());
}
