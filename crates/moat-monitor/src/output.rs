//! Alert outputs besides the store: a writer (text or JSON lines), syslog (RFC 5424 over
//! UDP or a Unix datagram socket) and webhooks (HTTP POST of the alert's JSON, retried
//! with backoff on a thread of its own so a slow receiver never holds up the monitor).

use crate::AlertSink;
use moat_model::runtime::Alert;
use moat_report::monitor::{alert_json, alert_line, syslog_5424};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// An output that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The target is not understood.
    #[error("{target:?}: expected {expected}")]
    BadTarget {
        target: String,
        expected: &'static str,
    },
    /// Writing or sending failed.
    #[error("{sink}: {source}")]
    Io {
        sink: String,
        #[source]
        source: std::io::Error,
    },
    /// The sink's queue is full: the alert was not sent (counted).
    #[error("{sink}: queue full, alert not sent")]
    QueueFull { sink: String },
    /// The sink was closed.
    #[error("{sink}: closed")]
    Closed { sink: String },
}

/// How a writer sink prints alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// [`alert_line`].
    Text,
    /// [`alert_json`].
    Json,
}

/// Alerts to a writer (stdout), one per line, flushed each time.
pub struct WriterSink {
    w: Box<dyn Write + Send>,
    format: LineFormat,
    name: String,
}

impl WriterSink {
    /// A sink on `w`.
    pub fn new(name: &str, w: Box<dyn Write + Send>, format: LineFormat) -> WriterSink {
        WriterSink {
            w,
            format,
            name: name.to_string(),
        }
    }
}

impl AlertSink for WriterSink {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn send(&mut self, a: &Alert) -> Result<(), OutputError> {
        let line = match self.format {
            LineFormat::Text => alert_line(a),
            LineFormat::Json => alert_json(a),
        };
        writeln!(self.w, "{line}")
            .and_then(|_| self.w.flush())
            .map_err(|source| OutputError::Io {
                sink: self.name.clone(),
                source,
            })
    }
}

/// Where syslog messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTarget {
    /// `udp://HOST:PORT`.
    Udp(String),
    /// `unix:///dev/log` (a datagram socket).
    Unix(std::path::PathBuf),
}

impl SyslogTarget {
    /// Reads `udp://HOST:PORT` or `unix:///PATH`.
    pub fn parse(s: &str) -> Result<SyslogTarget, OutputError> {
        let bad = || OutputError::BadTarget {
            target: s.to_string(),
            expected: "a syslog target udp://HOST:PORT or unix:///PATH",
        };
        if let Some(a) = s.strip_prefix("udp://") {
            if a.is_empty() || !a.contains(':') {
                return Err(bad());
            }
            Ok(SyslogTarget::Udp(a.to_string()))
        } else if let Some(p) = s.strip_prefix("unix://") {
            if p.is_empty() {
                return Err(bad());
            }
            Ok(SyslogTarget::Unix(PathBuf::from(p)))
        } else {
            Err(bad())
        }
    }
}

/// RFC 5424 messages, one datagram each.
pub struct SyslogSink {
    target: SyslogTarget,
    hostname: String,
    udp: Option<std::net::UdpSocket>,
    unix: Option<std::os::unix::net::UnixDatagram>,
}

impl SyslogSink {
    /// A sink sending to `target`.
    pub fn new(target: SyslogTarget) -> Result<SyslogSink, OutputError> {
        let hostname =
            crate::procinfo::read_bounded(std::path::Path::new("/proc/sys/kernel/hostname"), 256)
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|| "-".to_string());
        let mut s = SyslogSink {
            target: target.clone(),
            hostname,
            udp: None,
            unix: None,
        };
        let io = |source| OutputError::Io {
            sink: s_name(&target),
            source,
        };
        match &target {
            SyslogTarget::Udp(a) => {
                let sock = std::net::UdpSocket::bind("0.0.0.0:0").map_err(io)?;
                sock.connect(a).map_err(io)?;
                s.udp = Some(sock);
            }
            SyslogTarget::Unix(p) => {
                let sock = std::os::unix::net::UnixDatagram::unbound().map_err(io)?;
                sock.connect(p).map_err(io)?;
                s.unix = Some(sock);
            }
        }
        Ok(s)
    }
}

