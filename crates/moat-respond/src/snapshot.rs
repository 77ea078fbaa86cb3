//! `snapshot`: an evidence bundle of a container, read while it is paused where possible.
//!
//! Members (each listed with its SHA-256 in `manifest.json`, hashes chained):
//! `container/inspect.json`, `container/image-inspect.json`, `container/top.json`,
//! `filesystem/changes.json` (the `diff`), `filesystem/files.json` (what was done with each
//! change) and `filesystem/files/<path>` (each changed regular file's bytes),
//! `logs/stdout.log`, `logs/stderr.log` (or `logs/tty.log`), `processes.json` (command
//! lines, executables and their SHA-256), `sockets.json`, `mounts.json`,
//! `proc/mountinfo`, `environment.json` (secrets redacted with moat's secret rules),
//! optionally `image/commit.docker-archive.tar` (`docker commit` of the container,
//! exported), and `scan/report.json` with `scan/remediation.json` (the image's scan and
//! what to patch and rebuild).

use crate::api;
use crate::bundle::{BundleWriter, Written};
use crate::state::{self, Inspected, short_id};
use crate::{RespondError, Responder, procs};
use base64::Engine as _;
use moat_model::response::{ActionRecord, BundleManifest, EvidenceRef, RESPONSE_SCHEMA, Step};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// The bounds and choices of a snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// Pause a running container while it is read (unpaused after).
    pub pause: bool,
    /// `docker commit` the container and export it as a docker-archive.
    pub commit: bool,
    /// Scan the image for the remediation plan (when a scanner is given).
    pub scan: bool,
    /// Where to write the bundle (default `<evidence>/snapshots/NAME-ID-TIME.tar.gz`).
    pub output: Option<PathBuf>,
    /// Bytes of one changed file copied (larger ones are listed, not copied).
    pub max_file_bytes: u64,
    /// Bytes of all changed files copied.
    pub max_files_total_bytes: u64,
    /// Changed files copied at most.
    pub max_files: usize,
    /// Bytes of the logs kept (the start; a note says when cut).
    pub max_log_bytes: u64,
    /// Bytes of the exported commit.
    pub max_image_bytes: u64,
    /// The /proc of the engine's host (tests may point elsewhere).
    pub proc_root: PathBuf,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            pause: true,
            commit: false,
            scan: true,
            output: None,
            max_file_bytes: 64 << 20,
            max_files_total_bytes: 1 << 30,
            max_files: 10_000,
            max_log_bytes: 64 << 20,
            max_image_bytes: 16 << 30,
            proc_root: PathBuf::from("/proc"),
        }
    }
}

/// The scan of an image: the report and its remediation plan, as JSON.
#[derive(Debug, Clone, Default)]
pub struct ImageScan {
    pub report_json: Vec<u8>,
    pub remediation_json: Vec<u8>,
    /// One line: `12 vulnerabilities (2 critical); 3 fixes: rebuild on alpine:3.20…`.
    pub summary: String,
}

/// Scans an image for a snapshot (the binary implements it with moat-scan, a peer
/// crate at this layer).
pub trait ImageScanner {
    /// Scans image `image_id` held by the engine at `engine_host`.
    fn scan(&self, image_id: &str, engine_host: &str) -> Result<ImageScan, RespondError>;
}

/// Go's `os.FileMode` type bits (the archive API's path stat).
const MODE_TYPE_BITS: u64 =
    (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19);
const MODE_DIR: u64 = 1 << 31;
const MODE_SYMLINK: u64 = 1 << 27;

/// A name usable in a file name.
fn file_safe(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    out.trim_start_matches('.').to_string()
}

