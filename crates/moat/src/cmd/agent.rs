//! `moat agent`: run on each Docker host; posts the host, its running containers, the
//! inventories of their images the server does not know yet (read from the engine as
//! `moat sbom docker:IMAGE_ID` reads them, each image once), optionally a `moat audit`
//! report, and the alerts `moat monitor` wrote to its store since the cursor the server
//! acknowledged (docs/serve.md, "Agents").
//!
//! Exit codes: 0 (`--once`: the cycle succeeded; otherwise only on a signal), 2 error.

use crate::Global;
use anyhow::Context;
use moat_engine::{DockerEngine, Engine};
use moat_server::client::Client;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server: http://HOST:PORT or https://HOST:PORT.
    #[arg(long, env = "MOAT_SERVER", value_name = "URL")]
    pub server: String,
    /// A submitter (or admin) token of the tenant (better given as MOAT_TOKEN).
    #[arg(long, env = "MOAT_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: String,
    /// The CA certificate (PEM) of an https server with a private certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// The engine: unix:///PATH or tcp://HOST:PORT (default: $DOCKER_HOST, else unix:///var/run/docker.sock).
    #[arg(long, value_name = "SOCK")]
    pub host: Option<String>,
    /// This host's name on the server (default: the engine's host name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The `moat monitor` store whose alerts are posted.
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Also run `moat audit` of the engine (without the isolation proof) and post it.
    #[arg(long)]
    pub audit: bool,
    /// Seconds between two reports.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub interval: u64,
    /// Report once and exit.
    #[arg(long)]
    pub once: bool,
    /// Give up a request to the server after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
}

/// Alerts posted per request, and read per cycle (the rest in the next cycle).
const ALERTS_PER_POST: usize = 500;
const ALERTS_PER_CYCLE: usize = 10_000;

struct Agent<'a> {
    global: &'a Global,
    args: &'a Args,
    client: Client,
    host: String,
    /// Image ids whose inventories this process sent (the server also remembers).
    sent: BTreeSet<String>,
}

/// What one cycle did.
#[derive(Debug, Default)]
struct Cycle {
    host: String,
    containers: usize,
    images_sent: usize,
    image_errors: usize,
    alerts_sent: usize,
    cursor: Option<i64>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if args.interval == 0 {
        anyhow::bail!("--interval: at least 1 second");
    }
    let client = Client::new(
        &args.server,
        &args.token,
        args.ca_cert.as_deref(),
        Duration::from_secs(args.timeout.max(1)),
    )?;
    if let Some(s) = &args.store
        && !s.exists()
    {
        anyhow::bail!("--store {}: no such file", s.display());
    }
    let host = args.host.clone().unwrap_or_else(moat_engine::default_host);
    let mut agent = Agent {
        global,
        args: &args,
        client,
        host,
        sent: BTreeSet::new(),
    };
    loop {
        match agent.cycle() {
            Ok(c) => eprintln!(
                "moat agent: {}: {} running containers, {} images sent{}, {} alerts sent (cursor {})",
                moat_model::escape_control(&c.host),
                c.containers,
                c.images_sent,
                if c.image_errors > 0 {
                    format!(" ({} could not be read)", c.image_errors)
                } else {
                    String::new()
                },
                c.alerts_sent,
                c.cursor.map_or("none".to_string(), |c| c.to_string())
            ),
            Err(e) if !args.once => eprintln!(
                "moat agent: error (retrying in {} s): {}",
                args.interval,
                moat_model::escape_control(&format!("{e:#}"))
            ),
            Err(e) => return Err(e),
        }
        if args.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}

impl Agent<'_> {
    fn cycle(&mut self) -> anyhow::Result<Cycle> {
        let engine = DockerEngine::connect(&self.host)?;
        let version = engine.version()?;
        let info = engine.info()?;
        let name = self
            .args
            .name
            .clone()
            .or_else(|| info.name.clone().filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "localhost".to_string());
        let mut containers = Vec::new();
        // Image id → the reference of the first running container using it.
        let mut images: BTreeMap<String, String> = BTreeMap::new();
        for c in engine.containers()? {
            let state = c.state.map(|s| s.to_string()).unwrap_or_default();
            if state != "running" {
                continue;
            }
            let (Some(id), Some(image_id)) = (c.id.clone(), c.image_id.clone()) else {
                continue;
            };
            let cname = c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default();
            let image = c.image.clone().unwrap_or_default();
            images
                .entry(image_id.clone())
                .or_insert_with(|| image.clone());
            containers.push(json!({
                "id": id, "name": cname, "image": image, "image_id": image_id, "state": state,
            }));
        }
        let audit = if self.args.audit {
            Some(self.audit(&engine)?)
        } else {
            None
        };
        let mut body = json!({
            "host": {
                "name": name,
                "engine_version": version.version.clone().unwrap_or_default(),
                "os": info.operating_system.clone().unwrap_or_default(),
                "agent_version": env!("CARGO_PKG_VERSION"),
            },
            "containers": containers,
        });
        if let Some(a) = audit {
            body["audit"] = a;
        }
        let reply = self.client.post("/api/v1/agent/report", &body)?;
        let mut cycle = Cycle {
            host: name.clone(),
            containers: containers.len(),
            cursor: reply.get("alert_cursor").and_then(Value::as_i64),
            ..Cycle::default()
        };
        let missing: Vec<String> = reply
            .get("missing_images")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for image_id in missing {
            if self.sent.contains(&image_id) {
                continue;
            }
            let reference = images.get(&image_id).cloned().unwrap_or_default();
            match self.send_image(&image_id, &reference) {
                Ok(()) => {
                    self.sent.insert(image_id);
                    cycle.images_sent += 1;
                }
                Err(e) => {
                    cycle.image_errors += 1;
                    eprintln!(
                        "moat agent: warning: image {image_id}: {}",
                        moat_model::escape_control(&format!("{e:#}"))
                    );
                }
            }
        }
        if let Some(store) = &self.args.store {
            let (sent, cursor) = self.send_alerts(store, &name, cycle.cursor)?;
            cycle.alerts_sent = sent;
            cycle.cursor = cursor;
        }
        Ok(cycle)
    }

