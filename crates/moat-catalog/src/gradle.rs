//! Gradle: `gradle.lockfile` (and per-configuration `gradle/dependency-locks/*.lockfile`),
//! one `group:artifact:version=configurations` line per locked module.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;

pub struct GradleLock;

/// (`group:artifact`, version) of each locked module; comments and `empty=` skipped.
pub fn parse_gradle_lockfile(s: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let coord = l.split('=').next()?.trim();
            let mut parts = coord.split(':');
            let (g, a, v) = (parts.next()?, parts.next()?, parts.next()?);
            (parts.next().is_none() && !g.is_empty() && !a.is_empty() && !v.is_empty())
                .then(|| (format!("{g}:{a}"), v.to_string()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Cataloger for GradleLock {
    fn name(&self) -> &'static str {
        "java-gradle-lockfile"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&[
            "**/gradle.lockfile",
            "**/gradle/dependency-locks/*.lockfile",
        ])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (ga, v) in parse_gradle_lockfile(&text(&data)) {
            let Some((g, a)) = ga.split_once(':') else {
                continue;
            };
            // Named by artifact, as the jar cataloger names Maven packages.
            found.packages.push(package(
                a,
                &v,
                Ecosystem::Maven,
                purl::maven(g, a, &v),
                file,
            ));
        }
        Ok(())
    }
}
