//! deploy/: the images, the compose stack and the policy that ship moat as a service,
//! checked end to end on a private dockerd (iptables on, its own bridge; the
//! machine-wide lock of moat-testkit):
//!
//! 1. `moat lint` of deploy/Dockerfile, deploy/postgres.Dockerfile and
//!    deploy/compose.yaml: nothing at or above MEDIUM;
//! 2. scripts/build-deploy-images builds both `FROM scratch` images (the moat binary of
//!    this build; the host's PostgreSQL 15) on that daemon;
//! 3. `moat scan` of the moat image (exit 0, the glibc packages recorded in
//!    status.d are seen; no misconfiguration at or above MEDIUM: non-root user) and
//!    `moat verify` of both images against deploy/verify-policy.yaml (exit 0);
//! 4. `docker-compose up -d` of deploy/compose.yaml (PostgreSQL, `moat serve`, two
//!    `moat worker`s): `/openapi.json` answers through the port published on
//!    127.0.0.1, an admin token made with `moat serve --create-token` inside the serve
//!    container submits one SBOM job, and a worker container finishes it.
//!
//! Needs root, docker.io, PostgreSQL 15 and busybox-static (scripts/install-deps);
//! skips with a message when dockerd is missing. Without docker-compose (Debian's
//! 1.29), or with `MOAT_TEST_COMPOSE=docker`, the stack is started by `docker` commands
//! derived from deploy/compose.yaml (see `derive`) instead.

#![allow(clippy::unwrap_used)]

use moat_testkit::{Dockerd, DockerdOptions, Network, run, skip_unless};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
const MOAT: &str = env!("CARGO_BIN_EXE_moat");
const MOAT_IMAGE: &str = "moat:local";
const PG_IMAGE: &str = "moat-postgres:15-local";
const PROJECT: &str = "moatdeploy";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `moat ARGS` in the repository with ENV; its output whatever the status.
fn moat(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(MOAT);
    cmd.current_dir(repo()).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// curl METHOD URL with a bearer token and an optional JSON body: (status, body).
fn http(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let auth = format!("authorization: Bearer {token}");
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
        "-H",
        &auth,
    ]);
    if body.is_some() {
        cmd.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            "@-",
        ]);
    }
    let mut child = cmd
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        if let Some(b) = body {
            stdin.write_all(b.to_string().as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    let (body, code) = t.rsplit_once('\n').unwrap_or(("", "0"));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
    )
}

/// The stack of deploy/compose.yaml on one daemon, taken down (volumes too) on drop.
/// Started by `docker-compose` when it is installed; otherwise (or with
/// `MOAT_TEST_COMPOSE=docker`) by the `docker network create` / `docker volume create`
/// / `docker run` commands [`derive`] makes from the same file, which refuses any key
/// it does not translate.
struct Stack<'a> {
    d: &'a Dockerd,
    env: Vec<(String, String)>,
    /// Derived plan (no docker-compose): networks, volumes, services in start order.
    plan: Option<Plan>,
}

#[derive(Default)]
struct Plan {
    networks: Vec<String>,
    volumes: Vec<String>,
    /// (service, container name, `docker run` arguments, waits for a healthy service)
    runs: Vec<(String, String, Vec<String>, Vec<String>)>,
}

