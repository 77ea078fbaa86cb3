//! `moat network`'s renderers: the table, SARIF (through the one SARIF writer), and the
//! graph as Graphviz DOT and Mermaid text. The HTML page is in `network_html`.

use crate::table::esc;
use moat_model::network::{EXTERNAL, Edge, HOST, NetworkReport, Reason};
use moat_model::{ConfigFinding, RuleMeta};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

fn new_table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    t
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn opt(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "on",
        Some(false) => "off",
        None => "?",
    }
}

/// The report as text: daemon, networks, containers, the reachability graph,
/// findings, probe results and a summary line.
pub fn table(r: &NetworkReport, w: &mut dyn Write) -> io::Result<()> {
    let inputs: Vec<String> = r.inputs.iter().map(|i| esc(i)).collect();
    writeln!(
        w,
        "network model of {} ({})",
        inputs.join(", "),
        match r.source {
            moat_model::network::ModelSource::Compose => "compose, no daemon",
            moat_model::network::ModelSource::Engine => "live engine",
        }
    )?;
    let d = &r.daemon;
    writeln!(
        w,
        "daemon: iptables {}, icc {}, userland-proxy {}, ip-forward {}{}",
        opt(d.iptables),
        opt(d.icc),
        opt(d.userland_proxy),
        opt(d.ip_forward),
        match (&d.forward_policy, d.firewall_read) {
            (Some(p), true) => format!(", FORWARD policy {}", esc(p)),
            _ => String::new(),
        }
    )?;
    for n in &d.notes {
        writeln!(w, "  note: {}", esc(n))?;
    }
    let mut t = new_table();
    t.set_header(["NETWORK", "DRIVER", "INTERNAL", "SUBNETS", "ICC", "BRIDGE"]);
    for n in &r.networks {
        t.add_row([
            esc(&n.name),
            esc(&n.driver),
            yes(n.internal).to_string(),
            esc(&n.subnets.join(" ")),
            opt(n.icc).to_string(),
            esc(n.bridge.as_deref().unwrap_or("")),
        ]);
    }
    writeln!(w, "{t}")?;
    let mut t = new_table();
    t.set_header([
        "CONTAINER",
        "ZONE",
        "MODE",
        "NETWORKS",
        "PUBLISHED",
        "LISTENING",
    ]);
    for n in &r.nodes {
        let mode = match &n.mode {
            moat_model::network::NetMode::Bridge => "bridge".to_string(),
            moat_model::network::NetMode::Host => "host".to_string(),
            moat_model::network::NetMode::None => "none".to_string(),
            moat_model::network::NetMode::Container(c) => format!("container:{c}"),
        };
        let nets: Vec<String> = n
            .endpoints
            .iter()
            .map(|e| match &e.ipv4 {
                Some(ip) => format!("{} {ip}", e.network),
                None => e.network.clone(),
            })
            .collect();
        let published: Vec<String> = n
            .published
            .iter()
            .map(|p| {
                format!(
                    "{}:{}->{}",
                    if p.host_ip.is_empty() {
                        "0.0.0.0"
                    } else {
                        &p.host_ip
                    },
                    p.host_port.map_or("?".to_string(), |h| h.to_string()),
                    p.container
                )
            })
            .collect();
        let listening = match &n.listening {
            Some(l) => l
                .iter()
                .map(|l| format!("{}:{}", l.address, l.port))
                .collect::<Vec<_>>()
                .join("\n"),
            None => "-".to_string(),
        };
        t.add_row([
            esc(&n.name),
            esc(n.zone.as_deref().unwrap_or("")),
            esc(&mode),
            nets.iter().map(|x| esc(x)).collect::<Vec<_>>().join("\n"),
            published
                .iter()
                .map(|x| esc(x))
                .collect::<Vec<_>>()
                .join("\n"),
            listening,
        ]);
    }
    writeln!(w, "{t}")?;
    writeln!(w, "reachability ({} edges):", r.edges.len())?;
    let mut t = new_table();
    t.set_header(["FROM", "TO", "PORT", "REASON"]);
    for e in &r.edges {
        t.add_row([
            esc(&e.from),
            esc(&e.to),
            e.port.map_or("any".to_string(), |p| p.to_string()),
            esc(&e.reason.describe()),
        ]);
    }
    writeln!(w, "{t}")?;
    if !r.daemon.docker_user.is_empty() {
        writeln!(w, "DOCKER-USER ({} rules):", r.daemon.docker_user.len())?;
        for rule in &r.daemon.docker_user {
            writeln!(
                w,
                "  {}{}",
                esc(&rule.text),
                if rule.evaluated {
                    String::new()
                } else {
                    format!("  [{}]", esc(&rule.note))
                }
            )?;
        }
    }
    if !r.blocked.is_empty() {
        writeln!(w, "blocked by DOCKER-USER ({} edges):", r.blocked.len())?;
        let mut t = new_table();
        t.set_header(["FROM", "TO", "PORT", "REASON", "RULE"]);
        for b in &r.blocked {
            t.add_row([
                esc(&b.edge.from),
                esc(&b.edge.to),
                b.edge.port.map_or("any".to_string(), |p| p.to_string()),
                esc(&b.edge.reason.describe()),
                esc(&b.rule),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    if let Some(obs) = &r.observed {
        writeln!(w, "observed by moat monitor ({} flows):", obs.len())?;
        let mut t = new_table();
        t.set_header(["FROM", "TO", "ADDRESS", "RECORDS", "MODELLED", "POLICY"]);
        for o in obs {
            t.add_row([
                esc(&o.from),
                esc(&o.to),
                format!("{}:{}", esc(&o.address), o.port),
                o.count.to_string(),
                if o.modelled { "reachable" } else { "no path" }.to_string(),
                match o.allowed {
                    Some(true) => "allowed",
                    Some(false) => "denied",
                    None => "-",
                }
                .to_string(),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    if let Some(p) = &r.policy {
        writeln!(
            w,
            "policy {}: {} zone(s), {} allowed flow(s): {}",
            esc(&p.file),
            p.zones.len(),
            p.allowed_flows,
            if p.passed {
                "passed".to_string()
            } else {
                format!("FAILED ({} violation(s))", p.violations)
            }
        )?;
    }
    if r.findings.is_empty() {
        writeln!(w, "no findings")?;
    } else {
        let mut t = new_table();
        t.set_header(["RULE", "SEVERITY", "OBJECT", "MESSAGE", "EVIDENCE"]);
        for f in &r.findings {
            t.add_row([
                f.finding.rule.clone(),
                f.severity().to_string(),
                esc(&f.object),
                esc(&f.finding.message),
                f.evidence
                    .iter()
                    .map(|e| esc(e))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    if let Some(probes) = &r.probes {
        writeln!(w, "probe ({} connects):", probes.len())?;
        let mut t = new_table();
        t.set_header(["FROM", "TO", "ADDRESS", "MEASURED", "MODELLED", "POLICY"]);
        for p in probes {
            t.add_row([
                esc(&p.from),
                esc(&p.to),
                format!(
                    "{}:{}/{}{}{}",
                    p.address,
                    p.port,
                    p.proto.as_str(),
                    if p.via_host {
                        " (published, via gateway)"
                    } else {
                        ""
                    },
                    if p.sample { " (sample)" } else { "" }
                ),
                p.outcome.as_str().to_string(),
                if p.modelled { "reachable" } else { "closed" }.to_string(),
                match p.allowed {
                    Some(true) => "allowed",
                    Some(false) => "denied",
                    None => "-",
                }
                .to_string(),
            ]);
        }
        writeln!(w, "{t}")?;
    }
    for warn in &r.warnings {
        writeln!(w, "warning: {}", esc(warn))?;
    }
    let s = &r.summary;
    writeln!(
        w,
        "{} network(s), {} container(s), {} edge(s), {} finding(s){}",
        s.networks,
        s.nodes,
        s.edges,
        s.findings,
        if r.probes.is_some() {
            format!(
                ", {} probe(s), {} disagreement(s)",
                s.probes, s.disagreements
            )
        } else {
            String::new()
        }
    )
}

/// The findings as SARIF 2.1.0 through the one SARIF writer (rules described by
/// `meta`); each result also carries its edge and evidence in `properties`.
pub fn sarif(
    r: &NetworkReport,
    meta: &dyn Fn(&str) -> Option<RuleMeta>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let findings: Vec<ConfigFinding> = r.findings.iter().map(|f| f.finding.clone()).collect();
    let mut doc = crate::sarif::config_document("moat-network", &findings, meta);
    if let Some(results) = doc
        .pointer_mut("/runs/0/results")
        .and_then(|v| v.as_array_mut())
    {
        for (res, f) in results.iter_mut().zip(&r.findings) {
            if let Some(props) = res.get_mut("properties").and_then(|p| p.as_object_mut()) {
                props.insert("object".into(), json!(f.object));
                props.insert("evidence".into(), json!(f.evidence));
                if let Some(e) = &f.edge {
                    props.insert("edge".into(), json!(e));
                }
            }
        }
    }
    crate::sarif::write(&doc, w)
}

/// The edges as drawn: one line per (from, to) pair with its ports, and whether any of
/// them is a violation (a finding names that edge).
pub struct Drawn {
    pub from: String,
    pub to: String,
    pub label: String,
    pub violation: bool,
    pub egress: bool,
}

/// Edges grouped for drawing, violations marked.
pub fn drawn_edges(r: &NetworkReport) -> Vec<Drawn> {
    let bad: BTreeSet<&Edge> = r
        .findings
        .iter()
        .filter(|f| {
            f.finding.rule.starts_with("NP")
                || f.finding.rule.starts_with("NX")
                || f.finding.rule == "NS001"
        })
        .filter_map(|f| f.edge.as_ref())
        .collect();
    let mut groups: BTreeMap<(&str, &str), (BTreeSet<String>, bool, bool)> = BTreeMap::new();
    for e in &r.edges {
        let g = groups.entry((&e.from, &e.to)).or_default();
        g.0.insert(match (&e.reason, e.port) {
            (Reason::Egress { .. }, _) => "egress".to_string(),
            (_, Some(p)) => p.to_string(),
            (_, None) => "any".to_string(),
        });
        g.1 |= bad.contains(e);
        g.2 |= matches!(e.reason, Reason::Egress { .. });
    }
    groups
        .into_iter()
        .map(|((from, to), (labels, violation, egress))| Drawn {
            from: from.to_string(),
            to: to.to_string(),
            label: labels.into_iter().collect::<Vec<_>>().join(", "),
            violation,
            egress,
        })
        .collect()
}

/// Zones to draw as boxes: the policy's zones, else the first network of each node.
pub fn groups(r: &NetworkReport) -> BTreeMap<String, Vec<String>> {
    let mut g: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in &r.nodes {
        let key = match (&n.zone, r.policy.is_some()) {
            (Some(z), _) => z.clone(),
            (None, true) => "(no zone)".to_string(),
            (None, false) => n
                .endpoints
                .first()
                .map(|e| e.network.clone())
                .unwrap_or_else(|| "(no network)".to_string()),
        };
        g.entry(key).or_default().push(n.name.clone());
    }
    g
}

fn dot_id(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The graph as Graphviz DOT: zones (or networks) as clusters, violations red.
pub fn dot(r: &NetworkReport, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "digraph moat_network {{")?;
    writeln!(w, "  rankdir=LR;")?;
    writeln!(w, "  node [shape=box, style=rounded];")?;
    for (i, (zone, members)) in groups(r).iter().enumerate() {
        writeln!(w, "  subgraph cluster_{i} {{")?;
        writeln!(w, "    label={};", dot_id(zone))?;
        for m in members {
            writeln!(w, "    {};", dot_id(m))?;
        }
        writeln!(w, "  }}")?;
    }
    let pseudo: BTreeSet<&str> = r
        .edges
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .filter(|n| *n == EXTERNAL || *n == HOST)
        .collect();
    for p in pseudo {
        writeln!(w, "  {} [shape=ellipse, style=dashed];", dot_id(p))?;
    }
    for e in drawn_edges(r) {
        let mut attrs = vec![format!("label={}", dot_id(&e.label))];
        if e.violation {
            attrs.push("color=red, fontcolor=red, penwidth=2".to_string());
        } else if e.egress {
            attrs.push("style=dashed, color=gray".to_string());
        }
        writeln!(
            w,
            "  {} -> {} [{}];",
            dot_id(&e.from),
            dot_id(&e.to),
            attrs.join(", ")
        )?;
    }
    writeln!(w, "}}")
}

fn mermaid_id(s: &str, ids: &mut BTreeMap<String, String>) -> String {
    let n = ids.len();
    ids.entry(s.to_string())
        .or_insert_with(|| format!("n{n}"))
        .clone()
}

fn mermaid_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            '<' => '‹',
            '>' => '›',
            '|' => '¦',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// The graph as a Mermaid flowchart: zones as subgraphs, violations red.
pub fn mermaid(r: &NetworkReport, w: &mut dyn Write) -> io::Result<()> {
    let mut ids = BTreeMap::new();
    writeln!(w, "flowchart LR")?;
    for (i, (zone, members)) in groups(r).iter().enumerate() {
        writeln!(w, "  subgraph z{i}[\"{}\"]", mermaid_text(zone))?;
        for m in members {
            let id = mermaid_id(m, &mut ids);
            writeln!(w, "    {id}[\"{}\"]", mermaid_text(m))?;
        }
        writeln!(w, "  end")?;
    }
    for p in [EXTERNAL, HOST] {
        if r.edges.iter().any(|e| e.from == p || e.to == p) {
            let id = mermaid_id(p, &mut ids);
            writeln!(w, "  {id}((\"{p}\"))")?;
        }
    }
    let mut violations = Vec::new();
    for (i, e) in drawn_edges(r).iter().enumerate() {
        let (a, b) = (mermaid_id(&e.from, &mut ids), mermaid_id(&e.to, &mut ids));
        let arrow = if e.egress { "-.->" } else { "-->" };
        writeln!(w, "  {a} {arrow}|\"{}\"| {b}", mermaid_text(&e.label))?;
        if e.violation {
            violations.push(i);
        }
    }
    for i in violations {
        writeln!(w, "  linkStyle {i} stroke:#d00,stroke-width:3px,color:#d00")?;
    }
    Ok(())
}
