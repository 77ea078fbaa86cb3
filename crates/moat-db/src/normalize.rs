//! Package-name normalization: the key the index is built on.

/// The name under which `name` is indexed in `ecosystem` (an OSV ecosystem name).
///
/// - PyPI: PEP 503 (lowercase; runs of `-`, `_`, `.` become one `-`).
/// - NuGet, Packagist, crates.io, RubyGems... names that the registry treats
///   case-insensitively are lowercased (crates.io, NuGet, Packagist).
/// - Everything else (distributions, npm, Go, Maven) is kept as published.
///
/// The matcher must look packages up through this same function.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        "PyPI" => pep503(name),
        "NuGet" | "Packagist" | "crates.io" => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_examples() {
        assert_eq!(normalize_name("PyPI", "Django"), "django");
        assert_eq!(normalize_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(normalize_name("PyPI", "Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(normalize_name("crates.io", "Serde"), "serde");
        assert_eq!(normalize_name("Debian:12", "Perl"), "Perl");
        assert_eq!(normalize_name("Go", "github.com/A/b"), "github.com/A/b");
    }
}
