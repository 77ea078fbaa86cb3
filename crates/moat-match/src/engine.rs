//! Engine and runtime components (dockerd, containerd, runc) for `moat audit`'s patch
//! level check (DV101): looked up with the same verdict as every package of a scan
//! (withdrawn advisories dropped, ranges evaluated in the namespace's version scheme),
//! by source package in the distribution's namespace when the distribution installed
//! the binary, else as the Go module at its upstream version.

use crate::matcher::{MatchError, fixed_versions, verdict};
use moat_db::{Advisory, Database};
use std::collections::BTreeMap;

/// One advisory affecting a component, with the fixed versions of the entry that matched.
#[derive(Debug, Clone)]
pub struct ComponentHit {
    pub advisory: Advisory,
    pub fixed: Vec<String>,
}

/// Every advisory of `namespace` affecting `version` of `name`, once each, sorted by id.
pub fn affecting(
    db: &Database,
    namespace: &str,
    name: &str,
    version: &str,
) -> Result<Vec<ComponentHit>, MatchError> {
    let mut hits: BTreeMap<String, ComponentHit> = BTreeMap::new();
    for e in db.affected_for(namespace, name)? {
        if verdict(&e, version).is_err() {
            continue;
        }
        let Some(advisory) = db.advisory_by_row(e.advisory_row)? else {
            continue;
        };
        let fixed = fixed_versions(&e.ranges);
        hits.entry(advisory.id.clone())
            .and_modify(|h| {
                h.fixed.extend(fixed.iter().cloned());
                h.fixed.sort();
                h.fixed.dedup();
            })
            .or_insert(ComponentHit { advisory, fixed });
    }
    Ok(hits.into_values().collect())
}
