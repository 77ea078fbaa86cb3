//! Ruby: installed gems (`specifications/*.gemspec`) and `Gemfile.lock`.

use crate::{CatalogError, Cataloger, Ctx, Found, Selector, package, purl, text};
use moat_fs::FileMeta;
use moat_model::Ecosystem;

pub struct Gemspecs;
pub struct GemfileLock;

fn first_quoted(s: &str) -> Option<&str> {
    quoted_span(s).map(|(v, _)| v)
}

/// The first quoted value of `s` and the byte offset just past its closing quote.
fn quoted_span(s: &str) -> Option<(&str, usize)> {
    let q = s.find(['"', '\''])?;
    let quote = s[q..].chars().next()?;
    let rest = &s[q + 1..];
    let end = rest.find(quote)?;
    Some((&rest[..end], q + 1 + end + 1))
}

/// (name, version, licenses) of an installed gemspec (`s.name = "x".freeze`).
pub fn parse_gemspec(s: &str) -> Option<(String, String, Vec<String>)> {
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    for line in s.lines() {
        let t = line.trim();
        let Some((lhs, rhs)) = t.split_once('=') else {
            continue;
        };
        let lhs = lhs.trim();
        let field = lhs.rsplit('.').next().unwrap_or("");
        if !lhs.contains('.') {
            continue;
        }
        match field {
            "name" if name.is_none() => name = first_quoted(rhs).map(str::to_string),
            "version" if version.is_none() => version = first_quoted(rhs).map(str::to_string),
            "license" | "licenses" => {
                let mut r = rhs;
                while let Some((l, next)) = quoted_span(r) {
                    licenses.push(l.to_string());
                    r = r.get(next..).unwrap_or("");
                }
            }
            _ => {}
        }
    }
    Some((name?, version?, licenses))
}

impl Cataloger for Gemspecs {
    fn name(&self) -> &'static str {
        "ruby-gemspec"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/specifications/**/*.gemspec"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        let (n, v, l) = parse_gemspec(&text(&data)).ok_or("no name or version in gemspec")?;
        let mut p = package(&n, &v, Ecosystem::Gem, purl::simple("gem", &n, &v), file);
        p.licenses = l;
        found.packages.push(p);
        Ok(())
    }
}

/// (name, version) of the `specs:` sections of a Gemfile.lock (platform suffixes such as
/// `-x86_64-linux` removed).
pub fn parse_gemfile_lock(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_specs = false;
    for line in s.lines() {
        if !line.starts_with(' ') {
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        if in_specs && line.starts_with("    ") && !line.starts_with("     ") {
            let t = line.trim();
            if let Some((n, v)) = t.split_once(" (") {
                let v = v.trim_end_matches(')');
                let v = match v.find('-') {
                    Some(i) => &v[..i],
                    None => v,
                };
                out.push((n.to_string(), v.to_string()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Cataloger for GemfileLock {
    fn name(&self) -> &'static str {
        "ruby-gemfile-lock"
    }
    fn selector(&self) -> Selector {
        Selector::Globs(&["**/Gemfile.lock"])
    }
    fn parse(&self, ctx: &Ctx<'_>, file: &FileMeta, found: &mut Found) -> Result<(), CatalogError> {
        let data = ctx.read_meta(file)?;
        for (n, v) in parse_gemfile_lock(&text(&data)) {
            found.packages.push(package(
                &n,
                &v,
                Ecosystem::Gem,
                purl::simple("gem", &n, &v),
                file,
            ));
        }
        Ok(())
    }
}