/// The `docker` commands equivalent to `docker-compose -p PROJECT up -d` for the subset
/// of the compose format deploy/compose.yaml uses.
fn derive(text: &str, vars: &[(String, String)]) -> Plan {
    let vars = vars.iter().cloned().collect();
    let c = moat_lint::compose::parse(text, &vars).unwrap();
    let mut plan = Plan {
        networks: c.root.get("networks").map_or(Vec::new(), |n| {
            n.map()
                .iter()
                .filter_map(|(k, _)| k.as_str())
                .map(|k| format!("{PROJECT}_{k}"))
                .collect()
        }),
        volumes: c.root.get("volumes").map_or(Vec::new(), |n| {
            n.map()
                .iter()
                .filter_map(|(k, _)| k.as_str())
                .map(|k| format!("{PROJECT}_{k}"))
                .collect()
        }),
        runs: Vec::new(),
    };
    let named: Vec<String> = plan.volumes.clone();
    let mut pending: Vec<&moat_lint::compose::Service> = c.services.iter().collect();
    let mut started: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let i = pending
            .iter()
            .position(|s| {
                s.get("depends_on").is_none_or(|d| {
                    d.map()
                        .iter()
                        .filter_map(|(k, _)| k.as_str())
                        .chain(d.seq().iter().filter_map(|n| n.as_str()))
                        .all(|k| started.contains(&k))
                })
            })
            .expect("depends_on has no cycle");
        let s = pending.remove(i);
        let name = format!("{PROJECT}_{}_1", s.name);
        let mut a: Vec<String> = vec!["-d".into(), "--name".into(), name.clone()];
        let mut image = None;
        let mut command = Vec::new();
        let mut healthy = Vec::new();
        let strs = |n: &moat_lint::compose::Node| -> Vec<String> {
            n.seq().iter().filter_map(|x| x.as_str()).collect()
        };
        for (k, v) in s.node.map() {
            let k = k.as_str().unwrap_or_default();
            let val = v.as_str().unwrap_or_default();
            match k.as_str() {
                "image" => image = Some(val),
                "command" => command = strs(v),
                "user" => a.extend(["--user".into(), val]),
                "read_only" => {
                    if v.is_true() {
                        a.push("--read-only".into());
                    }
                }
                "cap_drop" => strs(v)
                    .into_iter()
                    .for_each(|x| a.extend(["--cap-drop".into(), x])),
                "security_opt" => strs(v)
                    .into_iter()
                    .for_each(|x| a.extend(["--security-opt".into(), x])),
                "restart" => a.extend(["--restart".into(), val]),
                "pids_limit" => a.extend(["--pids-limit".into(), val]),
                "cpus" => a.extend(["--cpus".into(), val]),
                "mem_limit" => a.extend(["--memory".into(), val]),
                "environment" => v.key_values().into_iter().for_each(|(k, v, _)| {
                    a.extend(["-e".into(), format!("{k}={}", v.unwrap_or_default())]);
                }),
                "tmpfs" => strs(v)
                    .into_iter()
                    .for_each(|x| a.extend(["--tmpfs".into(), x])),
                "volumes" => strs(v).into_iter().for_each(|x| {
                    let x = if named
                        .contains(&format!("{PROJECT}_{}", x.split(':').next().unwrap_or("")))
                    {
                        format!("{PROJECT}_{x}")
                    } else {
                        x
                    };
                    a.extend(["-v".into(), x]);
                }),
                "ports" => strs(v).into_iter().for_each(|x| a.extend(["-p".into(), x])),
                "networks" => strs(v).into_iter().for_each(|x| {
                    a.extend([
                        "--network".into(),
                        format!("{PROJECT}_{x}"),
                        "--network-alias".into(),
                        s.name.clone(),
                    ]);
                }),
                "healthcheck" => {
                    for (hk, hv) in v.map() {
                        let hk = hk.as_str().unwrap_or_default();
                        let hval = hv.as_str().unwrap_or_default();
                        match hk.as_str() {
                            "test" => {
                                let t = strs(hv);
                                assert_eq!(t.first().map(String::as_str), Some("CMD"));
                                a.extend(["--health-cmd".into(), t[1..].join(" ")]);
                            }
                            "interval" => a.extend(["--health-interval".into(), hval]),
                            "timeout" => a.extend(["--health-timeout".into(), hval]),
                            "retries" => a.extend(["--health-retries".into(), hval]),
                            other => panic!("derive: healthcheck key {other} not translated"),
                        }
                    }
                }
                "depends_on" => {
                    for (dk, dv) in v.map() {
                        if dv.path(&["condition"]).and_then(|c| c.as_str()).as_deref()
                            == Some("service_healthy")
                        {
                            healthy.push(dk.as_str().unwrap_or_default());
                        }
                    }
                }
                other => panic!("derive: service key {other} not translated"),
            }
        }
        a.push(image.expect("every service has an image"));
        a.extend(command);
        plan.runs.push((s.name.clone(), name, a, healthy));
        started.push(s.name.clone());
    }
    plan
}

