//! The dependency graph of an inventory: which package depends on which (dpkg
//! `Depends`, apk `D:`, rpm requires, npm nesting, Cargo.lock, Go build info, Python
//! `Requires-Dist`, or an SBOM's `dependencies`/`relationships`). Packages are named by
//! their PURL, as CycloneDX `bom-ref`s are.

use crate::Purl;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One package and the packages it depends on directly (sorted, no duplicates).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub package: Purl,
    pub depends_on: Vec<Purl>,
}

/// Longest dependency path searched (a path longer than this is not reported).
pub const MAX_PATH_LEN: usize = 64;

/// Merge edges into one sorted list: one entry per package, its targets sorted and
/// de-duplicated, self-edges and empty PURLs dropped.
pub fn normalize(edges: impl IntoIterator<Item = (Purl, Purl)>) -> Vec<Dependency> {
    let mut map: BTreeMap<Purl, BTreeSet<Purl>> = BTreeMap::new();
    for (from, to) in edges {
        if from.is_empty() || to.is_empty() || from == to {
            continue;
        }
        map.entry(from).or_default().insert(to);
    }
    map.into_iter()
        .map(|(package, to)| Dependency {
            package,
            depends_on: to.into_iter().collect(),
        })
        .collect()
}

/// A graph ready for path queries.
pub struct Graph<'a> {
    out: BTreeMap<&'a str, Vec<&'a str>>,
    incoming: BTreeSet<&'a str>,
}

impl<'a> Graph<'a> {
    pub fn new(deps: &'a [Dependency]) -> Graph<'a> {
        let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut incoming = BTreeSet::new();
        for d in deps {
            let v = out.entry(d.package.as_str()).or_default();
            for t in &d.depends_on {
                v.push(t.as_str());
                incoming.insert(t.as_str());
            }
        }
        Graph { out, incoming }
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The shortest path from a top-level package (one nothing depends on) to
    /// `target`, both ends included; `None` when `target` is itself top-level, not in
    /// the graph, or only reachable through a cycle. Ties go to the smallest PURLs
    /// (deterministic).
    pub fn path_to(&self, target: &str) -> Option<Vec<String>> {
        if !self.incoming.contains(target) {
            return None;
        }
        // Breadth-first search backwards from the target over reversed edges is the
        // same as forwards from every root; forwards keeps the tie-break simple.
        let roots: Vec<&str> = self
            .out
            .keys()
            .copied()
            .filter(|k| !self.incoming.contains(k))
            .collect();
        let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        let mut queue = VecDeque::new();
        for r in roots {
            depth.insert(r, 0);
            queue.push_back(r);
        }
        while let Some(n) = queue.pop_front() {
            if n == target {
                let mut path = vec![n.to_string()];
                let mut cur = n;
                while let Some(p) = prev.get(cur) {
                    path.push((*p).to_string());
                    cur = p;
                }
                path.reverse();
                return Some(path);
            }
            let d = depth.get(n).copied().unwrap_or(0);
            if d + 1 >= MAX_PATH_LEN {
                continue;
            }
            for &t in self.out.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                if !depth.contains_key(t) {
                    depth.insert(t, d + 1);
                    prev.insert(t, n);
                    queue.push_back(t);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Purl {
        Purl::parse(&format!("pkg:npm/{s}")).unwrap_or_default()
    }

    #[test]
    fn shortest_path_from_a_top_level_package() {
        let deps = normalize([
            (p("app"), p("express")),
            (p("express"), p("body-parser")),
            (p("body-parser"), p("qs")),
            (p("express"), p("qs")),
            (p("qs"), p("qs")),
            (p("other"), p("lodash")),
        ]);
        assert_eq!(deps.len(), 4);
        let g = Graph::new(&deps);
        assert_eq!(
            g.path_to("pkg:npm/qs"),
            Some(vec![
                "pkg:npm/app".to_string(),
                "pkg:npm/express".to_string(),
                "pkg:npm/qs".to_string()
            ])
        );
        // A top-level package has no path; an unknown one neither.
        assert_eq!(g.path_to("pkg:npm/app"), None);
        assert_eq!(g.path_to("pkg:npm/nothing"), None);
    }

    #[test]
    fn a_cycle_without_a_root_gives_no_path() {
        let deps = normalize([(p("a"), p("b")), (p("b"), p("a"))]);
        assert_eq!(Graph::new(&deps).path_to("pkg:npm/a"), None);
    }
}