/// `/a/b` → `a/b` when every component is plain.
fn relative(p: &str) -> Option<String> {
    let path = Path::new(p);
    if !path.is_absolute() {
        return None;
    }
    let parts: Vec<String> = path
        .components()
        .skip(1)
        .map(|c| match c {
            Component::Normal(s) => s.to_str().map(str::to_string),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Splits a multiplexed log stream (8-byte frame headers) into stdout and stderr.
pub fn demux(raw: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < raw.len() {
        let h = raw.get(i..i + 8)?;
        let size = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        // A cut stream ends with a partial frame: keep what there is.
        let body = raw.get(i + 8..(i + 8 + size).min(raw.len()))?;
        match h[0] {
            0 | 1 => out.extend_from_slice(body),
            2 => err.extend_from_slice(body),
            _ => return None,
        }
        i += 8 + size;
    }
    Some((out, err))
}

/// Environment entries with every secret the rules find replaced by
/// `<redacted:RULE>`; returns the entries and how many secrets were redacted.
pub fn redact_env(
    scanner: &moat_content::secrets::SecretScanner,
    env: &[String],
) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut count = 0;
    for e in env {
        let bytes = e.as_bytes();
        let mut hits = scanner.scan(
            "config:Env",
            bytes,
            moat_content::secrets::Target::Config,
            false,
        );
        hits.sort_by_key(|h| h.location.column);
        let mut redacted = String::new();
        let mut at = 0usize;
        let mut rules = Vec::new();
        for h in &hits {
            let start = (h.location.column as usize).saturating_sub(1);
            let end = start.saturating_add(h.length).min(bytes.len());
            if start < at || start >= end {
                continue;
            }
            redacted.push_str(&String::from_utf8_lossy(&bytes[at..start]));
            redacted.push_str(&format!("<redacted:{}>", h.rule));
            rules.push(h.rule.clone());
            at = end;
        }
        redacted.push_str(&String::from_utf8_lossy(&bytes[at..]));
        count += rules.len();
        let (name, value) = redacted
            .split_once('=')
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .unwrap_or((redacted.clone(), String::new()));
        let mut v = json!({"name": name, "value": value});
        if !rules.is_empty() {
            v["redacted"] = json!(rules);
        }
        out.push(v);
    }
    (out, count)
}

struct Collect<'r> {
    rec: &'r mut ActionRecord,
    notes: Vec<String>,
}

impl Collect<'_> {
    fn step(&mut self, description: impl Into<String>, result: impl Into<String>) {
        self.rec.steps.push(Step {
            description: description.into(),
            result: result.into(),
        });
    }

    /// Runs one collection; a failure is a note and a failed step, not the end.
    fn try_part(&mut self, what: &str, r: Result<String, RespondError>) {
        match r {
            Ok(detail) => self.step(
                what,
                if detail.is_empty() {
                    "ok".to_string()
                } else {
                    format!("ok: {detail}")
                },
            ),
            Err(e) => {
                self.notes.push(format!("{what}: not collected: {e}"));
                self.step(what, format!("failed: {e}"));
            }
        }
    }
}