impl Stack<'_> {
    fn up(&mut self) {
        if std::env::var("MOAT_TEST_COMPOSE").as_deref() != Ok("docker")
            && moat_testkit::have("docker-compose")
        {
            eprintln!("deploy_stack: docker-compose up");
            self.compose(&["up", "-d"]);
            return;
        }
        eprintln!("deploy_stack: docker run commands derived from deploy/compose.yaml");
        let text = std::fs::read_to_string(repo().join("deploy/compose.yaml")).unwrap();
        let plan = derive(&text, &self.env);
        self.plan = Some(Plan {
            networks: plan.networks.clone(),
            volumes: plan.volumes.clone(),
            runs: Vec::new(),
        });
        for n in &plan.networks {
            self.d.docker(&["network", "create", n]);
        }
        for v in &plan.volumes {
            self.d.docker(&["volume", "create", v]);
        }
        for (service, name, args, healthy) in plan.runs {
            for h in &healthy {
                let id = self.id(h);
                wait_for(&format!("{h} to be healthy"), 90, || {
                    let st = self
                        .d
                        .docker(&["inspect", "-f", "{{.State.Health.Status}}", &id]);
                    (st.trim() == "healthy").then_some(())
                });
            }
            let mut full = vec!["run".to_string()];
            full.extend(args.iter().cloned());
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            self.d.docker(&refs);
            if let Some(p) = self.plan.as_mut() {
                p.runs.push((service, name, Vec::new(), Vec::new()));
            }
        }
    }

    fn compose_output(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("docker-compose");
        cmd.current_dir(repo())
            .env("DOCKER_HOST", self.d.host())
            .args(["-f", "deploy/compose.yaml", "-p", PROJECT])
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn compose(&self, args: &[&str]) -> String {
        let out = self.compose_output(args);
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The container id of a service.
    fn id(&self, service: &str) -> String {
        let id = match &self.plan {
            Some(p) => {
                let name = p
                    .runs
                    .iter()
                    .find(|r| r.0 == service)
                    .map(|r| r.1.clone())
                    .unwrap_or_default();
                self.d
                    .docker(&["inspect", "-f", "{{.Id}}", &name])
                    .trim()
                    .to_string()
            }
            None => self.compose(&["ps", "-q", service]).trim().to_string(),
        };
        assert!(!id.is_empty(), "no container for service {service}");
        id
    }

    fn logs(&self, service: &str) -> String {
        text(&self.d.docker_output(&["logs", &self.id(service)]))
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        match &self.plan {
            None => {
                let _ = self.compose_output(&["down", "-v", "--timeout", "5"]);
            }
            Some(p) => {
                for (_, name, _, _) in p.runs.iter().rev() {
                    let _ = self.d.docker_output(&["rm", "-f", "-v", name]);
                }
                for n in &p.networks {
                    let _ = self.d.docker_output(&["network", "rm", n]);
                }
                for v in &p.volumes {
                    let _ = self.d.docker_output(&["volume", "rm", v]);
                }
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn deploy_images_lint_scan_verify_and_the_compose_stack_runs_a_job() {
    if !skip_unless("deploy_stack", &["dockerd", "docker", "curl"]) {
        return;
    }
    for (prog, pkg) in [
        ("objcopy", "binutils"),
        ("/usr/lib/postgresql/15/bin/postgres", "postgresql"),
        ("/bin/busybox", "busybox-static"),
    ] {
        assert!(
            moat_testkit::have(prog),
            "deploy_stack: {prog} is missing: apt-get install {pkg} (scripts/install-deps)"
        );
    }
    let root = repo();
    let tmp = tempfile::tempdir().unwrap();

    // 1. The files pass moat's own linter: nothing at or above MEDIUM.
    let out = moat(
        &[
            "lint",
            "deploy/Dockerfile",
            "deploy/postgres.Dockerfile",
            "deploy/compose.yaml",
            "--format",
            "json",
            "--fail-on",
            "medium",
            "--shellcheck",
            "never",
        ],
        &[],
    );
    let lint: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(lint["files"], 3, "{}", text(&out));
    let serious: Vec<&Value> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !matches!(f["severity"].as_str(), Some("LOW" | "INFO")))
        .collect();
    assert!(serious.is_empty(), "lint findings: {serious:#?}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // 2. Both images, built on a private daemon with networking.
    let d = Dockerd::start(DockerdOptions {
        network: Some(Network::block("dep", 231)),
        ..DockerdOptions::default()
    });
    let build = Command::new("bash")
        .current_dir(&root)
        .arg("scripts/build-deploy-images")
        .arg(MOAT)
        .env("DOCKER_HOST", d.host())
        .env("MOAT_IMAGE", MOAT_IMAGE)
        .env("PG_IMAGE", PG_IMAGE)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "build-deploy-images: {}",
        text(&build)
    );
    let user = d.docker(&["inspect", "-f", "{{.Config.User}}", MOAT_IMAGE]);
    assert_eq!(user.trim(), "65532:65532");
    let user = d.docker(&["inspect", "-f", "{{.Config.User}}", PG_IMAGE]);
    assert_eq!(user.trim(), "999:999");
    let layers = d.docker(&["inspect", "-f", "{{len .RootFS.Layers}}", MOAT_IMAGE]);
    assert!(
        layers.trim().parse::<u32>().unwrap() <= 3,
        "scratch image: {layers}"
    );

    // The advisory database the workers (and the scan gate) use: real npm, PyPI and
    // Debian OSV data from shared/.
    let adv = tmp.path().join("advisories");
    std::fs::create_dir(&adv).unwrap();
    let adb = adv.join("moat.db");
    let adb_s = adb.display().to_string();
    let out = moat(
        &[
            "db",
            "import",
            &format!("{SHARED}/vulndata/osv/npm/all.zip"),
            &format!("{SHARED}/vulndata/osv/PyPI/all.zip"),
            &format!("{SHARED}/vulndata/osv/Debian/all.zip"),
        ],
        &[("MOAT_DB", &adb_s)],
    );
    assert!(out.status.success(), "db import: {}", text(&out));
    run(Command::new("chown").args(["-R", "65532:65532"]).arg(&adv));
    let host = d.host();
    let cache = tmp.path().join("cache").display().to_string();
    let env = [
        ("DOCKER_HOST", host.as_str()),
        ("MOAT_DB", adb_s.as_str()),
        ("MOAT_CACHE_DIR", cache.as_str()),
    ];

    // 3. moat scan of the moat image: exit 0 (no --fail-on), the OS packages seen.
    let out = moat(
        &["scan", &format!("docker:{MOAT_IMAGE}"), "--format", "json"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "scan: {}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for p in ["libc6", "libgcc-s1", "ca-certificates"] {
        assert!(names.contains(&p), "{p} not in packages: {names:?}");
    }
    // The image configuration: non-root user, no secret, nothing at or above MEDIUM.
    let out = moat(
        &[
            "scan",
            &format!("docker:{MOAT_IMAGE}"),
            "--scanners",
            "misconfig,secret",
            "--fail-on",
            "medium",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "misconfig: {}", text(&out));

    // moat verify of both images against the deployment policy.
    let out = moat(
        &[
            "verify",
            &format!("docker:{MOAT_IMAGE}"),
            &format!("docker:{PG_IMAGE}"),
            "--policy",
            "deploy/verify-policy.yaml",
            "--format",
            "json",
        ],
        &env,
    );
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(0), "verify: {}", text(&out));
    assert_eq!(verdict["passed"], true, "{verdict:#}");
    assert_eq!(verdict["images"].as_array().map(Vec::len), Some(2));

    // 4. The stack: PostgreSQL, serve, two workers.
    let port = free_port();
    let password = format!("pw{:x}", std::process::id() as u64 * 7919 + u64::from(port));
    let mut stack = Stack {
        d: &d,
        plan: None,
        env: vec![
            ("POSTGRES_PASSWORD".into(), password.clone()),
            ("MOAT_ADVISORIES".into(), adv.display().to_string()),
            ("MOAT_PORT".into(), port.to_string()),
            ("MOAT_IMAGE".into(), MOAT_IMAGE.into()),
            ("PG_IMAGE".into(), PG_IMAGE.into()),
        ],
    };
    stack.up();
    let base = format!("http://127.0.0.1:{port}");
    let api = wait_for("serve's /openapi.json on the published port", 90, || {
        let (s, v) = http("GET", &format!("{base}/openapi.json"), "", None);
        (s == 200).then_some(v)
    });
    assert!(api["paths"]["/api/v1/scans"].is_object(), "{api}");
    // Only serve is published, and only on loopback; PostgreSQL is not.
    let ports = d.docker(&["port", &stack.id("serve")]);
    assert_eq!(ports.trim(), format!("8080/tcp -> 127.0.0.1:{port}"));
    assert_eq!(d.docker(&["port", &stack.id("postgres")]).trim(), "");
    for s in ["serve", "worker-1", "worker-2", "postgres"] {
        let top = d.docker(&["top", &stack.id(s), "-o", "pid,uid,comm"]);
        assert!(
            !top.lines()
                .skip(1)
                .any(|l| l.split_whitespace().nth(1) == Some("0")),
            "{s} runs a root process: {top}"
        );
    }

    // An admin token, made inside the serve container (its MOAT_DATABASE).
    let token = d.docker(&[
        "exec",
        &stack.id("serve"),
        "/usr/local/bin/moat",
        "serve",
        "--create-token",
        "acme:admin",
    ]);
    let token = token.trim();
    assert!(token.starts_with("moat_"), "{token}");

    // One SBOM job: the inventory of real lockfiles (Flask 2.0.0 has advisories).
    let app = tmp.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let f = format!("{SHARED}/fixtures/lockfile-parsers");
    std::fs::copy(
        format!("{f}/nodejs/npm/testdata/package-lock_v3.json"),
        app.join("package-lock.json"),
    )
    .unwrap();
    std::fs::copy(
        format!("{f}/python/pip/testdata/requirements_flask.txt"),
        app.join("requirements.txt"),
    )
    .unwrap();
    // What a local scan of the same directory with the same database finds.
    let out = moat(
        &[
            "scan",
            &format!("dir:{}", app.display()),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "local scan: {}", text(&out));
    let local: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = moat(
        &[
            "sbom",
            &format!("dir:{}", app.display()),
            "--format",
            "json",
        ],
        &env,
    );
    assert!(out.status.success(), "sbom: {}", text(&out));
    let sbom: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (s, r) = http(
        "POST",
        &format!("{base}/api/v1/scans"),
        token,
        Some(&json!({"sbom": sbom, "reference": "acme/app:1"})),
    );
    assert_eq!(s, 202, "{r}");
    let job = r["job"].as_i64().unwrap();
    let state = wait_for("a worker to finish the SBOM job", 60, || {
        let (_, j) = http("GET", &format!("{base}/api/v1/jobs/{job}"), token, None);
        matches!(j["state"].as_str(), Some("done" | "failed")).then_some(j)
    });
    assert_eq!(state["state"], "done", "{state}");
    let (s, report) = http(
        "GET",
        &format!("{base}/api/v1/jobs/{job}/report"),
        token,
        None,
    );
    assert_eq!(s, 200, "{report}");
    assert_eq!(
        report["packages"].as_array().map(Vec::len),
        sbom["packages"].as_array().map(Vec::len),
        "the stored report has the inventory's packages"
    );
    // The worker matched against the advisory database mounted from the host.
    let vulns = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{} {}", v["id"], v["package"]["name"]))
            .collect();
        v.sort();
        v
    };
    assert!(!vulns(&local).is_empty(), "{local}");
    assert_eq!(vulns(&report), vulns(&local));
    let done = format!("moat worker: job {job} done");
    let by: Vec<&str> = ["worker-1", "worker-2"]
        .into_iter()
        .filter(|w| stack.logs(w).contains(&done))
        .collect();
    assert_eq!(
        by.len(),
        1,
        "exactly one worker container did job {job}: {}\n{}",
        stack.logs("worker-1"),
        stack.logs("worker-2")
    );
    eprintln!(
        "deploy_stack: job {job} done by {}, {} packages, {} vulnerabilities",
        by[0],
        sbom["packages"].as_array().map_or(0, Vec::len),
        vulns(&report).len()
    );
    drop(stack);
}
