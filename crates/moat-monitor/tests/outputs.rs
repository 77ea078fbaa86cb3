//! Alert outputs on real local peers: RFC 5424 syslog to a UDP socket and to a Unix
//! datagram socket; a webhook receiver (an HTTP server in the test) that fails the first
//! attempts, to prove the retry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use moat_model::Severity;
use moat_model::runtime::{Alert, ContainerInfo, ProcessInfo, RuntimeEvent};
use moat_monitor::AlertSink;
use moat_monitor::output::{SyslogSink, SyslogTarget, WebhookOptions, WebhookSink};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

fn alert() -> Alert {
    let container = ContainerInfo {
        id: "ab".repeat(32),
        name: "web".into(),
        image: "busybox:latest".into(),
        ..ContainerInfo::default()
    };
    let process = ProcessInfo {
        pid: 4242,
        name: "sh".into(),
        cmdline: "sh -c id".into(),
        ..ProcessInfo::default()
    };
    Alert {
        time_ns: 1_764_784_800_250_000_000,
        rule: "Terminal shell in container".into(),
        severity: Severity::High,
        output: "Shell in container web (cmdline=sh -c id)".into(),
        container: Some(container.clone()),
        process: Some(process.clone()),
        evidence: RuntimeEvent {
            kind: "execve".into(),
            container: Some(container),
            process: Some(process),
            ..RuntimeEvent::default()
        },
        tags: vec!["T1059".into()],
        action: None,
    }
}

fn check_5424(msg: &str) {
    // <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD SP MSG
    let (pri, rest) = msg.split_once('>').unwrap();
    assert_eq!(pri, "<131", "local0 (16) * 8 + err (3)");
    let parts: Vec<&str> = rest.splitn(7, ' ').collect();
    assert_eq!(parts[0], "1");
    assert_eq!(parts[1], "2025-12-03T18:00:00.250Z");
    assert!(!parts[2].is_empty() && !parts[2].contains(' '));
    assert_eq!(parts[3], "moat");
    assert_eq!(parts[4], std::process::id().to_string());
    assert_eq!(parts[5], "alert");
    assert!(
        parts[6].starts_with(
            "[moat@32473 rule=\"Terminal shell in container\" severity=\"HIGH\" container=\""
        ),
        "{msg}"
    );
    assert!(parts[6].contains(" pid=\"4242\"]"), "{msg}");
    assert!(
        parts[6].ends_with("] Shell in container web (cmdline=sh -c id)"),
        "{msg}"
    );
}

#[test]
fn syslog_over_udp_and_a_unix_socket() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let addr = rx.local_addr().unwrap();
    let mut s = SyslogSink::new(SyslogTarget::parse(&format!("udp://{addr}")).unwrap()).unwrap();
    s.send(&alert()).unwrap();
    let mut buf = [0u8; 8192];
    let n = rx.recv(&mut buf).unwrap();
    check_5424(std::str::from_utf8(&buf[..n]).unwrap());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let rx = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut s =
        SyslogSink::new(SyslogTarget::parse(&format!("unix://{}", path.display())).unwrap())
            .unwrap();
    s.send(&alert()).unwrap();
    let n = rx.recv(&mut buf).unwrap();
    check_5424(std::str::from_utf8(&buf[..n]).unwrap());

    assert!(SyslogTarget::parse("tcp://x:1").is_err());
    assert!(SyslogTarget::parse("udp://nohostport").is_err());
}

/// Answers `fail` requests with 503, then 204; returns the bodies it received.
fn receiver(fail: usize, total: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for i in 0..total {
            let (s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            assert!(line.starts_with("POST /hook "), "{line}");
            loop {
                line.clear();
                r.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; len];
            r.read_exact(&mut body).unwrap();
            bodies.push(String::from_utf8(body).unwrap());
            let status = if i < fail {
                "503 Service Unavailable"
            } else {
                "204 No Content"
            };
            let mut s = s;
            write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
        }
        bodies
    });
    (url, h)
}

#[test]
fn webhook_retries_until_the_receiver_accepts() {
    let (url, h) = receiver(2, 3);
    let mut s = WebhookSink::new(
        &url,
        WebhookOptions {
            attempts: 5,
            backoff: Duration::from_millis(50),
            ..WebhookOptions::default()
        },
    )
    .unwrap();
    let stats = s.stats();
    s.send(&alert()).unwrap();
    s.close();
    let bodies = h.join().unwrap();
    assert_eq!(bodies.len(), 3, "two failures, then the delivery");
    for b in &bodies {
        let a: Alert = serde_json::from_str(b).unwrap();
        assert_eq!(a, alert());
    }
    use std::sync::atomic::Ordering;
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 1);
    assert_eq!(stats.retries.load(Ordering::Relaxed), 2);
    assert_eq!(stats.failed.load(Ordering::Relaxed), 0);
}

#[test]
fn webhook_gives_up_after_its_attempts_and_counts_it() {
    let (url, h) = receiver(3, 3);
    let mut s = WebhookSink::new(
        &url,
        WebhookOptions {
            attempts: 3,
            backoff: Duration::from_millis(20),
            ..WebhookOptions::default()
        },
    )
    .unwrap();
    let stats = s.stats();
    s.send(&alert()).unwrap();
    s.close();
    assert_eq!(h.join().unwrap().len(), 3);
    use std::sync::atomic::Ordering;
    assert_eq!(stats.failed.load(Ordering::Relaxed), 1);
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 0);
    assert!(WebhookSink::new("ftp://x", WebhookOptions::default()).is_err());
}