    /// Read an image's inventory from the engine and upload it.
    fn send_image(&self, image_id: &str, reference: &str) -> anyhow::Result<()> {
        let mut image = moat_image::OpenOptions::new(self.global.cache_dir());
        image.docker_host = Some(self.host.clone());
        let opts = moat_scan::ScanOptions {
            image,
            scanners: moat_scan::Scanners {
                vuln: false,
                misconfig: false,
            },
            db_path: self.global.db_path(),
            severities: None,
            ignore_unfixed: false,
            ignore_file: None,
            vex: Vec::new(),
            max_db_age_days: u64::MAX,
            use_cache: true,
            now: time::OffsetDateTime::now_utc(),
            offline: true,
            catalog_limits: moat_catalog::Limits::default(),
        };
        let plan = moat_scan::ScanPlan::new(&format!("docker:{image_id}"), opts)?;
        let inventory = plan.inventory()?.inventory;
        // The reference shown on the server: the tag and the exact image (a tag moves).
        let shown = if reference.is_empty() || reference.starts_with("sha256:") {
            image_id.to_string()
        } else {
            format!("{reference}@{image_id}")
        };
        self.client.post(
            "/api/v1/agent/images",
            &json!({ "image_id": image_id, "reference": shown, "sbom": inventory }),
        )?;
        Ok(())
    }

    /// `moat audit` of the engine: `{"summary": {"findings": N, "by_severity": {…}},
    /// "report": <the JSON report>}`.
    fn audit(&self, engine: &DockerEngine) -> anyhow::Result<Value> {
        let opts = moat_audit::AuditOptions {
            proof: false,
            image_files: false,
            ..Default::default()
        };
        let snap = moat_audit::collect(engine, &opts).context("audit")?;
        let (report, _) = moat_audit::report_with_coverage(&snap, &opts, None);
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for f in &report.findings {
            *by.entry(f.severity().as_str().to_string()).or_default() += 1;
        }
        Ok(json!({
            "summary": { "findings": report.findings.len(), "by_severity": by },
            "report": serde_json::to_value(&report)?,
        }))
    }

    /// Post the store's alerts after `cursor` (by store position), lowest first, at most
    /// [`ALERTS_PER_CYCLE`]; how many were sent and the server's new cursor.
    fn send_alerts(
        &self,
        path: &std::path::Path,
        host: &str,
        cursor: Option<i64>,
    ) -> anyhow::Result<(usize, Option<i64>)> {
        let store = moat_store::Store::open_existing(path)
            .with_context(|| format!("--store {}", path.display()))?;
        let all = store
            .query(&moat_store::Query {
                kind: Some("alert".into()),
                after_seq: Some(cursor.unwrap_or(0)),
                limit: Some(ALERTS_PER_CYCLE),
                ..Default::default()
            })
            .with_context(|| format!("--store {}", path.display()))?;
        let mut sent = 0;
        let mut cursor = cursor;
        for chunk in all.chunks(ALERTS_PER_POST) {
            let alerts: Vec<Value> = chunk
                .iter()
                .map(|r| {
                    json!({
                        "seq": r.seq, "time_ns": r.time_ns, "container": r.container,
                        "rule": r.rule, "severity": r.severity, "body": r.body,
                    })
                })
                .collect();
            let reply = self.client.post(
                "/api/v1/agent/alerts",
                &json!({ "host": host, "alerts": alerts }),
            )?;
            sent += chunk.len();
            cursor = reply.get("alert_cursor").and_then(Value::as_i64).or(cursor);
        }
        Ok((sent, cursor))
    }
}
