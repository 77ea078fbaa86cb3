//! `moat network` end to end: compose-only models (formats, exit codes, SARIF against
//! the official schema), the HTML page in headless Chromium, and live engines — a real
//! private dockerd (moat-testkit) with iptables on, three user networks, busybox
//! services listening with `nc -ll`, one deliberate violation and one host-published
//! admin port, where model, policy and `--probe` must agree; and a dockerd with
//! `--iptables=false`, where the model and the probe must both show the lost isolation.

#![allow(clippy::unwrap_used)]

use moat_testkit::{Dockerd, DockerdOptions, Network, skip_unless};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../moat-netseg/tests/fixtures")
        .join(name)
}

fn moat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_moat"))
        .args(args)
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn compose_policy_exit_codes_and_formats() {
    let compose = s(&fixture("segmented/compose.yaml"));
    let fixed = s(&fixture("segmented/compose-fixed.yaml"));
    let policy = s(&fixture("segmented/policy.yaml"));

    // Without a policy: a model and built-in findings, exit 0 (no --fail-on).
    let out = moat(&["network", &compose, "--format", "json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let r = json_of(&out);
    assert_eq!(r["source"], "compose");
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for want in ["NS001", "NS005", "NS006"] {
        assert!(rules.contains(&want), "{want} missing: {rules:?}");
    }
    // --fail-on high: NS001 is high.
    assert_eq!(code(&moat(&["network", &compose, "--fail-on", "high"])), 1);

    // With the policy: violations carry the edge and its reason; exit 1.
    let out = moat(&["network", &compose, "--policy", &policy, "--format", "json"]);
    assert_eq!(code(&out), 1);
    let r = json_of(&out);
    assert_eq!(r["policy"]["passed"], false);
    let v = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "NP001" && f["edge"]["from"] == "web" && f["edge"]["to"] == "db")
        .unwrap_or_else(|| panic!("no web -> db violation: {:#}", r["findings"]));
    assert_eq!(v["edge"]["port"]["port"], 5432);
    assert_eq!(v["edge"]["reason"]["kind"], "same-network");
    assert_eq!(v["edge"]["reason"]["network"], "seg_frontend");

    // The fixed deployment passes: exit 0.
    let out = moat(&["network", &fixed, "--policy", &policy]);
    assert_eq!(
        code(&out),
        0,
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("passed"), "{text}");

    // Table: the edge and its reason.
    let out = moat(&["network", &compose, "--policy", &policy]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("same network seg_frontend"), "{text}");
    assert!(text.contains("FAILED"), "{text}");

    // SARIF: valid against the official 2.1.0 schema, the violation with its edge.
    let out = moat(&[
        "network", &compose, "--policy", &policy, "--format", "sarif",
    ]);
    let doc = json_of(&out);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{SHARED}/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| {
        r["ruleId"] == "NP001"
            && r["properties"]["edge"]["to"] == "db"
            && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("compose.yaml")
    }));

    // DOT and Mermaid: the violation in red.
    let dot = String::from_utf8_lossy(
        &moat(&["network", &compose, "--policy", &policy, "--format", "dot"]).stdout,
    )
    .into_owned();
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(
        dot.contains("\"web\" -> \"db\" [label=\"5432/tcp\", color=red"),
        "{dot}"
    );
    let mm = String::from_utf8_lossy(
        &moat(&[
            "network", &compose, "--policy", &policy, "--format", "mermaid",
        ])
        .stdout,
    )
    .into_owned();
    assert!(mm.starts_with("flowchart LR"), "{mm}");
    assert!(
        mm.contains("linkStyle") && mm.contains("stroke:#d00"),
        "{mm}"
    );

    // Errors: exit 2 with a line naming the input.
    let out = moat(&["network", "/nonexistent/compose.yaml"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/compose.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-policy.yaml");
    std::fs::write(&bad, "zones: {a: {}}\nallow: [a -> nowhere:80]\n").unwrap();
    let out = moat(&["network", &compose, "--policy", &s(&bad)]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-policy.yaml") && err.contains("nowhere"),
        "{err}"
    );
    let out = moat(&["network", &compose, "--probe"]);
    assert_eq!(code(&out), 2, "--probe needs a live engine");
}

/// Two compose files merged like `docker compose -f`, a policy flow naming single
/// services, and `--store` with a connection `moat monitor` recorded that the policy
/// denies.
#[test]
fn compose_override_service_flows_and_store() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("compose.yaml");
    std::fs::write(
        &base,
        "name: ov\nservices:\n  web:\n    image: nginx\n    networks:\n      front: {ipv4_address: 10.9.1.10}\n  api:\n    image: busybox\n    expose: [\"8080\"]\n    networks:\n      front: {ipv4_address: 10.9.1.20}\nnetworks:\n  front:\n    ipam: {config: [{subnet: 10.9.1.0/24}]}\n",
    )
    .unwrap();
    let over = dir.path().join("compose.override.yaml");
    std::fs::write(&over, "services:\n  api:\n    expose: [\"9090\"]\n").unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "zones:\n  app: {services: [web, api]}\nallow: [web -> api:8080/tcp]\nintra_zone: deny\negress: [app]\n",
    )
    .unwrap();
    let (b, o, p) = (s(&base), s(&over), s(&policy));
    let out = moat(&["network", &b, &o, "--policy", &p, "--format", "json"]);
    let r = json_of(&out);
    // One project: two services (not ov/web and ov#2/…), api exposing both ports.
    assert_eq!(r["nodes"].as_array().unwrap().len(), 2, "{:#}", r["nodes"]);
    let ports: Vec<u64> = r["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["from"] == "web" && e["to"] == "api")
        .filter_map(|e| e["port"]["port"].as_u64())
        .collect();
    assert_eq!(ports, [8080, 9090]);
    // The service flow allows web -> api:8080 only: 9090 and the reverse are violations.
    let np1: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "NP001")
        .map(|f| {
            format!(
                "{}->{}:{}",
                f["edge"]["from"].as_str().unwrap(),
                f["edge"]["to"].as_str().unwrap(),
                f["edge"]["port"]["port"]
            )
        })
        .collect();
    assert!(np1.contains(&"web->api:9090".to_string()), "{np1:?}");
    assert!(!np1.contains(&"web->api:8080".to_string()), "{np1:?}");

    // --store: a recorded connection web -> api:9090 is an NP005 violation.
    let store = dir.path().join("monitor.db");
    let ev = moat_model::runtime::RuntimeEvent {
        time_ns: 1,
        source: moat_model::runtime::EventSource::Net,
        kind: "connect".into(),
        container: Some(moat_model::runtime::ContainerInfo {
            name: "ov-web-1".into(),
            ..Default::default()
        }),
        net: Some(moat_model::runtime::NetInfo {
            proto: "tcp".into(),
            direction: "outbound".into(),
            sip: "10.9.1.10".into(),
            sport: 40000,
            dip: "10.9.1.20".into(),
            dport: 9090,
        }),
        ..Default::default()
    };
    moat_store::Store::open(&store)
        .unwrap()
        .append(
            &[moat_store::Record::new("event", 1, serde_json::to_value(&ev).unwrap()).key("k1")],
            &[],
        )
        .unwrap();
    let out = moat(&[
        "network",
        &b,
        &o,
        "--policy",
        &p,
        "--store",
        &s(&store),
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 1);
    let r = json_of(&out);
    assert_eq!(r["observed"][0]["to"], "api", "{:#}", r["observed"]);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "NP005" && f["edge"]["reason"]["kind"] == "observed")
    );
    let text = String::from_utf8_lossy(
        &moat(&["network", &b, &o, "--policy", &p, "--store", &s(&store)]).stdout,
    )
    .into_owned();
    assert!(
        text.contains("observed by moat monitor (1 flows)"),
        "{text}"
    );
    let html = String::from_utf8_lossy(
        &moat(&[
            "network",
            &b,
            &o,
            "--policy",
            &p,
            "--store",
            &s(&store),
            "--format",
            "html",
        ])
        .stdout,
    )
    .into_owned();
    assert!(
        html.contains("<table id=\"observed\">")
            && html.contains("<tr class=\"violation\"><td>web</td><td>api</td>"),
        "{html}"
    );
    // A missing store: exit 2 naming it.
    let out = moat(&["network", &b, "--store", &s(&dir.path().join("none.db"))]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("none.db"));
    // A flow naming no zone and no service: exit 2 naming it.
    std::fs::write(
        &policy,
        "zones:\n  app: {services: [web, api]}\nallow: [web -> apii:8080]\n",
    )
    .unwrap();
    let out = moat(&["network", &b, "--policy", &p]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("apii"));
}

