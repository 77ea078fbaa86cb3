//! The store: duplicates dropped by key, cursors committed with their records and kept
//! across a reopen, queries by time, container, rule and severity; the JSONL log: one
//! line per record, rotated by size and age, old files pruned.

#![allow(clippy::unwrap_used)]

use moat_store::{JsonlLog, Query, Record, Rotation, Store, StoreError};
use serde_json::json;
use std::time::Duration;

fn ev(t: i64, key: &str, container: &str) -> Record {
    Record::new(
        "event",
        t,
        json!({"type": "x", "container": {"name": format!("n-{container}")}}),
    )
    .container(container)
    .key(key)
}

#[test]
fn duplicates_are_dropped_and_cursors_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/store.db");
    {
        let mut s = Store::open(&path).unwrap();
        let out = s
            .append(
                &[ev(1, "k1", "aaaa"), ev(2, "k2", "bbbb")],
                &[("docker", "2")],
            )
            .unwrap();
        assert_eq!(out.inserted.len(), 2);
        assert!(out.inserted[0].seq < out.inserted[1].seq);
        // The same keys again (a replay after a restart) plus one new record.
        let out = s
            .append(
                &[
                    ev(2, "k2", "bbbb"),
                    ev(3, "k3", "aaaa"),
                    ev(1, "k1", "aaaa"),
                ],
                &[("docker", "3")],
            )
            .unwrap();
        assert_eq!(out.duplicates, 2);
        assert_eq!(out.inserted.len(), 1);
        assert_eq!(out.inserted[0].key.as_deref(), Some("k3"));
    }
    let s = Store::open_existing(&path).unwrap();
    assert_eq!(s.cursor("docker").unwrap().as_deref(), Some("3"));
    assert_eq!(s.cursor("other").unwrap(), None);
    assert_eq!(s.len().unwrap(), 3);
    // Records without a key are never deduplicated.
    let mut s = s;
    let r = Record::new("action", 5, json!({"did": "pause"}));
    s.append(&[r.clone(), r], &[]).unwrap();
    assert_eq!(s.len().unwrap(), 5);
    assert!(Store::open_existing(&dir.path().join("none.db")).is_err());
}

#[test]
fn queries_filter_by_time_container_rule_and_severity() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    let mut recs = Vec::new();
    for i in 0..10 {
        recs.push(ev(
            i * 10,
            &format!("e{i}"),
            if i % 2 == 0 { "abcdef01" } else { "99887766" },
        ));
    }
    recs.push(
        Record::new("alert", 35, json!({"output": "shell"}))
            .container("abcdef01")
            .rule("Terminal shell in container")
            .severity("HIGH")
            .key("a1"),
    );
    recs.push(
        Record::new("alert", 45, json!({"output": "listen"}))
            .container("99887766")
            .rule("Listening port not in EXPOSE")
            .severity("MEDIUM")
            .key("a2"),
    );
    s.append(&recs, &[]).unwrap();
    let q = |q: Query| s.query(&q).unwrap();
    let r = q(Query {
        since_ns: Some(20),
        until_ns: Some(40),
        ..Query::default()
    });
    assert_eq!(
        r.iter().map(|r| r.time_ns).collect::<Vec<_>>(),
        vec![20, 30, 35, 40]
    );
    // Id prefix, full id, and name from the body.
    assert_eq!(
        q(Query {
            container: Some("abcd".into()),
            ..Query::default()
        })
        .len(),
        6
    );
    assert_eq!(
        q(Query {
            container: Some("99887766".into()),
            ..Query::default()
        })
        .len(),
        6
    );
    assert_eq!(
        q(Query {
            container: Some("n-abcdef01".into()),
            ..Query::default()
        })
        .len(),
        5
    );
    assert_eq!(
        q(Query {
            rule: Some("Terminal shell in container".into()),
            ..Query::default()
        })[0]
            .key
            .as_deref(),
        Some("a1")
    );
    assert_eq!(
        q(Query {
            severity: Some("medium".into()),
            ..Query::default()
        })
        .len(),
        2
    );
    assert_eq!(
        q(Query {
            severity: Some("HIGH".into()),
            ..Query::default()
        })
        .len(),
        1
    );
    // Following the store by position: append order, after a given seq.
    let all = q(Query::default());
    let third = all.iter().map(|r| r.seq).min().unwrap() + 2;
    let next = q(Query {
        after_seq: Some(third),
        limit: Some(3),
        ..Query::default()
    });
    assert_eq!(
        next.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![third + 1, third + 2, third + 3]
    );
    // The body's type: the events are all "x"; alerts have none.
    for (t, n) in [("x", 10), ("exec_create", 0)] {
        assert_eq!(
            q(Query {
                event_type: Some(t.into()),
                ..Query::default()
            })
            .len(),
            n
        );
    }
    assert_eq!(
        q(Query {
            kind: Some("alert".into()),
            limit: Some(1),
            ..Query::default()
        })
        .len(),
        1
    );
    assert!(
        s.query(&Query {
            severity: Some("loud".into()),
            ..Query::default()
        })
        .is_err()
    );
}

#[test]
fn an_oversized_body_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(&dir.path().join("s.db")).unwrap();
    let big = "x".repeat(moat_store::MAX_BODY_BYTES + 1);
    let e = s
        .append(&[Record::new("event", 1, json!(big)).key("big")], &[])
        .unwrap_err();
    assert!(matches!(e, StoreError::TooLarge { .. }));
    assert!(e.to_string().contains("big"), "{e}");
    assert_eq!(s.len().unwrap(), 0);
}

#[test]
fn jsonl_log_appends_rotates_and_prunes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let rot = Rotation {
        max_bytes: 300,
        max_age: Duration::from_secs(3600),
        max_files: 2,
    };
    let mut log = JsonlLog::open(&path, rot).unwrap();
    for i in 0..12 {
        log.append(&[ev(i, &format!("k{i}"), "c")]).unwrap();
    }
    let rotated = log.rotated_files().unwrap();
    assert_eq!(rotated.len(), 2, "{rotated:?}");
    // Every line of every file is a whole record; the newest ones are all there.
    let mut keys = Vec::new();
    for f in rotated.iter().chain([&path]) {
        for l in std::fs::read_to_string(f).unwrap().lines() {
            let r: Record = serde_json::from_str(l).unwrap();
            keys.push(r.key.unwrap());
        }
    }
    assert!(keys.contains(&"k11".to_string()));
    assert!(
        !keys.contains(&"k0".to_string()),
        "the oldest file was pruned"
    );
    assert!(std::fs::metadata(&path).unwrap().len() <= 300 + 200);

    // Age: a log older than max_age rotates on the next batch.
    let path2 = dir.path().join("aged.jsonl");
    let rot = Rotation {
        max_bytes: 1 << 30,
        max_age: Duration::from_millis(50),
        max_files: 5,
    };
    let mut log = JsonlLog::open(&path2, rot).unwrap();
    log.append(&[ev(1, "a", "c")]).unwrap();
    std::thread::sleep(Duration::from_millis(120));
    log.append(&[ev(2, "b", "c")]).unwrap();
    assert_eq!(log.rotated_files().unwrap().len(), 1);
    assert_eq!(std::fs::read_to_string(&path2).unwrap().lines().count(), 1);
}