impl Responder<'_> {
    pub(crate) fn snapshot(
        &self,
        rec: &mut ActionRecord,
        c: &Inspected,
    ) -> Result<(), RespondError> {
        let so = &self.opts.snapshot;
        let id = c.container.id.clone();
        let stamp = time::OffsetDateTime::now_utc();
        let path = so.output.clone().unwrap_or_else(|| {
            let ts = format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                stamp.year(),
                u8::from(stamp.month()),
                stamp.day(),
                stamp.hour(),
                stamp.minute(),
                stamp.second()
            );
            self.opts.evidence_dir.join("snapshots").join(format!(
                "{}-{}-{ts}.tar.gz",
                file_safe(&c.container.name),
                short_id(&id)
            ))
        });
        let running = c.state.status == "running";
        if self.opts.dry_run {
            if so.pause && running {
                self.act(
                    rec,
                    "pause the container for a consistent read".into(),
                    || Ok(()),
                )?;
            }
            for part in [
                "inspect the container and its image",
                "filesystem changes (diff) and the changed files",
                "logs",
                "processes (command lines, executables and their SHA-256) and sockets",
                "mounts and environment (secrets redacted)",
            ] {
                self.act(rec, part.into(), || Ok(()))?;
            }
            if so.commit {
                self.act(
                    rec,
                    "commit the container and export it as a docker-archive".into(),
                    || Ok(()),
                )?;
            }
            if so.scan && self.scanner.is_some() {
                self.act(
                    rec,
                    "scan the image with the remediation plan".into(),
                    || Ok(()),
                )?;
            }
            if so.pause && running {
                self.act(rec, "unpause the container".into(), || Ok(()))?;
            }
            return self.act(rec, format!("write the bundle {}", path.display()), || {
                Ok(())
            });
        }
        let mut paused_here = false;
        if so.pause && running {
            match api::expect_ok(
                self.api,
                "POST",
                &format!("/containers/{}/pause", api::seg(&id)),
                None,
            ) {
                Ok(_) => {
                    paused_here = true;
                    rec.steps.push(Step {
                        description: "pause the container for a consistent read".into(),
                        result: "ok".into(),
                    });
                }
                Err(e) => {
                    rec.notes
                        .push(format!("read while running: the pause failed: {e}"));
                    rec.steps.push(Step {
                        description: "pause the container for a consistent read".into(),
                        result: format!("failed: {e}"),
                    });
                }
            }
        }
        let read_paused = paused_here || c.state.status == "paused";
        let result = self.collect(rec, c, &path, read_paused, stamp);
        if paused_here {
            let r = api::expect_ok(
                self.api,
                "POST",
                &format!("/containers/{}/unpause", api::seg(&id)),
                None,
            );
            rec.steps.push(Step {
                description: "unpause the container (it was running before the snapshot)".into(),
                result: match &r {
                    Ok(_) => "ok".into(),
                    Err(e) => format!("failed: {e}"),
                },
            });
            if let Err(e) = r {
                rec.notes.push(format!(
                    "the container stays paused: unpausing it failed ({e}); `moat respond unpause` it"
                ));
            }
        }
        let w = result?;
        rec.notes.push(format!(
            "evidence: {} ({} files, sha256 {})",
            w.path.display(),
            w.files,
            w.sha256
        ));
        rec.evidence = Some(EvidenceRef {
            path: w.path.display().to_string(),
            sha256: w.sha256,
            chain_head: w.chain_head,
            files: w.files,
            bytes: w.bytes,
        });
        if let Ok(now) = state::inspect(self.api, &id) {
            rec.after = Some(now.state);
        }
        Ok(())
    }

    fn collect(
        &self,
        rec: &mut ActionRecord,
        c: &Inspected,
        path: &Path,
        read_paused: bool,
        stamp: time::OffsetDateTime,
    ) -> Result<Written, RespondError> {
        let so = &self.opts.snapshot;
        let id = c.container.id.clone();
        let sid = api::seg(&id);
        let started = crate::now_rfc3339();
        let mut w = BundleWriter::create(path, u64::try_from(stamp.unix_timestamp()).unwrap_or(0))?;
        let scratch_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let mut k = Collect {
            rec,
            notes: Vec::new(),
        };
        // The container as it is now (paused), not as it was before the pause.
        let now = state::inspect(self.api, &id).unwrap_or_else(|_| c.clone());
        w.add_bytes("container/inspect.json", "inspect", &now.raw)?;
        k.step("inspect the container", "ok");
        let r = api::expect_ok(
            self.api,
            "GET",
            &format!("/images/{}/json", api::seg(&c.container.image_id)),
            None,
        )
        .and_then(|img| {
            w.add_bytes("container/image-inspect.json", "image-inspect", &img.body)
                .map(|()| String::new())
        });
        k.try_part("inspect its image", r);

        // Filesystem changes and the changed files.
        let r = self.changed_files(&mut w, &sid, &scratch_dir, &mut k.notes);
        k.try_part("filesystem changes (diff) and the changed files", r);

        // Logs.
        let tty = now.json.pointer("/Config/Tty").and_then(Value::as_bool) == Some(true);
        let r = (|| -> Result<String, RespondError> {
            let mut raw = Vec::new();
            let d = self.api.download(
                &format!("/containers/{sid}/logs?stdout=1&stderr=1&timestamps=1"),
                so.max_log_bytes,
                &mut raw,
            )?;
            if d.truncated {
                k.notes.push(format!(
                    "logs cut at {} bytes (--max-log-bytes)",
                    so.max_log_bytes
                ));
            }
            match (tty, demux(&raw)) {
                (false, Some((out, err))) => {
                    w.add_bytes("logs/stdout.log", "logs", &out)?;
                    w.add_bytes("logs/stderr.log", "logs", &err)?;
                    Ok(format!("{} + {} bytes", out.len(), err.len()))
                }
                _ => {
                    w.add_bytes("logs/tty.log", "logs", &raw)?;
                    Ok(format!("{} bytes", raw.len()))
                }
            }
        })();
        k.try_part("logs", r);

        // Processes: the engine's `top`, then /proc of their host PIDs.
        let mut pids: Vec<u32> = Vec::new();
        let r = (|| -> Result<String, RespondError> {
            let top = api::expect_ok(self.api, "GET", &format!("/containers/{sid}/top"), None)?;
            w.add_bytes("container/top.json", "top", &top.body)?;
            let v: Value = serde_json::from_slice(&top.body).unwrap_or(Value::Null);
            let col = v
                .get("Titles")
                .and_then(Value::as_array)
                .and_then(|t| t.iter().position(|x| x.as_str() == Some("PID")));
            if let (Some(col), Some(rows)) = (col, v.get("Processes").and_then(Value::as_array)) {
                for row in rows {
                    if let Some(p) = row
                        .get(col)
                        .and_then(Value::as_str)
                        .and_then(|s| s.trim().parse().ok())
                    {
                        pids.push(p);
                    }
                }
            }
            Ok(format!("{} processes", pids.len()))
        })();
        k.try_part("process list (top)", r);
        if now.state.pid > 0 && !pids.contains(&now.state.pid) {
            pids.insert(0, now.state.pid);
        }
        if self.api.local() && now.state.pid > 0 {
            let proc_root = &so.proc_root;
            let ps = procs::processes(proc_root, &pids);
            let socks = procs::sockets(proc_root, now.state.pid, &ps);
            let r = (|| -> Result<String, RespondError> {
                w.add_bytes("processes.json", "processes", &pretty(&ps)?)?;
                w.add_bytes("sockets.json", "sockets", &pretty(&socks)?)?;
                Ok(format!("{} processes, {} sockets", ps.len(), socks.len()))
            })();
            k.try_part(
                "processes with executable hashes, and open sockets (/proc)",
                r,
            );
            let mi = proc_root.join(now.state.pid.to_string()).join("mountinfo");
            let r = std::fs::File::open(&mi)
                .and_then(|f| {
                    let mut b = Vec::new();
                    let mut t = f.take(16 << 20);
                    t.read_to_end(&mut b).map(|_| b)
                })
                .map_err(|e| RespondError::io(&mi, e))
                .and_then(|b| {
                    w.add_bytes("proc/mountinfo", "mounts", &b)
                        .map(|()| String::new())
                });
            k.try_part("mount table (/proc/PID/mountinfo)", r);
        } else {
            let why = if self.api.local() {
                "the container is not running"
            } else {
                "the engine is not on this machine"
            };
            k.notes.push(format!(
                "processes, executables and sockets not read from /proc: {why}"
            ));
            k.step("processes and sockets (/proc)", format!("skipped: {why}"));
        }
        let mounts = now
            .json
            .get("Mounts")
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        let r = pretty(&mounts).and_then(|b| {
            w.add_bytes("mounts.json", "mounts", &b)
                .map(|()| String::new())
        });
        k.try_part("mounts", r);

        // Environment, secrets redacted.
        let r = (|| -> Result<String, RespondError> {
            let env: Vec<String> = now
                .json
                .pointer("/Config/Env")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let scanner = moat_content::secrets::SecretScanner::bundled()
                .map_err(|e| RespondError::Invalid(format!("the secret rules: {e}")))?;
            let (entries, n) = redact_env(&scanner, &env);
            w.add_bytes("environment.json", "environment", &pretty(&entries)?)?;
            Ok(format!("{} variables, {n} secrets redacted", entries.len()))
        })();
        k.try_part("environment (secrets redacted)", r);

        if so.commit {
            let r = self.commit(&mut w, &id, &scratch_dir, stamp);
            k.try_part("commit the container and export it as a docker-archive", r);
        }
        match (so.scan, self.scanner) {
            (true, Some(s)) => {
                let r = s
                    .scan(&c.container.image_id, self.api.host())
                    .and_then(|scan| {
                        w.add_bytes("scan/report.json", "scan", &scan.report_json)?;
                        w.add_bytes(
                            "scan/remediation.json",
                            "remediation",
                            &scan.remediation_json,
                        )?;
                        Ok(scan.summary)
                    });
                k.try_part("scan the image with the remediation plan", r);
            }
            (true, None) => k.notes.push("the image was not scanned: no scanner".into()),
            (false, _) => {}
        }
        let manifest = BundleManifest {
            schema: RESPONSE_SCHEMA,
            container: c.container.clone(),
            host: self.opts.host_name.clone(),
            engine: self.api.host().to_string(),
            operator: self.opts.operator.clone(),
            moat_version: crate::MOAT_VERSION.to_string(),
            reason: self.opts.reason.clone(),
            started,
            finished: crate::now_rfc3339(),
            read_paused,
            chain_seed: String::new(),
            chain_head: String::new(),
            files: Vec::new(),
            notes: k.notes.clone(),
        };
        k.rec.notes.extend(k.notes.iter().cloned());
        if !read_paused {
            k.rec
                .notes
                .push("read while running: the evidence may not be consistent".into());
        }
        let written = w.finish(manifest)?;
        k.step(format!("write the bundle {}", written.path.display()), "ok");
        Ok(written)
    }

    /// The `diff` and every changed regular file (bounded), as members.
    fn changed_files(
        &self,
        w: &mut BundleWriter,
        sid: &str,
        scratch: &Path,
        notes: &mut Vec<String>,
    ) -> Result<String, RespondError> {
        let so = &self.opts.snapshot;
        let r = api::expect_ok(self.api, "GET", &format!("/containers/{sid}/changes"), None)?;
        let body = if r.body.trim_ascii() == b"null" {
            b"[]".to_vec()
        } else {
            r.body.clone()
        };
        w.add_bytes("filesystem/changes.json", "diff", &body)?;
        let changes: Vec<Value> =
            serde_json::from_slice(&body).map_err(|e| RespondError::Reply {
                what: format!("GET /containers/{sid}/changes"),
                reason: e.to_string(),
            })?;
        let mut index = Vec::new();
        let (mut copied, mut total) = (0usize, 0u64);
        for ch in &changes {
            let p = ch.get("Path").and_then(Value::as_str).unwrap_or_default();
            let kind = match ch.get("Kind").and_then(Value::as_u64) {
                Some(0) => "modified",
                Some(1) => "added",
                Some(2) => "deleted",
                _ => "unknown",
            };
            let mut entry = json!({"path": p, "kind": kind});
            if kind == "deleted" || kind == "unknown" {
                index.push(entry);
                continue;
            }
            let Some(rel) = relative(p) else {
                entry["skipped"] = json!("not a plain absolute path");
                index.push(entry);
                continue;
            };
            let apath = format!("/containers/{sid}/archive?path={}", api::q(p));
            let head = self.api.call("HEAD", &apath, None)?;
            let stat = head
                .header("x-docker-container-path-stat")
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            let Some(stat) = stat.filter(|_| head.ok()) else {
                entry["skipped"] = json!(format!("no stat (HTTP {})", head.status));
                index.push(entry);
                continue;
            };
            let mode = stat.get("mode").and_then(Value::as_u64).unwrap_or(0);
            let size = stat.get("size").and_then(Value::as_u64).unwrap_or(0);
            entry["mode"] = json!(format!("{:o}", mode & 0o7777));
            entry["size"] = json!(size);
            if mode & MODE_DIR != 0 {
                entry["type"] = json!("directory");
                index.push(entry);
                continue;
            }
            if mode & MODE_SYMLINK != 0 {
                entry["type"] = json!("symlink");
                entry["link_target"] = stat.get("linkTarget").cloned().unwrap_or(Value::Null);
                index.push(entry);
                continue;
            }
            if mode & MODE_TYPE_BITS != 0 {
                entry["type"] = json!("special");
                index.push(entry);
                continue;
            }
            entry["type"] = json!("file");
            if size > so.max_file_bytes {
                entry["skipped"] = json!(format!("larger than {} bytes", so.max_file_bytes));
                index.push(entry);
                continue;
            }
            if copied >= so.max_files || total + size > so.max_files_total_bytes {
                entry["skipped"] = json!("the budget of copied files is spent");
                index.push(entry);
                continue;
            }
            // The archive API answers a tar of the one file; its content becomes the member.
            let mut tarball =
                tempfile::tempfile_in(scratch).map_err(|e| RespondError::io(scratch, e))?;
            let d = self.api.download(&apath, size + (64 << 10), &mut tarball)?;
            if d.truncated {
                entry["skipped"] = json!("grew while being read");
                index.push(entry);
                continue;
            }
            use std::io::Seek;
            tarball
                .seek(std::io::SeekFrom::Start(0))
                .map_err(|e| RespondError::io(scratch, e))?;
            let mut content = tempfile::NamedTempFile::new_in(scratch)
                .map_err(|e| RespondError::io(scratch, e))?;
            let mut ar = tar::Archive::new(tarball);
            let mut got: Option<u64> = None;
            let mut entries = ar.entries().map_err(|e| RespondError::io(scratch, e))?;
            if let Some(e) = entries.next() {
                let mut e = e.map_err(|e| RespondError::io(scratch, e))?;
                if e.header().entry_type() == tar::EntryType::Regular {
                    let n = std::io::copy(
                        &mut (&mut e).take(so.max_file_bytes + 1),
                        content.as_file_mut(),
                    )
                    .map_err(|e| RespondError::io(scratch, e))?;
                    got = Some(n);
                }
            }
            content
                .as_file_mut()
                .flush()
                .map_err(|e| RespondError::io(scratch, e))?;
            let Some(n) = got.filter(|n| *n <= so.max_file_bytes) else {
                entry["skipped"] = json!("the archive held no regular file");
                index.push(entry);
                continue;
            };
            let member = format!("filesystem/files/{rel}");
            match w.add_file(&member, "changed-file", content.path()) {
                Ok(()) => {
                    entry["member"] = json!(member);
                    if let Some(m) = w.entries().last() {
                        entry["sha256"] = json!(m.sha256);
                    }
                    copied += 1;
                    total += n;
                }
                Err(e) => entry["skipped"] = json!(e.to_string()),
            }
            index.push(entry);
        }
        let skipped = index.iter().filter(|e| e.get("skipped").is_some()).count();
        if skipped > 0 {
            notes.push(format!(
                "{skipped} changed file(s) listed but not copied (see filesystem/files.json)"
            ));
        }
        w.add_bytes(
            "filesystem/files.json",
            "changed-files-index",
            &pretty(&index)?,
        )?;
        Ok(format!("{} changes, {copied} files copied", changes.len()))
    }

    fn commit(
        &self,
        w: &mut BundleWriter,
        id: &str,
        scratch: &Path,
        stamp: time::OffsetDateTime,
    ) -> Result<String, RespondError> {
        let so = &self.opts.snapshot;
        let repo = format!("moat-evidence/{}", short_id(id));
        let tag = stamp.unix_timestamp().to_string();
        let r = api::expect_ok(
            self.api,
            "POST",
            &format!(
                "/commit?container={}&repo={}&tag={tag}&pause=false&comment={}",
                api::q(id),
                api::q(&repo),
                api::q("moat respond snapshot")
            ),
            Some(&json!({})),
        )?;
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let image = v
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if image.is_empty() {
            return Err(RespondError::Reply {
                what: "POST /commit".into(),
                reason: "no image Id".into(),
            });
        }
        let mut f =
            tempfile::NamedTempFile::new_in(scratch).map_err(|e| RespondError::io(scratch, e))?;
        let d = self.api.download(
            &format!("/images/{}/get", api::seg(&image)),
            so.max_image_bytes,
            f.as_file_mut(),
        )?;
        if d.truncated {
            return Err(RespondError::Invalid(format!(
                "the exported image {image} is larger than {} bytes",
                so.max_image_bytes
            )));
        }
        f.as_file_mut()
            .flush()
            .map_err(|e| RespondError::io(scratch, e))?;
        w.add_file("image/commit.docker-archive.tar", "commit", f.path())?;
        Ok(format!("{repo}:{tag} ({image}, {} bytes)", d.bytes))
    }
}

fn pretty<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, RespondError> {
    serde_json::to_vec_pretty(v).map_err(|e| RespondError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demuxes_log_frames() {
        let mut raw = vec![1, 0, 0, 0, 0, 0, 0, 3];
        raw.extend_from_slice(b"out");
        raw.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 2]);
        raw.extend_from_slice(b"er");
        assert_eq!(demux(&raw), Some((b"out".to_vec(), b"er".to_vec())));
        assert_eq!(demux(b"plain text that is not framed"), None);
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative("/etc/passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(relative("/a/../b"), None);
        assert_eq!(relative("etc"), None);
        assert_eq!(relative("/"), None);
    }

    #[test]
    fn redacts_secrets_in_env() {
        let s = moat_content::secrets::SecretScanner::bundled().unwrap();
        let env = vec![
            "PATH=/usr/bin".to_string(),
            format!("GH=ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        ];
        let (out, n) = redact_env(&s, &env);
        assert_eq!(n, 1);
        assert_eq!(out[0]["value"], "/usr/bin");
        assert_eq!(out[1]["value"], "<redacted:github-pat>");
    }
}