#[test]
fn compose_corpus_through_the_cli() {
    let dir = Path::new(SHARED).join("corpus/compose");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut ok = 0;
    for f in &files {
        let out = moat(&["network", &s(f), "--format", "json"]);
        match code(&out) {
            0 | 1 => {
                let r = json_of(&out);
                assert!(
                    !r["nodes"].as_array().unwrap().is_empty(),
                    "{}",
                    f.display()
                );
                ok += 1;
            }
            2 => {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    err.starts_with("moat: error: ") && err.contains(&s(f)),
                    "{err}"
                );
            }
            c => panic!("{}: exit {c}", f.display()),
        }
    }
    assert!(
        ok >= files.len() - 2,
        "{ok} of {} files gave a graph",
        files.len()
    );
}

use moat_testkit::chromium;

#[test]
fn html_page_in_headless_chromium() {
    if !moat_testkit::have("chromium") {
        eprintln!("html_page_in_headless_chromium: skipped, chromium is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("network.html");
    let out = moat(&[
        "network",
        &s(&fixture("segmented/compose.yaml")),
        "--policy",
        &s(&fixture("segmented/policy.yaml")),
        "--format",
        "html",
        "--output",
        &s(&html),
    ]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains("http://")
            || page
                .matches("http://")
                .all(|_| page.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    );
    assert!(!page.contains("<script"), "self-contained, no script");

    let url = format!("file://{}", html.display());
    let dom = chromium(&["--dump-dom", &url], &dir.path().join("p1"));
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The violation is in the DOM: a red edge web -> db and its finding row.
    assert!(
        dom.contains(r#"class="edge violation" data-from="web" data-to="db""#),
        "{dom}"
    );
    assert!(
        dom.contains(r#"class="finding violation" data-rule="NP001""#),
        "{dom}"
    );
    assert!(dom.contains("web -&gt; db:5432/tcp"), "{dom}");
    // Zones are boxes.
    for z in ["frontend", "backend", "data"] {
        assert!(dom.contains(&format!(r#"data-zone="{z}""#)), "zone {z}");
    }

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let png_path = shots.join("network.png");
    let _ = std::fs::remove_file(&png_path);
    let out = chromium(
        &[
            &format!("--screenshot={}", png_path.display()),
            "--window-size=1400,900",
            &url,
        ],
        &dir.path().join("p2"),
    );
    assert!(
        png_path.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let mut colours = std::collections::BTreeSet::new();
    let mut red = 0usize;
    for p in buf[..info.buffer_size()].chunks(px) {
        colours.insert(p[..3].to_vec());
        // The violation's red (#d00000, anti-aliased).
        if p[0] > 180 && p[1] < 60 && p[2] < 60 {
            red += 1;
        }
    }
    assert!(
        colours.len() > 30,
        "the screenshot looks blank ({} colours)",
        colours.len()
    );
    assert!(red > 50, "no red violation drawn ({red} red pixels)");
}

/// Measures every text of the page's graph in Chromium (`getBBox`, through a script
/// added to a copy of the page: the page itself has none) and returns (texts,
/// overlapping pairs).
fn label_overlaps(html: &Path, profile: &Path) -> (usize, Vec<String>) {
    const PROBE: &str = r#"<script>
const t = [...document.querySelectorAll('#graph text')];
const b = t.map(e => { const r = e.getBBox(); return [r.x, r.y, r.width, r.height, e.textContent]; });
const bad = [];
for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++) {
  const p = b[i], q = b[j];
  if (p[0] < q[0] + q[2] && q[0] < p[0] + p[2] && p[1] < q[1] + q[3] && q[1] < p[1] + p[3]) bad.push(p[4] + ' / ' + q[4]);
}
const pre = document.createElement('pre');
pre.id = 'bbox-result';
pre.textContent = 'texts=' + b.length + '\n' + bad.join('\n');
document.body.appendChild(pre);
</script>"#;
    let page = std::fs::read_to_string(html).unwrap();
    let probed = html.with_extension("probe.html");
    std::fs::write(&probed, page.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let dom = chromium(
        &["--dump-dom", &format!("file://{}", probed.display())],
        profile,
    );
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    let start = dom
        .find("<pre id=\"bbox-result\">")
        .unwrap_or_else(|| panic!("no result in the DOM: {dom}"));
    let text = &dom[start + "<pre id=\"bbox-result\">".len()..];
    let text = &text[..text.find("</pre>").unwrap()];
    let mut lines = text.lines();
    let n: usize = lines
        .next()
        .unwrap()
        .trim_start_matches("texts=")
        .parse()
        .unwrap();
    (n, lines.map(str::to_string).collect())
}

/// A large deployment: 30 services on 6 networks (each service on one or two), a third
/// of them publishing ports, databases among them.
fn large_compose() -> String {
    let images = [
        "nginx",
        "postgres:16",
        "redis:7",
        "busybox",
        "mysql:8",
        "mongo:7",
    ];
    let mut s = String::from("name: big\nservices:\n");
    for i in 0..30 {
        s.push_str(&format!(
            "  service-with-a-long-name-{i:02}:\n    image: {}\n    networks: [net{}{}]\n",
            images[i % images.len()],
            i % 6,
            if i % 4 == 0 {
                format!(", net{}", (i + 1) % 6)
            } else {
                String::new()
            }
        ));
        if i % 3 == 0 {
            s.push_str(&format!(
                "    ports: [\"{}:{}:80\", \"{}:443\"]\n",
                if i % 2 == 0 { "0.0.0.0" } else { "127.0.0.1" },
                18000 + i,
                19000 + i
            ));
        }
        s.push_str("    expose: [\"8080\", \"9090\"]\n");
    }
    s.push_str("networks:\n");
    for n in 0..6 {
        s.push_str(&format!("  net{n}: {{}}\n"));
    }
    s
}

#[test]
fn html_labels_do_not_collide_on_large_graphs() {
    if !moat_testkit::have("chromium") {
        eprintln!("html_labels_do_not_collide_on_large_graphs: skipped, chromium is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The corpus file with the most edges, and a large generated deployment.
    let corpus = Path::new(SHARED).join("corpus/compose");
    let mut best = (0usize, PathBuf::new());
    for f in std::fs::read_dir(&corpus).unwrap().flatten() {
        let out = moat(&["network", &s(&f.path()), "--format", "json"]);
        if code(&out) == 2 {
            continue;
        }
        let n = json_of(&out)["edges"].as_array().unwrap().len();
        if n > best.0 {
            best = (n, f.path());
        }
    }
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, large_compose()).unwrap();
    for (i, input) in [best.1.clone(), big].iter().enumerate() {
        let html = dir.path().join(format!("g{i}.html"));
        let out = moat(&[
            "network",
            &s(input),
            "--format",
            "html",
            "--output",
            &s(&html),
        ]);
        assert!(code(&out) != 2, "{}", String::from_utf8_lossy(&out.stderr));
        let (texts, overlaps) = label_overlaps(&html, &dir.path().join(format!("p{i}")));
        eprintln!(
            "{}: {texts} labels, {} overlapping pairs",
            input.display(),
            overlaps.len()
        );
        assert!(
            texts > 10,
            "{}: only {texts} labels measured",
            input.display()
        );
        assert!(
            overlaps.is_empty(),
            "{}: labels overlap:\n{}",
            input.display(),
            overlaps.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------
// Live engines.

/// Busybox `nc` (1.35) has no `-k`: `-ll` with `-e` keeps listening.
fn listen(port: u16) -> Vec<String> {
    ["nc", "-ll", "-p", &port.to_string(), "-e", "/bin/true"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn run_container(d: &Dockerd, name: &str, net: &str, extra: &[&str], port: u16) {
    let mut args: Vec<String> = ["run", "-d", "--name", name, "--network", net]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("bb".into());
    args.extend(listen(port));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    d.docker(&refs);
}

/// Waits until each container's namespace listens on its port (read from the host).
fn wait_listening(d: &Dockerd, names: &[(&str, u16)]) {
    for (name, port) in names {
        let pid = d
            .docker(&["inspect", "-f", "{{.State.Pid}}", name])
            .trim()
            .to_string();
        let hex = format!(":{port:04X} ");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let t = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default()
                + &std::fs::read_to_string(format!("/proc/{pid}/net/tcp6")).unwrap_or_default();
            if t.lines()
                .any(|l| l.contains(&hex) && l.split_whitespace().nth(3) == Some("0A"))
            {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} does not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

fn probes<'a>(r: &'a Value, from: &str, to: &str) -> Vec<&'a Value> {
    r["probes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["from"] == from && p["to"] == to)
                .collect()
        })
        .unwrap_or_default()
}

fn ip_on(r: &Value, node: &str, net: &str) -> String {
    r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .and_then(|n| {
            n["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["network"] == net)
        })
        .and_then(|e| e["ipv4"].as_str())
        .unwrap_or_else(|| panic!("{node} has no address on {net}"))
        .to_string()
}

#[test]
fn live_engine_model_policy_and_probe_agree() {
    if !skip_unless(
        "live_engine_model_policy_and_probe_agree",
        &["dockerd", "docker", "iptables-save"],
    ) {
        return;
    }
    let d = Dockerd::start(DockerdOptions {
        network: Some(Network::block("net", 201)),
        ..Default::default()
    });
    let host = d.host();
    let d = &d;
    d.import_busybox("bb", &[]);
    d.docker(&["network", "create", "frontend"]);
    d.docker(&["network", "create", "backend"]);
    d.docker(&["network", "create", "--internal", "db"]);
    // web: the public service; api: frontend, backend and db; admin: a host-published
    // admin port (loopback); db: on db, and on frontend too (the violation).
    run_container(d, "web", "frontend", &["-p", "18201:80"], 80);
    run_container(d, "api", "frontend", &[], 8080);
    d.docker(&["network", "connect", "backend", "api"]);
    d.docker(&["network", "connect", "db", "api"]);
    run_container(d, "admin", "backend", &["-p", "127.0.0.1:19201:9000"], 9000);
    run_container(d, "db", "db", &[], 5432);
    d.docker(&["network", "connect", "frontend", "db"]);
    wait_listening(
        d,
        &[("web", 80), ("api", 8080), ("admin", 9000), ("db", 5432)],
    );

    let policy = s(&fixture("segmented/policy.yaml"));
    let (c, r, err) = {
        let mut args = vec![
            "network",
            "--host",
            &host,
            "--format",
            "json",
            "--probe-timeout",
            "700",
        ];
        args.extend_from_slice(&["--policy", &policy, "--probe"]);
        let out = moat(&args);
        (
            code(&out),
            json_of(&out),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(c, 1, "the violation fails the policy: {err}");
    eprintln!(
        "live model: {} edges, {} findings, {} probes, {} disagreements",
        r["summary"]["edges"],
        r["summary"]["findings"],
        r["summary"]["probes"],
        r["summary"]["disagreements"]
    );
    assert_eq!(r["source"], "engine");
    // The model: settings and the firewall read from the host.
    assert_eq!(r["daemon"]["iptables"], true, "{:#}", r["daemon"]);
    assert_eq!(r["daemon"]["firewall_read"], true);
    assert!(
        r["daemon"]["chains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "DOCKER-ISOLATION-STAGE-1")
    );
    // Listening ports from /proc/PID/net.
    let db = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "db")
        .unwrap();
    assert!(
        db["listening"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["port"]["port"] == 5432)
    );
    let admin = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "admin")
        .unwrap();
    assert_eq!(admin["published"][0]["host_ip"], "127.0.0.1");
    // Policy: web -> db:5432 on frontend is a violation, confirmed by the probe.
    let v = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == "NP001"
                && f["edge"]["from"] == "web"
                && f["edge"]["to"] == "db"
                && f["edge"]["port"]["port"] == 5432
        })
        .unwrap_or_else(|| panic!("no violation web -> db: {:#}", r["findings"]));
    assert_eq!(v["edge"]["reason"]["network"], "frontend");
    assert!(
        v["evidence"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .starts_with("probe: web connected to db")),
        "{v:#}"
    );
    // NS001: PostgreSQL reachable on a network with a published service.
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "NS001" && f["object"] == "db")
    );
    // The probe agrees with the model everywhere.
    assert_eq!(r["summary"]["disagreements"], 0, "{:#}", r["findings"]);
    let db_front = ip_on(&r, "db", "frontend");
    let db_db = ip_on(&r, "db", "db");
    let wd = probes(&r, "web", "db");
    let at = |addr: &str, port: u64| {
        wd.iter()
            .find(|p| p["address"] == addr && p["port"] == port)
            .unwrap_or_else(|| panic!("no probe web -> {addr}:{port}: {wd:#?}"))
    };
    assert_eq!(at(&db_front, 5432)["outcome"], "open");
    assert_eq!(at(&db_front, 5432)["modelled"], true);
    assert_eq!(at(&db_front, 5432)["allowed"], false);
    // db's address on the internal db network: isolated, not modelled.
    assert_ne!(at(&db_db, 5432)["outcome"], "open");
    assert_eq!(at(&db_db, 5432)["modelled"], false);
    // web -> admin (backend): isolated by the daemon, in model and measurement.
    for p in probes(&r, "web", "admin") {
        assert_ne!(p["outcome"], "open", "{p:#}");
        assert_eq!(p["modelled"], false);
    }
    // api -> admin:9000 over backend: open, modelled, allowed (same zone).
    assert!(probes(&r, "api", "admin").iter().any(|p| p["port"] == 9000
        && p["outcome"] == "open"
        && p["modelled"] == true
        && p["allowed"] == true));
    // Sample ports never connect.
    assert!(
        r["probes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["sample"] == true)
            .all(|p| p["outcome"] != "open")
    );

    // Removing the violation makes it pass: model, policy and probe.
    d.docker(&["network", "disconnect", "frontend", "db"]);
    let out = {
        let args = [
            "network",
            "--host",
            &host,
            "--format",
            "json",
            "--probe-timeout",
            "700",
            "--policy",
            &policy,
            "--probe",
        ];
        moat(&args)
    };
    let r = json_of(&out);
    assert_eq!(code(&out), 0, "{:#}", r["findings"]);
    assert_eq!(r["policy"]["passed"], true);
    assert_eq!(r["summary"]["disagreements"], 0);
    assert!(
        probes(&r, "web", "db")
            .iter()
            .all(|p| p["outcome"] != "open")
    );
    assert!(
        probes(&r, "api", "db")
            .iter()
            .any(|p| p["outcome"] == "open" && p["allowed"] == true)
    );
}

/// Sets the filter FORWARD policy for the test's life (under the testkit's iptables lock,
/// which the daemon holds), restoring it on drop.
struct ForwardPolicy(Option<String>);

impl ForwardPolicy {
    fn accept() -> ForwardPolicy {
        let save = moat_testkit::run(Command::new("iptables-save").args(["-t", "filter"]));
        let cur = save
            .lines()
            .find(|l| l.starts_with(":FORWARD "))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string);
        if cur.as_deref() == Some("DROP") {
            moat_testkit::run(Command::new("iptables").args(["-P", "FORWARD", "ACCEPT"]));
            ForwardPolicy(cur)
        } else {
            ForwardPolicy(None)
        }
    }
}

impl Drop for ForwardPolicy {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = Command::new("iptables").args(["-P", "FORWARD", p]).status();
        }
    }
}

#[test]
fn iptables_off_loses_isolation_in_model_and_probe() {
    if !skip_unless(
        "iptables_off_loses_isolation_in_model_and_probe",
        &["dockerd", "docker", "iptables-save", "iptables"],
    ) {
        return;
    }
    let mut net = Network::block("neti", 203);
    net.iptables = false;
    let d = Dockerd::start(DockerdOptions {
        network: Some(net),
        ..Default::default()
    });
    // A previous iptables-on daemon may have left the FORWARD policy at DROP, which
    // would hide the lost isolation; the daemon under test would not set it.
    let _fwd = ForwardPolicy::accept();
    d.import_busybox("bb", &[]);
    d.docker(&["network", "create", "frontend"]);
    d.docker(&["network", "create", "backend"]);
    run_container(&d, "web", "frontend", &[], 80);
    run_container(&d, "db", "backend", &[], 5432);
    wait_listening(&d, &[("web", 80), ("db", 5432)]);

    let host = d.host();
    let out = moat(&[
        "network",
        "--host",
        &host,
        "--format",
        "json",
        "--probe",
        "--probe-timeout",
        "700",
    ]);
    let r = json_of(&out);
    eprintln!(
        "iptables off: {} edges, {} findings, {} probes, {} disagreements",
        r["summary"]["edges"],
        r["summary"]["findings"],
        r["summary"]["probes"],
        r["summary"]["disagreements"]
    );
    assert_eq!(r["daemon"]["iptables"], false, "{:#}", r["daemon"]);
    assert_eq!(r["daemon"]["ip_forward"], true, "{:#}", r["daemon"]);
    // NS007: isolation disabled while user networks exist.
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "NS007"),
        "{:#}",
        r["findings"]
    );
    // The model: web reaches db:5432 across networks, for missing isolation.
    let edge = r["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "web" && e["to"] == "db" && e["port"]["port"] == 5432)
        .unwrap_or_else(|| panic!("no edge web -> db: {:#}", r["edges"]));
    assert_eq!(edge["reason"]["kind"], "missing-isolation");
    // The probe: it really connects, and agrees with the model.
    let db_ip = ip_on(&r, "db", "backend");
    assert!(
        probes(&r, "web", "db")
            .iter()
            .any(|p| p["address"] == db_ip.as_str()
                && p["port"] == 5432
                && p["outcome"] == "open"
                && p["modelled"] == true),
        "{:#}",
        r["probes"]
    );
    assert_eq!(r["summary"]["disagreements"], 0, "{:#}", r["findings"]);
    // --fail-on high fails on NS007.
    let out = moat(&["network", "--host", &host, "--fail-on", "high"]);
    assert_eq!(code(&out), 1);
}

/// A UDP echo on 5353 and a silent UDP socket on 5354 (both dual-stack). Busybox's `nc`
/// here has no `-u`, so the host's python3 is bind-mounted read-only into the container.
const UDP_SERVER: &str = "import socket, threading
def serve(port, reply):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(('::', port))
    while True:
        d, a = s.recvfrom(2048)
        if reply:
            s.sendto(b'pong', a)
threading.Thread(target=serve, args=(5354, False), daemon=True).start()
serve(5353, True)
";

/// Waits until a container's namespace has a UDP socket on `port`.
fn wait_udp(d: &Dockerd, name: &str, port: u16) {
    let pid = d
        .docker(&["inspect", "-f", "{{.State.Pid}}", name])
        .trim()
        .to_string();
    let hex = format!(":{port:04X} ");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let t = std::fs::read_to_string(format!("/proc/{pid}/net/udp")).unwrap_or_default()
            + &std::fs::read_to_string(format!("/proc/{pid}/net/udp6")).unwrap_or_default();
        if t.contains(&hex) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} has no UDP socket on {port}: {}",
            d.docker(&["logs", name])
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// One rule inserted in the host's DOCKER-USER chain for the test's life (under the
/// testkit's iptables lock, which the daemon holds), deleted on drop.
struct UserRule(Vec<String>);

impl UserRule {
    fn insert(spec: &[&str]) -> UserRule {
        let spec: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        let mut args = vec!["-I".to_string(), "DOCKER-USER".to_string()];
        args.extend(spec.iter().cloned());
        moat_testkit::run(Command::new("iptables").args(&args));
        UserRule(spec)
    }
}

impl Drop for UserRule {
    fn drop(&mut self) {
        let mut args = vec!["-D".to_string(), "DOCKER-USER".to_string()];
        args.extend(self.0.iter().cloned());
        let _ = Command::new("iptables").args(&args).status();
    }
}

/// Waits until the IPv6 addresses under `prefix` (hex, as /proc/net/if_inet6 prints
/// them) of each namespace — the containers' and the host's, where the gateways are —
/// have finished duplicate address detection (not tentative): before that the kernel
/// does not use them and the first packets go nowhere.
fn wait_ipv6_ready(d: &Dockerd, names: &[&str], prefix: &str) {
    let mut files = vec!["/proc/net/if_inet6".to_string()];
    for name in names {
        let pid = d
            .docker(&["inspect", "-f", "{{.State.Pid}}", name])
            .trim()
            .to_string();
        files.push(format!("/proc/{pid}/net/if_inet6"));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    for f in &files {
        loop {
            let t = std::fs::read_to_string(f).unwrap_or_default();
            let ours: Vec<u32> = t
                .lines()
                .filter(|l| l.starts_with(prefix))
                .filter_map(|l| u32::from_str_radix(l.split_whitespace().nth(4)?, 16).ok())
                .collect();
            // IFA_F_TENTATIVE = 0x40.
            if !ours.is_empty() && ours.iter().all(|flags| flags & 0x40 == 0) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{f}: IPv6 addresses under {prefix} not ready: {t}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// Removes the test's containers and user networks before the daemon stops: dockerd
/// leaves a stopped network's bridge (and its addresses and routes) on the host, and a
/// later run's fixed IPv6 subnets would then be routed to the stale bridge.
struct RemoveNetworks<'a>(&'a Dockerd, Vec<&'static str>);

impl Drop for RemoveNetworks<'_> {
    fn drop(&mut self) {
        let ids = self.0.docker_output(&["ps", "-aq"]);
        let ids = String::from_utf8_lossy(&ids.stdout).into_owned();
        let mut args = vec!["rm", "-f"];
        args.extend(ids.split_whitespace());
        if args.len() > 2 {
            let _ = self.0.docker_output(&args);
        }
        let mut args = vec!["network", "rm"];
        args.extend(self.1.iter().copied());
        let _ = self.0.docker_output(&args);
    }
}

fn ip6_on(r: &Value, node: &str, net: &str) -> String {
    r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .and_then(|n| {
            n["endpoints"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["network"] == net)
        })
        .and_then(|e| e["ipv6"].as_str())
        .unwrap_or_else(|| panic!("{node} has no IPv6 address on {net}"))
        .to_string()
}

/// UDP probes (reply: open; port-unreachable: refused; silence: open|filtered), IPv6
/// peers (Docker 20.10 writes no ip6tables rules by default: IPv6 networks reach each
/// other while IPv4 is isolated — model and probe must both say so), ports published
/// on the host reached through each network's gateway, and a DOCKER-USER DROP inside
/// one network that the model and the probe both honour.
#[test]
fn live_udp_ipv6_gateway_and_docker_user() {
    if !skip_unless(
        "live_udp_ipv6_gateway_and_docker_user",
        &["dockerd", "docker", "iptables-save", "iptables", "python3"],
    ) {
        return;
    }
    let d = Dockerd::start(DockerdOptions {
        network: Some(Network::block("nx", 205)),
        ..Default::default()
    });
    let host = d.host();
    let d = &d;
    d.import_busybox("bb", &[]);
    let _remove = RemoveNetworks(d, vec!["front", "back", "v6a", "v6b"]);
    d.docker(&["network", "create", "front"]);
    d.docker(&["network", "create", "back"]);
    d.docker(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:5a:1::/64",
        "v6a",
    ]);
    d.docker(&[
        "network",
        "create",
        "--ipv6",
        "--subnet",
        "fd00:5a:2::/64",
        "v6b",
    ]);
    run_container(d, "web", "front", &["-p", "18205:80"], 80);
    run_container(d, "api", "back", &[], 8080);
    run_container(d, "cli", "back", &[], 7000);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "udp",
        "--network",
        "back",
        "-v",
        "/usr:/usr:ro",
        "-v",
        "/lib:/lib:ro",
        "-v",
        "/lib64:/lib64:ro",
        "bb",
        "/usr/bin/python3",
        "-c",
        UDP_SERVER,
    ]);
    run_container(d, "v6srv", "v6a", &[], 8080);
    run_container(d, "v6cli", "v6b", &[], 7000);
    wait_listening(
        d,
        &[
            ("web", 80),
            ("api", 8080),
            ("cli", 7000),
            ("v6srv", 8080),
            ("v6cli", 7000),
        ],
    );
    wait_udp(d, "udp", 5353);
    wait_udp(d, "udp", 5354);
    wait_ipv6_ready(d, &["v6srv", "v6cli"], "fd00005a");
    let ip = |name: &str, net: &str| {
        d.docker(&[
            "inspect",
            "-f",
            &format!("{{{{.NetworkSettings.Networks.{net}.IPAddress}}}}"),
            name,
        ])
        .trim()
        .to_string()
    };
    let (cli_ip, api_ip) = (ip("cli", "back"), ip("api", "back"));
    let _rule = UserRule::insert(&[
        "-s",
        &format!("{cli_ip}/32"),
        "-d",
        &format!("{api_ip}/32"),
        "-p",
        "tcp",
        "--dport",
        "8080",
        "-j",
        "DROP",
    ]);

    let out = moat(&[
        "network",
        "--host",
        &host,
        "--format",
        "json",
        "--probe",
        "--probe-timeout",
        "700",
    ]);
    let r = json_of(&out);
    eprintln!(
        "udp/ipv6/gateway/DOCKER-USER: {} edges, {} blocked, {} findings, {} probes, {} disagreements",
        r["summary"]["edges"],
        r["blocked"].as_array().map_or(0, Vec::len),
        r["summary"]["findings"],
        r["summary"]["probes"],
        r["summary"]["disagreements"]
    );
    let probe = |from: &str, to: &str, addr: &str, port: u64, proto: &str| {
        r["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["from"] == from
                    && p["to"] == to
                    && p["address"] == addr
                    && p["port"] == port
                    && p["proto"] == proto
            })
            .unwrap_or_else(|| panic!("no probe {from} -> {to} {addr}:{port}/{proto}"))
            .clone()
    };
    // The model and the probe agree everywhere.
    assert_eq!(
        r["summary"]["disagreements"],
        0,
        "{:#?}",
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("NX"))
            .collect::<Vec<_>>()
    );

    // UDP: listening from /proc/PID/net/udp6; a reply is open, silence open|filtered,
    // a port nothing listens on refused (ICMP port-unreachable).
    let udp_ip = ip("udp", "back");
    let udp_node = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "udp")
        .unwrap();
    for port in [5353, 5354] {
        assert!(
            udp_node["listening"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["port"]["port"] == port && l["port"]["proto"] == "udp"),
            "{udp_node:#}"
        );
    }
    let p = probe("cli", "udp", &udp_ip, 5353, "udp");
    assert_eq!(
        (&p["outcome"], &p["modelled"]),
        (&"open".into(), &true.into()),
        "{p:#}"
    );
    let p = probe("cli", "udp", &udp_ip, 5354, "udp");
    assert_eq!(p["outcome"], "open|filtered", "{p:#}");
    let sample = r["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["from"] == "cli"
                && p["to"] == "udp"
                && p["address"] == udp_ip.as_str()
                && p["proto"] == "udp"
                && p["sample"] == true
        })
        .unwrap();
    assert_eq!(sample["outcome"], "refused", "{sample:#}");
    // From another (isolated) network, the reply never comes: not open.
    let p = probe("web", "udp", &udp_ip, 5353, "udp");
    assert_ne!(p["outcome"], "open", "{p:#}");
    assert_eq!(p["modelled"], false);

    // IPv6: isolated over IPv4, not over IPv6 (ip6tables off, the host forwards IPv6).
    assert_eq!(r["daemon"]["ip6tables"], false, "{:#}", r["daemon"]);
    let p = probe("v6cli", "v6srv", &ip("v6srv", "v6a"), 8080, "tcp");
    assert_ne!(p["outcome"], "open", "{p:#}");
    assert_eq!(p["modelled"], false);
    let v6 = ip6_on(&r, "v6srv", "v6a");
    let p = probe("v6cli", "v6srv", &v6, 8080, "tcp");
    assert_eq!(
        (&p["outcome"], &p["modelled"]),
        (&"open".into(), &true.into()),
        "{p:#}"
    );
    assert!(
        r["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "v6cli"
                && e["to"] == "v6srv"
                && e["reason"]["kind"] == "missing-isolation-v6")
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "NS007" && f["message"].as_str().unwrap().contains("IPv6"))
    );

    // web's port published on 0.0.0.0 is reached from back through back's gateway,
    // although back is isolated from front: modelled, and measured open.
    let via = r["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["from"] == "api" && e["to"] == "web" && e["reason"]["kind"] == "published-via-host"
        })
        .unwrap_or_else(|| panic!("no api -> web via host: {:#}", r["edges"]));
    assert_eq!(via["reason"]["network"], "back");
    let gw = r["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "back")
        .unwrap()["gateways"][0]
        .as_str()
        .unwrap()
        .to_string();
    let p = probe("api", "web", &gw, 18205, "tcp");
    assert_eq!(
        (&p["outcome"], &p["modelled"], &p["via_host"]),
        (&"open".into(), &true.into(), &true.into()),
        "{p:#}"
    );
    // ...while web's own address on front is not reachable from back.
    let p = probe("api", "web", &ip("web", "front"), 80, "tcp");
    assert_ne!(p["outcome"], "open", "{p:#}");

    // DOCKER-USER: cli -> api:8080 dropped inside back; the model lists the rule,
    // evaluated, and blocks the edge; the probe cannot connect; udp -> api still can.
    assert_eq!(
        r["daemon"]["bridge_nf_call_iptables"], true,
        "{:#}",
        r["daemon"]
    );
    let rules = r["daemon"]["docker_user"].as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|x| x["evaluated"] == true && x["text"].as_str().unwrap().contains(&cli_ip)),
        "{rules:#?}"
    );
    let b = r["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["edge"]["from"] == "cli" && b["edge"]["to"] == "api")
        .unwrap_or_else(|| panic!("cli -> api not blocked: {:#}", r["blocked"]));
    assert!(b["rule"].as_str().unwrap().contains("-j DROP"));
    assert!(
        !r["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "cli"
                && e["to"] == "api"
                && e["port"]["port"] == 8080
                && e["reason"]["kind"] == "same-network")
    );
    let p = probe("cli", "api", &api_ip, 8080, "tcp");
    assert_ne!(p["outcome"], "open", "{p:#}");
    assert_eq!(p["modelled"], false);
    let p = probe("udp", "api", &api_ip, 8080, "tcp");
    assert_eq!(
        (&p["outcome"], &p["modelled"]),
        (&"open".into(), &true.into()),
        "{p:#}"
    );
}

/// A DOCKER-USER DROP between two networks. Docker isolates user networks, so the rule
/// matters where an operator has opened a path: here netb's DOCKER-ISOLATION-STAGE-2
/// rule is deleted (new traffic into netb from other networks is no longer dropped),
/// and a DOCKER-USER rule drops neta -> netb:8080 again. First the replies out of netb
/// are still dropped by the isolation stages (which ignore connection state): nothing
/// connects, in the model and the probe. Then DOCKER-USER accepts established traffic
/// first (the usual first rule): c1 (netc) reaches b1, a1 does not (the DROP), and
/// nothing reaches out of netb — the model (per-stage isolation, the rules evaluated)
/// and the probe agree each time.
#[test]
fn live_docker_user_drop_between_networks() {
    if !skip_unless(
        "live_docker_user_drop_between_networks",
        &["dockerd", "docker", "iptables-save", "iptables"],
    ) {
        return;
    }
    let d = Dockerd::start(DockerdOptions {
        network: Some(Network::block("nu", 207)),
        ..Default::default()
    });
    let host = d.host();
    let d = &d;
    d.import_busybox("bb", &[]);
    let _remove = RemoveNetworks(d, vec!["neta", "netb", "netc"]);
    for n in ["neta", "netb", "netc"] {
        d.docker(&["network", "create", n]);
    }
    run_container(d, "a1", "neta", &[], 7000);
    run_container(d, "b1", "netb", &[], 8080);
    run_container(d, "c1", "netc", &[], 7000);
    wait_listening(d, &[("a1", 7000), ("b1", 8080), ("c1", 7000)]);
    let id = |n: &str| d.docker(&["network", "inspect", "-f", "{{.Id}}", n]);
    let subnet = |n: &str| {
        d.docker(&[
            "network",
            "inspect",
            "-f",
            "{{(index .IPAM.Config 0).Subnet}}",
            n,
        ])
        .trim()
        .to_string()
    };
    let bridge_b = format!("br-{}", &id("netb")[..12]);
    // Open the path into netb (restored on drop: the daemon removes its rules with the
    // network, and a missing rule is not an error there).
    moat_testkit::run(Command::new("iptables").args([
        "-D",
        "DOCKER-ISOLATION-STAGE-2",
        "-o",
        &bridge_b,
        "-j",
        "DROP",
    ]));
    let (sa, sb) = (subnet("neta"), subnet("netb"));
    let _rule = UserRule::insert(&[
        "-s", &sa, "-d", &sb, "-p", "tcp", "--dport", "8080", "-j", "DROP",
    ]);

    let run = || {
        json_of(&moat(&[
            "network",
            "--host",
            &host,
            "--format",
            "json",
            "--probe",
            "--probe-timeout",
            "700",
        ]))
    };
    let r = run();
    assert_eq!(r["summary"]["disagreements"], 0, "{:#}", r["findings"]);
    let b1 = ip_on(&r, "b1", "netb");
    for from in ["a1", "c1"] {
        assert!(
            !r["edges"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["from"] == from && e["to"] == "b1"),
            "replies are dropped: {:#}",
            r["edges"]
        );
        for p in probes(&r, from, "b1") {
            assert_ne!(p["outcome"], "open", "{p:#}");
        }
    }
    let _accept = UserRule::insert(&[
        "-m",
        "conntrack",
        "--ctstate",
        "RELATED,ESTABLISHED",
        "-j",
        "ACCEPT",
    ]);
    let r = run();
    eprintln!(
        "DOCKER-USER between networks: {} edges, {} blocked, {} probes, {} disagreements",
        r["summary"]["edges"],
        r["blocked"].as_array().map_or(0, Vec::len),
        r["summary"]["probes"],
        r["summary"]["disagreements"]
    );
    assert_eq!(r["summary"]["disagreements"], 0, "{:#}", r["findings"]);
    let at = |from: &str| {
        probes(&r, from, "b1")
            .into_iter()
            .find(|p| p["address"] == b1.as_str() && p["port"] == 8080)
            .unwrap_or_else(|| panic!("no probe {from} -> b1:8080"))
            .clone()
    };
    // c1 -> b1: isolation missing, nothing in DOCKER-USER: modelled and open.
    assert!(
        r["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "c1"
                && e["to"] == "b1"
                && e["reason"]["kind"] == "missing-isolation")
    );
    let p = at("c1");
    assert_eq!(
        (&p["outcome"], &p["modelled"]),
        (&"open".into(), &true.into()),
        "{p:#}"
    );
    // a1 -> b1: the DOCKER-USER DROP: blocked in the model, not open in the probe.
    let blocked = r["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["edge"]["from"] == "a1" && b["edge"]["to"] == "b1")
        .unwrap_or_else(|| panic!("a1 -> b1 not blocked: {:#}", r["blocked"]));
    assert!(
        blocked["rule"].as_str().unwrap().contains(&sa),
        "{blocked:#}"
    );
    let p = at("a1");
    assert_ne!(p["outcome"], "open", "{p:#}");
    assert_eq!(p["modelled"], false);
    // Out of netb stays isolated (its stage-1 rule is there).
    for p in probes(&r, "b1", "c1") {
        assert_ne!(p["outcome"], "open", "{p:#}");
        assert_eq!(p["modelled"], false);
    }
    // NS007 names the bridge whose rule is missing.
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "NS007" && f["message"].as_str().unwrap().contains(&bridge_b))
    );
}