fn s_name(t: &SyslogTarget) -> String {
    match t {
        SyslogTarget::Udp(a) => format!("syslog udp://{a}"),
        SyslogTarget::Unix(p) => format!("syslog unix://{}", p.display()),
    }
}

impl AlertSink for SyslogSink {
    fn name(&self) -> String {
        s_name(&self.target)
    }

    fn send(&mut self, a: &Alert) -> Result<(), OutputError> {
        let msg = syslog_5424(a, &self.hostname, std::process::id());
        // Datagrams: keep a message within 8 KiB (RFC 5426 asks receivers for 2 KiB at
        // least; most take 8).
        let bytes = &msg.as_bytes()[..msg.len().min(8192)];
        let r = match (&self.udp, &self.unix) {
            (Some(u), _) => u.send(bytes).map(|_| ()),
            (_, Some(u)) => u.send(bytes).map(|_| ()),
            _ => Ok(()),
        };
        r.map_err(|source| OutputError::Io {
            sink: self.name(),
            source,
        })
    }
}

/// Webhook delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookOptions {
    /// Attempts per alert (first try included).
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub backoff: Duration,
    /// Time for one attempt.
    pub timeout: Duration,
    /// Alerts queued at most; more are counted as lost.
    pub queue: usize,
}

impl Default for WebhookOptions {
    fn default() -> WebhookOptions {
        WebhookOptions {
            attempts: 5,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
            queue: 4096,
        }
    }
}

/// Counts of a webhook sink.
#[derive(Debug, Default)]
pub struct WebhookStats {
    pub delivered: AtomicU64,
    pub retries: AtomicU64,
    pub failed: AtomicU64,
    pub lost: AtomicU64,
}

/// POSTs each alert's JSON to a URL; non-2xx answers and errors are retried.
pub struct WebhookSink {
    url: String,
    tx: Option<SyncSender<String>>,
    worker: Option<JoinHandle<()>>,
    stats: Arc<WebhookStats>,
}

impl WebhookSink {
    /// A sink posting to `url` (http:// or https://).
    pub fn new(url: &str, opts: WebhookOptions) -> Result<WebhookSink, OutputError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(OutputError::BadTarget {
                target: url.to_string(),
                expected: "a webhook URL (http:// or https://)",
            });
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(opts.queue.max(1));
        let stats = Arc::new(WebhookStats::default());
        let (u, st) = (url.to_string(), Arc::clone(&stats));
        let rx = Arc::new(Mutex::new(rx));
        let worker = std::thread::spawn(move || deliver(&u, &opts, &rx, &st));
        Ok(WebhookSink {
            url: url.to_string(),
            tx: Some(tx),
            worker: Some(worker),
            stats,
        })
    }

    /// Its counts.
    pub fn stats(&self) -> Arc<WebhookStats> {
        Arc::clone(&self.stats)
    }
}

fn deliver(url: &str, opts: &WebhookOptions, rx: &Mutex<Receiver<String>>, st: &WebhookStats) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(opts.timeout))
        .user_agent(concat!("moat-monitor/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    loop {
        let body = match rx.lock() {
            Ok(r) => match r.recv() {
                Ok(b) => b,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let mut wait = opts.backoff;
        let mut ok = false;
        for attempt in 0..opts.attempts.max(1) {
            if attempt > 0 {
                st.retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            let r = agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.as_bytes());
            if let Ok(resp) = r
                && resp.status().is_success()
            {
                ok = true;
                break;
            }
        }
        if ok {
            st.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            st.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl AlertSink for WebhookSink {
    fn name(&self) -> String {
        format!("webhook {}", self.url)
    }

    fn send(&mut self, a: &Alert) -> Result<(), OutputError> {
        let Some(tx) = &self.tx else {
            return Err(OutputError::Closed { sink: self.name() });
        };
        match tx.try_send(alert_json(a)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                self.stats.lost.fetch_add(1, Ordering::Relaxed);
                Err(OutputError::QueueFull { sink: self.name() })
            }
            Err(TrySendError::Disconnected(_)) => Err(OutputError::Closed { sink: self.name() }),
        }
    }

    /// Waits for queued alerts to be delivered (or to fail their attempts).
    fn close(&mut self) {
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
