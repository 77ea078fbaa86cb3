//! What a re-match needs to know to skip inventories an advisory update does not touch.
//!
//! A package is looked up in the advisory database under one key: the advisory
//! namespace its matcher asks (`PyPI`, `npm`, `Debian:12`, …) and its normalized name
//! (for OS packages, the source package's) — exactly what moat-match's [`MATCHERS`]
//! query. The findings of an inventory are a function of the affected entries under its
//! keys, so an inventory none of whose keys changed keeps the same findings.
//!
//! Every stored image records its keys (`image_packages`). A key's *print* is a SHA-256
//! of its affected entries (advisory id, source, scope, withdrawn, ranges, versions; not
//! the database's row numbers, which a rebuild renumbers). `advisory_prints` holds the
//! print each key had in the database the stored findings were matched with; a
//! re-match computes the prints again, and only inventories with a key whose print
//! changed (or was never recorded) are matched again.

use crate::error::{Error, Result};
use crate::store::{Stmt, Val};
use moat_match::MATCHERS;
use moat_model::Inventory;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// (advisory namespace, normalized package name).
pub type Key = (String, String);

/// Keys and their prints.
pub type Prints = BTreeMap<Key, String>;

/// The lookup keys of an inventory's packages.
pub fn package_keys(inv: &Inventory) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for p in &inv.packages {
        if let Some(Ok(q)) = MATCHERS
            .iter()
            .find_map(|m| m.query(p, inv.distro.as_ref()))
        {
            let name = moat_db::normalize_name(&q.namespace, &q.name);
            keys.insert((q.namespace, name));
        }
    }
    keys
}

/// The print of one key in `db`.
pub fn print(db: &moat_db::Database, key: &Key) -> Result<String> {
    let mut entries = db
        .affected_for(&key.0, &key.1)
        .map_err(|e| Error::Scan(format!("{}: {e}", db.path().display())))?;
    for e in &mut entries {
        e.advisory_row = 0;
    }
    let text = serde_json::to_vec(&entries).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(&text)))
}

/// The prints of `keys` in `db`.
pub fn prints<'a>(
    db: &moat_db::Database,
    keys: impl IntoIterator<Item = &'a Key>,
) -> Result<Prints> {
    keys.into_iter()
        .map(|k| Ok((k.clone(), print(db, k)?)))
        .collect()
}

/// `INSERT`s of rows into a table of (…, namespace, name[, print]) in chunks, `lead`
/// being the fixed leading values of every row (e.g. the image id).
fn insert_rows(table_cols: &str, lead: &[Val], rows: Vec<Vec<Val>>, conflict: &str) -> Vec<Stmt> {
    rows.chunks(200)
        .map(|chunk| {
            let mut sql = format!("INSERT INTO {table_cols} VALUES ");
            let mut params: Vec<Val> = Vec::new();
            for (n, row) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                let all: Vec<&Val> = lead.iter().chain(row.iter()).collect();
                for (i, v) in all.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    params.push((*v).clone());
                    let cast = if matches!(v, Val::I(_)) {
                        "BIGINT"
                    } else {
                        "TEXT"
                    };
                    sql.push_str(&format!("CAST(${} AS {cast})", params.len()));
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(conflict);
            Stmt::new(sql, params)
        })
        .collect()
}

/// Statements that replace the keys of the image `(tenant, reference)` and mark it keyed.
pub fn store_image_keys(tenant: &str, reference: &str, keys: &BTreeSet<Key>) -> Vec<Stmt> {
    let image = "(SELECT id FROM images WHERE tenant = $1 AND reference = $2)";
    let mut out = vec![
        Stmt::new(
            format!("DELETE FROM image_packages WHERE image_id = {image}"),
            vec![tenant.into(), reference.into()],
        ),
        Stmt::new(
            "UPDATE images SET keyed = 1 WHERE tenant = $1 AND reference = $2",
            vec![tenant.into(), reference.into()],
        ),
    ];
    for chunk in keys.iter().collect::<Vec<_>>().chunks(200) {
        let mut sql = String::from(
            "INSERT INTO image_packages (image_id, namespace, name) SELECT i.id, k.ns, k.nm FROM \
             (SELECT id FROM images WHERE tenant = $1 AND reference = $2) i, (",
        );
        let mut params: Vec<Val> = vec![tenant.into(), reference.into()];
        for (n, (ns, nm)) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push_str(" UNION ALL ");
            }
            let b = params.len();
            sql.push_str(&format!(
                "SELECT CAST(${} AS TEXT) AS ns, CAST(${} AS TEXT) AS nm",
                b + 1,
                b + 2
            ));
            params.push(ns.as_str().into());
            params.push(nm.as_str().into());
        }
        // SQLite needs a WHERE before an upsert clause after a SELECT.
        sql.push_str(") k WHERE 1 = 1 ON CONFLICT (image_id, namespace, name) DO NOTHING");
        out.push(Stmt::new(sql, params));
    }
    out
}

/// Record prints of keys that have none yet (a key's first image was matched with them).
pub fn insert_new_prints(prints: &Prints) -> Vec<Stmt> {
    insert_rows(
        "advisory_prints (namespace, name, print)",
        &[],
        prints
            .iter()
            .map(|((ns, nm), p)| vec![ns.into(), nm.into(), p.into()])
            .collect(),
        "ON CONFLICT (namespace, name) DO NOTHING",
    )
}

/// Record `prints` (the re-match matched every inventory touched by a change with them).
pub fn upsert_prints(prints: &Prints) -> Vec<Stmt> {
    insert_rows(
        "advisory_prints (namespace, name, print)",
        &[],
        prints
            .iter()
            .map(|((ns, nm), p)| vec![ns.into(), nm.into(), p.into()])
            .collect(),
        "ON CONFLICT (namespace, name) DO UPDATE SET print = excluded.print",
    )
}

/// Record the changed keys of a re-match job.
pub fn insert_changed(job: i64, keys: &BTreeSet<Key>) -> Vec<Stmt> {
    insert_rows(
        "rematch_keys (job_id, namespace, name)",
        &[job.into()],
        keys.iter()
            .map(|(ns, nm)| vec![ns.into(), nm.into()])
            .collect(),
        "ON CONFLICT (job_id, namespace, name) DO NOTHING",
    )
}
