//! `moat network --format html`: one self-contained page (no script, no external
//! resource) with the graph as inline SVG — zones (or networks) as boxes, containers
//! inside, published ports at their edge, allowed edges grey-blue and violations red —
//! then the findings and the probe results.

use crate::network::{drawn_edges, groups};
use moat_model::network::{EXTERNAL, HOST, NetworkReport, ProbeOutcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

fn h(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

const ZONE_W: i64 = 230;
const ZONE_GAP: i64 = 90;
const NODE_W: i64 = 170;
const NODE_H: i64 = 44;
const NODE_GAP: i64 = 30;
const LEFT: i64 = 170;
const TOP: i64 = 50;

/// The page.
pub fn html(r: &NetworkReport, w: &mut dyn Write) -> io::Result<()> {
    let zones = groups(r);
    // Positions: zone columns left to right; pseudo-nodes in a column on the left.
    let mut pos: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut svg = String::new();
    let mut max_rows = 1i64;
    for (i, (_, members)) in zones.iter().enumerate() {
        let x = LEFT + i as i64 * (ZONE_W + ZONE_GAP);
        for (j, m) in members.iter().enumerate() {
            let y = TOP + 40 + j as i64 * (NODE_H + NODE_GAP);
            pos.insert(m.clone(), (x + (ZONE_W - NODE_W) / 2, y));
        }
        max_rows = max_rows.max(members.len() as i64);
    }
    for (k, p) in [EXTERNAL, HOST].iter().enumerate() {
        pos.insert(
            p.to_string(),
            (20, TOP + 40 + k as i64 * (NODE_H + 2 * NODE_GAP)),
        );
    }
    let width = LEFT + zones.len().max(1) as i64 * (ZONE_W + ZONE_GAP) + 20;
    let zone_h = 60 + max_rows * (NODE_H + NODE_GAP);
    let height = TOP + zone_h + 40;
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="reachability graph">
<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#4a6fa5"/></marker>
<marker id="arrow-bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#d00000"/></marker>
</defs>
<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>
"##
    );
    for (i, zone) in zones.keys().enumerate() {
        let x = LEFT + i as i64 * (ZONE_W + ZONE_GAP);
        let _ = writeln!(
            svg,
            r##"<g class="zone" data-zone="{z}"><rect x="{x}" y="{TOP}" width="{ZONE_W}" height="{zone_h}" rx="10" fill="#eef3fb" stroke="#4a6fa5" stroke-width="2"/><text x="{tx}" y="{ty}" font-family="sans-serif" font-size="15" font-weight="bold" fill="#223">{z}</text></g>"##,
            z = h(zone),
            tx = x + 10,
            ty = TOP + 22,
        );
    }
    // Edges first, nodes on top.
    for e in drawn_edges(r) {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        let (cx1, cy1) = (x1 + NODE_W / 2, y1 + NODE_H / 2);
        let (cx2, cy2) = (x2 + NODE_W / 2, y2 + NODE_H / 2);
        // Leave the boxes: end at the nearer vertical side.
        let (sx, ex) = if cx2 >= cx1 {
            (x1 + NODE_W, x2)
        } else {
            (x1, x2 + NODE_W)
        };
        let (sx, ex) = if x1 == x2 {
            (x1 + NODE_W, x2 + NODE_W)
        } else {
            (sx, ex)
        };
        let bend = if x1 == x2 {
            60
        } else {
            (cy2 - cy1).signum() * 12 + 14
        };
        let mx = (sx + ex) / 2 + if x1 == x2 { bend } else { 0 };
        let my = (cy1 + cy2) / 2 - if x1 == x2 { 0 } else { bend };
        let (class, stroke, marker, dash) = if e.violation {
            ("edge violation", "#d00000", "arrow-bad", "")
        } else if e.egress {
            (
                "edge egress",
                "#8a94a6",
                "arrow",
                r#" stroke-dasharray="5 4""#,
            )
        } else {
            ("edge allowed", "#4a6fa5", "arrow", "")
        };
        let _ = writeln!(
            svg,
            r##"<g class="{class}" data-from="{f}" data-to="{t}"><path d="M {sx} {cy1} Q {mx} {my} {ex} {cy2}" fill="none" stroke="{stroke}" stroke-width="{sw}"{dash} marker-end="url(#{marker})"/><text x="{mx}" y="{ly}" font-family="sans-serif" font-size="11" fill="{stroke}" text-anchor="middle">{label}</text></g>"##,
            f = h(&e.from),
            t = h(&e.to),
            sw = if e.violation { "3" } else { "1.5" },
            ly = my - 4,
            label = h(&e.label),
        );
    }
    for (name, &(x, y)) in &pos {
        let pseudo = name == EXTERNAL || name == HOST;
        if pseudo && !r.edges.iter().any(|e| &e.from == name || &e.to == name) {
            continue;
        }
        let node = r.nodes.iter().find(|n| &n.name == name);
        let violating = r
            .findings
            .iter()
            .any(|f| &f.object == name && f.severity() >= moat_model::Severity::High);
        let (fill, stroke) = if pseudo {
            ("#f5f5f5", "#777")
        } else if violating {
            ("#ffe9e9", "#d00000")
        } else {
            ("#ffffff", "#4a6fa5")
        };
        let _ = writeln!(
            svg,
            r##"<g class="node{cls}" data-name="{n}"><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="2"/><text x="{tx}" y="{ty}" font-family="sans-serif" font-size="13" fill="#111" text-anchor="middle">{n}</text></g>"##,
            cls = if pseudo {
                " pseudo"
            } else if violating {
                " violating"
            } else {
                ""
            },
            n = h(name),
            rx = if pseudo { 22 } else { 6 },
            tx = x + NODE_W / 2,
            ty = y + NODE_H / 2 + 5,
        );
        // Published ports at the node's left edge.
        if let Some(n) = node {
            for (k, p) in n.published.iter().take(4).enumerate() {
                let label = format!(
                    "{}:{}",
                    if p.host_ip.is_empty() {
                        "*"
                    } else {
                        &p.host_ip
                    },
                    p.host_port.map_or("?".to_string(), |h| h.to_string())
                );
                let py = y + 4 + k as i64 * 12;
                let _ = writeln!(
                    svg,
                    r##"<g class="published"><rect x="{px}" y="{py}" width="8" height="8" fill="{c}"/><text x="{lx}" y="{ty}" font-family="monospace" font-size="9" fill="{c}" text-anchor="end">{l}</text></g>"##,
                    px = x - 4,
                    c = if p.loopback() { "#2a7a2a" } else { "#b35c00" },
                    lx = x - 7,
                    ty = py + 8,
                    l = h(&label),
                );
            }
        }
    }
    svg.push_str("</svg>\n");

    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>moat network</h1>\n<p class=\"meta\">{} &middot; {} network(s), {} container(s), {} edge(s), {} finding(s){}</p>",
        h(&r.inputs.join(", ")),
        r.summary.networks,
        r.summary.nodes,
        r.summary.edges,
        r.summary.findings,
        match &r.policy {
            Some(p) if p.passed => format!(
                " &middot; policy {} <span class=\"pass\">passed</span>",
                h(&p.file)
            ),
            Some(p) => format!(
                " &middot; policy {} <span class=\"fail\">failed: {} violation(s)</span>",
                h(&p.file),
                p.violations
            ),
            None => String::new(),
        }
    );
    body.push_str("<div class=\"graph\">\n");
    body.push_str(&svg);
    body.push_str("</div>\n<p class=\"legend\"><span style=\"color:#4a6fa5\">&#9473; reachable</span> &nbsp; <span style=\"color:#d00000\">&#9473; violation</span> &nbsp; <span style=\"color:#8a94a6\">&#9476; egress</span> &nbsp; <span style=\"color:#b35c00\">&#9632; published on all interfaces</span> &nbsp; <span style=\"color:#2a7a2a\">&#9632; published on loopback</span></p>\n");
    body.push_str("<h2>Findings</h2>\n");
    if r.findings.is_empty() {
        body.push_str("<p>No findings.</p>\n");
    } else {
        body.push_str("<table id=\"findings\"><tr><th>Rule</th><th>Severity</th><th>Object</th><th>Message</th><th>Edge</th></tr>\n");
        for f in &r.findings {
            let violation = f.finding.rule.starts_with("NP") || f.finding.rule.starts_with("NX");
            let _ = writeln!(
                body,
                "<tr class=\"finding{}\" data-rule=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if violation { " violation" } else { "" },
                h(&f.finding.rule),
                h(&f.finding.rule),
                h(f.severity().as_str()),
                h(&f.object),
                h(&f.finding.message),
                h(&f.edge.as_ref().map(|e| e.label()).unwrap_or_default()),
            );
        }
        body.push_str("</table>\n");
    }
    if let Some(probes) = &r.probes {
        let _ = writeln!(body, "<h2>Probe ({} connects)</h2>", probes.len());
        body.push_str("<table id=\"probes\"><tr><th>From</th><th>To</th><th>Address</th><th>Measured</th><th>Modelled</th><th>Policy</th></tr>\n");
        for p in probes {
            let measured = p.outcome.as_str();
            let agree = (p.outcome == ProbeOutcome::Open) == p.modelled
                || p.sample && p.outcome != ProbeOutcome::Open
                || p.outcome == ProbeOutcome::OpenFiltered;
            let _ = writeln!(
                body,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}:{}/{}{}{}</td><td>{measured}</td><td>{}</td><td>{}</td></tr>",
                if agree { "agree" } else { "disagree" },
                h(&p.from),
                h(&p.to),
                h(&p.address),
                p.port,
                p.proto.as_str(),
                if p.via_host {
                    " (published, via gateway)"
                } else {
                    ""
                },
                if p.sample { " (sample)" } else { "" },
                if p.modelled { "reachable" } else { "closed" },
                match p.allowed {
                    Some(true) => "allowed",
                    Some(false) => "denied",
                    None => "-",
                }
            );
        }
        body.push_str("</table>\n");
    }
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>moat network</title>\n<style>\nbody {{ font-family: sans-serif; margin: 24px; color: #111; background: #fff; }}\n.meta {{ color: #445; }}\n.pass {{ color: #2a7a2a; font-weight: bold; }}\n.fail {{ color: #d00000; font-weight: bold; }}\n.graph {{ overflow-x: auto; border: 1px solid #ccd; }}\ntable {{ border-collapse: collapse; margin: 8px 0 20px; }}\nth, td {{ border: 1px solid #ccd; padding: 4px 8px; text-align: left; font-size: 13px; vertical-align: top; }}\ntr.violation td, tr.disagree td {{ background: #ffe9e9; color: #900; }}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}
