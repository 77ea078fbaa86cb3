//! Matching a stored or uploaded inventory, and the `findings` rows of a report.

use crate::error::{Error, Result};
use crate::store::{Stmt, Val};
use moat_model::report::Report;
use moat_model::{Inventory, VulnFinding};
use std::collections::BTreeMap;
use std::path::Path;

pub fn open_advisories(path: &Path) -> Result<moat_db::Database> {
    moat_db::Database::open_read_only(path)
        .map_err(|e| Error::Scan(format!("{}: {e}", path.display())))
}

/// A report of an inventory matched against `db` (vulnerabilities only).
pub fn match_inventory(db: &moat_db::Database, inv: &Inventory, source: &str) -> Result<Report> {
    let out = moat_match::matcher::match_packages(db, &inv.packages, inv.distro.as_ref())
        .map_err(|e| Error::Scan(e.to_string()))?;
    let mut report = Report {
        schema_version: moat_model::report::SCHEMA_VERSION,
        tool: moat_model::report::Tool::default(),
        created: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        source: source.to_string(),
        distro: inv.distro.clone(),
        packages: inv.packages.clone(),
        unknowns: inv.unknowns.clone(),
        vulnerabilities: out.findings,
        warnings: out.warnings,
        ..Default::default()
    };
    report.finish();
    report.remediations = moat_scan::remediation::plan(&report);
    Ok(report)
}

/// The key of a finding in the `findings` table.
pub type FindingKey = (String, String, String);

pub fn finding_rows(report: &Report) -> BTreeMap<FindingKey, &VulnFinding> {
    report
        .vulnerabilities
        .iter()
        .map(|f| {
            (
                (
                    f.id.as_str().to_string(),
                    f.package.name.clone(),
                    f.package.version.clone(),
                ),
                f,
            )
        })
        .collect()
}

/// `INSERT INTO findings` statements for `rows` of the image `(tenant, reference)`.
pub fn insert_findings(
    tenant: &str,
    reference: &str,
    rows: &[(&FindingKey, &VulnFinding)],
    now: i64,
) -> Vec<Stmt> {
    rows.chunks(50)
        .map(|chunk| {
            let mut sql = String::from(
                "INSERT INTO findings (image_id, tenant, vuln_id, package, version, ecosystem, \
                 severity, severity_rank, fixed, title, first_seen_ms) SELECT i.id, v.* FROM \
                 (SELECT id FROM images WHERE tenant = $1 AND reference = $2) i, (",
            );
            let mut params: Vec<Val> = vec![tenant.into(), reference.into()];
            for (n, (k, f)) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push_str(" UNION ALL ");
                }
                let b = params.len();
                sql.push_str(&format!(
                    "SELECT CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT)",
                    b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10
                ));
                params.extend([
                    tenant.into(),
                    k.0.as_str().into(),
                    k.1.as_str().into(),
                    k.2.as_str().into(),
                    f.package.ecosystem.to_string().into(),
                    f.severity.as_str().into(),
                    (f.severity as i64).into(),
                    f.fixed_versions.join(", ").into(),
                    f.title.as_str().into(),
                    now.into(),
                ]);
            }
            sql.push_str(") v");
            Stmt::new(sql, params)
        })
        .collect()
}
