//! A self-contained HTML report (inline CSS and script, no external resources).

use moat_model::Report as ScanReport;
use moat_model::VulnFinding;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

const TEMPLATE: &str = include_str!("report.html");

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    ecosystem: String,
    path: &'a str,
    layer: &'a str,
    created_by: &'a str,
    vulns: Vec<&'a VulnFinding>,
}

/// The scan report as one self-contained HTML page.
pub fn scan(r: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    let mut groups: BTreeMap<(&str, &str, &str), Group<'_>> = BTreeMap::new();
    for v in &r.vulnerabilities {
        let g = groups
            .entry((&v.package.name, &v.package.version, &v.path))
            .or_insert_with(|| Group {
                name: &v.package.name,
                ecosystem: v.package.ecosystem.to_string(),
                path: &v.path,
                layer: &v.layer,
                created_by: r.layer_created_by(&v.layer).unwrap_or(""),
                vulns: Vec::new(),
            });
        g.vulns.push(v);
    }
    for g in groups.values_mut() {
        g.vulns.sort_by(|a, b| a.priority_cmp(b));
    }
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(io::Error::other)?;
    let tmpl = env.get_template("report.html").map_err(io::Error::other)?;
    // Packages in the priority order of their most pressing finding.
    let mut groups: Vec<Group<'_>> = groups.into_values().collect();
    groups.sort_by(|a, b| a.vulns[0].priority_cmp(b.vulns[0]));
    let out = tmpl
        .render(
            minijinja::context! { r => r, groups => groups, content => crate::content::html(r)? },
        )
        .map_err(io::Error::other)?;
    w.write_all(out.as_bytes())
}
