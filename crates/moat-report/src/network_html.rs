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

/// Text is drawn in a monospace font so its width is known without a browser: each
/// character advances 0.6 em in DejaVu Sans Mono / Liberation Mono; 0.62 leaves a margin.
const CHAR_EM: f64 = 0.62;
const FONT: &str = "DejaVu Sans Mono, Liberation Mono, monospace";
const NODE_FS: f64 = 13.0;
const ZONE_FS: f64 = 15.0;
const EDGE_FS: f64 = 11.0;
const PUB_FS: f64 = 9.0;
const NODE_H: f64 = 34.0;
const NODE_GAP: f64 = 22.0;
const ZONE_PAD: f64 = 16.0;
const ZONE_GAP: f64 = 150.0;
const TOP: f64 = 20.0;

/// Width of `s` drawn at font size `fs`.
fn text_w(s: &str, fs: f64) -> f64 {
    s.chars().count() as f64 * fs * CHAR_EM
}

/// An axis-aligned box: x, y (top left), width, height.
#[derive(Debug, Clone, Copy)]
struct BoxF {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl BoxF {
    fn hits(&self, o: &BoxF) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
    /// The box of a text whose anchor is (`x`, baseline `y`).
    fn text(x: f64, y: f64, w: f64, fs: f64, anchor: &str) -> BoxF {
        let left = match anchor {
            "middle" => x - w / 2.0,
            "end" => x - w,
            _ => x,
        };
        // The font's ascent (0.93 em in DejaVu Sans Mono) above the baseline, its
        // descent (0.24 em) below, plus a margin.
        BoxF {
            x: left - 2.0,
            y: y - fs * 0.97 - 1.0,
            w: w + 4.0,
            h: fs * 1.3 + 2.0,
        }
    }
}

fn published_label(p: &moat_model::network::Published) -> String {
    format!(
        "{}:{}",
        if p.host_ip.is_empty() {
            "*"
        } else {
            &p.host_ip
        },
        p.host_port.map_or("?".to_string(), |h| h.to_string())
    )
}

/// Vertical distance of published-port lines (a label box's height at `PUB_FS`).
const PUB_STEP: f64 = 14.0;

/// The published-port labels drawn at a node (at most three lines) and their colours.
fn published_lines(n: &moat_model::network::NodeInfo) -> Vec<(String, &'static str)> {
    let colour = |p: &moat_model::network::Published| {
        if p.loopback() { "#2a7a2a" } else { "#b35c00" }
    };
    let mut out: Vec<(String, &'static str)> = n
        .published
        .iter()
        .take(3)
        .map(|p| (published_label(p), colour(p)))
        .collect();
    if n.published.len() > 3 {
        out[2] = (format!("+{} more", n.published.len() - 2), "#b35c00");
    }
    out
}

fn fmt(v: f64) -> String {
    format!("{:.1}", v)
}

/// The page.
pub fn html(r: &NetworkReport, w: &mut dyn Write) -> io::Result<()> {
    let zones = groups(r);
    let node_of = |name: &str| r.nodes.iter().find(|n| n.name == name);
    // Each node's box width from its name; each zone's width from its widest node, its
    // title and the published-port labels drawn at its nodes' left edge.
    let node_w = |name: &str| text_w(name, NODE_FS).max(60.0) + 24.0;
    let pub_w = |name: &str| {
        node_of(name).map_or(0.0, |n| {
            published_lines(n)
                .iter()
                .map(|(l, _)| text_w(l, PUB_FS) + 14.0)
                .fold(0.0, f64::max)
        })
    };
    struct Zone<'a> {
        name: &'a str,
        members: &'a [String],
        inset: f64,
        w: f64,
        h: f64,
    }
    let mut zl: Vec<Zone<'_>> = zones
        .iter()
        .map(|(z, m)| {
            let inset = m.iter().map(|n| pub_w(n)).fold(0.0, f64::max) + ZONE_PAD;
            let inner = m.iter().map(|n| node_w(n)).fold(0.0, f64::max);
            let w = (inset + inner + ZONE_PAD).max(text_w(z, ZONE_FS) + 2.0 * ZONE_PAD);
            let h = 40.0 + m.len() as f64 * (NODE_H + NODE_GAP) + ZONE_PAD;
            Zone {
                name: z,
                members: m,
                inset,
                w,
                h,
            }
        })
        .collect();
    // Zones in a grid of about square shape, row by row.
    let cols = (zl.len() as f64).sqrt().ceil().max(1.0) as usize;
    let rows = zl.len().div_ceil(cols);
    let col_w: Vec<f64> = (0..cols)
        .map(|c| {
            zl.iter()
                .skip(c)
                .step_by(cols)
                .map(|z| z.w)
                .fold(0.0, f64::max)
        })
        .collect();
    let row_h: Vec<f64> = (0..rows)
        .map(|rr| {
            zl.iter()
                .skip(rr * cols)
                .take(cols)
                .map(|z| z.h)
                .fold(0.0, f64::max)
        })
        .collect();
    let pseudo_w = [EXTERNAL, HOST]
        .iter()
        .map(|p| node_w(p))
        .fold(0.0, f64::max);
    let left = 20.0 + pseudo_w + ZONE_GAP;
    let mut pos: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new(); // x, y, width
    let mut zone_boxes = Vec::new();
    for (i, z) in zl.iter_mut().enumerate() {
        let (c, rr) = (i % cols, i / cols);
        let x = left + col_w[..c].iter().sum::<f64>() + c as f64 * ZONE_GAP;
        let y = TOP + row_h[..rr].iter().sum::<f64>() + rr as f64 * ZONE_GAP;
        z.w = col_w[c];
        z.h = row_h[rr];
        for (j, m) in z.members.iter().enumerate() {
            let ny = y + 40.0 + j as f64 * (NODE_H + NODE_GAP);
            pos.insert(m.clone(), (x + z.inset, ny, node_w(m)));
        }
        zone_boxes.push((z.name, x, y, z.w, z.h));
    }
    for (k, p) in [EXTERNAL, HOST].iter().enumerate() {
        pos.insert(
            p.to_string(),
            (
                20.0,
                TOP + 40.0 + k as f64 * (NODE_H + 3.0 * NODE_GAP),
                node_w(p),
            ),
        );
    }
    let grid_w = left + col_w.iter().sum::<f64>() + cols.saturating_sub(1) as f64 * ZONE_GAP;
    let grid_h = TOP + row_h.iter().sum::<f64>() + rows.saturating_sub(1) as f64 * ZONE_GAP;

    // Every text drawn so far, to keep edge labels off them.
    let mut taken: Vec<BoxF> = Vec::new();
    let mut zones_svg = String::new();
    for (z, x, y, zw, zh) in &zone_boxes {
        let (tx, ty) = (x + 10.0, y + 22.0);
        taken.push(BoxF::text(tx, ty, text_w(z, ZONE_FS), ZONE_FS, "start"));
        let _ = writeln!(
            zones_svg,
            r##"<g class="zone" data-zone="{zn}"><rect x="{x}" y="{y}" width="{zw}" height="{zh}" rx="10" fill="#eef3fb" stroke="#4a6fa5" stroke-width="2"/><text class="label" x="{tx}" y="{ty}" font-family="{FONT}" font-size="{ZONE_FS}" font-weight="bold" fill="#223">{zn}</text></g>"##,
            zn = h(z),
            x = fmt(*x),
            y = fmt(*y),
            zw = fmt(*zw),
            zh = fmt(*zh),
            tx = fmt(tx),
            ty = fmt(ty),
        );
    }
    let drawn_pseudo = |name: &str| r.edges.iter().any(|e| e.from == name || e.to == name);
    let mut nodes_svg = String::new();
    for (name, &(x, y, nw)) in &pos {
        let pseudo = name == EXTERNAL || name == HOST;
        if pseudo && !drawn_pseudo(name) {
            continue;
        }
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
        let (tx, ty) = (x + nw / 2.0, y + NODE_H / 2.0 + 4.5);
        taken.push(BoxF {
            x,
            y,
            w: nw,
            h: NODE_H,
        });
        let _ = writeln!(
            nodes_svg,
            r##"<g class="node{cls}" data-name="{n}"><rect x="{x}" y="{y}" width="{nw}" height="{NODE_H}" rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="2"/><text class="label" x="{tx}" y="{ty}" font-family="{FONT}" font-size="{NODE_FS}" fill="#111" text-anchor="middle">{n}</text></g>"##,
            cls = if pseudo {
                " pseudo"
            } else if violating {
                " violating"
            } else {
                ""
            },
            n = h(name),
            x = fmt(x),
            y = fmt(y),
            nw = fmt(nw),
            rx = if pseudo { 17 } else { 6 },
            tx = fmt(tx),
            ty = fmt(ty),
        );
        // Published ports at the node's left edge: up to three lines, one box height
        // apart (the third says how many more there are).
        if let Some(n) = node_of(name) {
            let lines = published_lines(n);
            for (k, (label, colour)) in lines.iter().enumerate() {
                let py = y + 1.0 + k as f64 * PUB_STEP;
                let (lx, ly) = (x - 7.0, py + 7.0);
                taken.push(BoxF::text(lx, ly, text_w(label, PUB_FS), PUB_FS, "end"));
                let _ = writeln!(
                    nodes_svg,
                    r##"<g class="published"><rect x="{px}" y="{py}" width="7" height="7" fill="{colour}"/><text class="label" x="{lx}" y="{ly}" font-family="{FONT}" font-size="{PUB_FS}" fill="{colour}" text-anchor="end">{l}</text></g>"##,
                    px = fmt(x - 4.0),
                    py = fmt(py),
                    lx = fmt(lx),
                    ly = fmt(ly),
                    l = h(label),
                );
            }
        }
    }
    // Edges: a curve between the boxes, its label at the first free place along it
    // (or beside it); a label with no free place goes to a lane below the graph, tied
    // to its curve by a dotted leader.
    let mut edges_svg = String::new();
    let mut lane_y = grid_h + 30.0;
    let mut max_x = grid_w;
    for e in drawn_edges(r) {
        let (Some(&(x1, y1, w1)), Some(&(x2, y2, w2))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        let (cy1, cy2) = (y1 + NODE_H / 2.0, y2 + NODE_H / 2.0);
        let same_col = (x1 - x2).abs() < 1.0;
        let (sx, ex) = if same_col {
            (x1 + w1, x2 + w2)
        } else if x2 + w2 / 2.0 >= x1 + w1 / 2.0 {
            (x1 + w1, x2)
        } else {
            (x1, x2 + w2)
        };
        let (mx, my) = if same_col {
            (
                sx.max(ex) + 40.0 + (cy2 - cy1).abs() * 0.15,
                (cy1 + cy2) / 2.0,
            )
        } else {
            (
                (sx + ex) / 2.0,
                (cy1 + cy2) / 2.0 - (cy2 - cy1).signum() * 12.0 - 14.0,
            )
        };
        let at = |t: f64| {
            let u = 1.0 - t;
            (
                u * u * sx + 2.0 * u * t * mx + t * t * ex,
                u * u * cy1 + 2.0 * u * t * my + t * t * cy2,
            )
        };
        let lw = text_w(&e.label, EDGE_FS);
        let mut placed = None;
        'search: for t in [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8] {
            let (px, py) = at(t);
            for dy in [-4.0, 10.0, -18.0, 24.0, -32.0, 38.0] {
                for dx in [0.0, -0.5 * lw - 6.0, 0.5 * lw + 6.0] {
                    let b = BoxF::text(px + dx, py + dy, lw, EDGE_FS, "middle");
                    if b.x > 0.0 && b.y > 0.0 && !taken.iter().any(|o| o.hits(&b)) {
                        placed = Some((px + dx, py + dy, b, None));
                        break 'search;
                    }
                }
            }
        }
        let (lx, ly, b, leader) = placed.unwrap_or_else(|| {
            let (px, py) = at(0.5);
            let lx = 20.0 + lw / 2.0;
            let ly = lane_y;
            lane_y += EDGE_FS * 1.15 + 6.0;
            (
                lx,
                ly,
                BoxF::text(lx, ly, lw, EDGE_FS, "middle"),
                Some((px, py)),
            )
        });
        taken.push(b);
        max_x = max_x.max(b.x + b.w);
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
        let leader_svg = leader.map_or(String::new(), |(px, py)| {
            format!(
                r#"<path d="M {} {} L {} {}" stroke="{stroke}" stroke-width="0.7" stroke-dasharray="1 3" fill="none"/>"#,
                fmt(lx + lw / 2.0 + 4.0),
                fmt(ly - 4.0),
                fmt(px),
                fmt(py)
            )
        });
        let _ = writeln!(
            edges_svg,
            r##"<g class="{class}" data-from="{f}" data-to="{t}"><path d="M {sx} {cy1} Q {mx} {my} {ex} {cy2}" fill="none" stroke="{stroke}" stroke-width="{sw}"{dash} marker-end="url(#{marker})"/>{leader_svg}<text class="label" x="{lx}" y="{ly}" font-family="{FONT}" font-size="{EDGE_FS}" fill="{stroke}" text-anchor="middle">{label}</text></g>"##,
            f = h(&e.from),
            t = h(&e.to),
            sx = fmt(sx),
            cy1 = fmt(cy1),
            mx = fmt(mx),
            my = fmt(my),
            ex = fmt(ex),
            cy2 = fmt(cy2),
            sw = if e.violation { "3" } else { "1.5" },
            lx = fmt(lx),
            ly = fmt(ly),
            label = h(&e.label),
        );
    }
    let width = (max_x + 40.0).ceil();
    let height = (lane_y + 20.0).ceil();
    let mut svg = String::new();
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
    // Zones, then edges, then nodes on top.
    svg.push_str(&zones_svg);
    svg.push_str(&edges_svg);
    svg.push_str(&nodes_svg);
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
    if !r.blocked.is_empty() {
        let _ = writeln!(
            body,
            "<h2>Blocked by DOCKER-USER ({} edges)</h2>",
            r.blocked.len()
        );
        body.push_str("<table id=\"blocked\"><tr><th>Edge</th><th>Reason</th><th>Rule</th></tr>\n");
        for b in &r.blocked {
            let _ = writeln!(
                body,
                "<tr class=\"blocked\"><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                h(&b.edge.label()),
                h(&b.edge.reason.describe()),
                h(&b.rule)
            );
        }
        body.push_str("</table>\n");
    }
    if let Some(obs) = &r.observed {
        let _ = writeln!(
            body,
            "<h2>Observed by moat monitor ({} flows)</h2>",
            obs.len()
        );
        body.push_str("<table id=\"observed\"><tr><th>From</th><th>To</th><th>Address</th><th>Records</th><th>Modelled</th><th>Policy</th></tr>\n");
        for o in obs {
            let _ = writeln!(
                body,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}:{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if o.allowed == Some(false) {
                    "violation"
                } else {
                    "observed"
                },
                h(&o.from),
                h(&o.to),
                h(&o.address),
                o.port,
                o.count,
                if o.modelled { "reachable" } else { "no path" },
                match o.allowed {
                    Some(true) => "allowed",
                    Some(false) => "denied",
                    None => "-",
                }
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
