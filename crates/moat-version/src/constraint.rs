//! Version constraints: the range syntaxes of npm, cargo, PEP 440, RubyGems, and a
//! generic `>=, <` list for every scheme.

use crate::{Scheme, VersionError, compare, gem, pep440, semver};
use std::cmp::Ordering;

/// Which constraint language a string is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Syntax {
    /// node-semver ranges (`^1.2`, `~1.2.3`, `1.x`, `>=1 <2 || 3.x`, `1 - 2`).
    Npm,
    /// Cargo requirements (`^1.2`, `~1`, `*`, `=1.2.3`, `>=1, <2`; bare = caret),
    /// evaluated by the `semver` crate, which is what cargo itself uses.
    Cargo,
    /// PEP 440 specifier sets (`~=1.4`, `==1.*`, `!=1.5`, `===x`, `>=1,<2`).
    Pep440,
    /// RubyGems requirements (`~> 1.2`, `>= 1.0, < 2`).
    Gem,
    /// `op version` clauses in the given scheme: `,` or space = and, `||` = or;
    /// ops `= == != < <= > >=` (none = `=`). An empty constraint matches everything.
    /// Plain comparisons, except that PEP 440 bounds without a local label ignore
    /// the version's local label.
    Generic(Scheme),
}

impl Syntax {
    /// The scheme versions are parsed in.
    pub fn scheme(self) -> Scheme {
        match self {
            Syntax::Npm | Syntax::Cargo => Scheme::Semver,
            Syntax::Pep440 => Scheme::Pep440,
            Syntax::Gem => Scheme::Gem,
            Syntax::Generic(s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Inner {
    Npm(semver::Range),
    Cargo(::semver::VersionReq),
    Pep440(pep440::SpecifierSet),
    Gem(gem::Requirement),
    Generic(Scheme, Vec<Vec<(Op, String)>>),
}

/// A parsed constraint; invalid ones cannot exist.
#[derive(Debug, Clone)]
pub struct Constraint {
    syntax: Syntax,
    raw: String,
    inner: Inner,
}

fn parse_generic(scheme: Scheme, input: &str) -> Result<Vec<Vec<(Op, String)>>, VersionError> {
    let err = |r: &str| VersionError::new(scheme, input, format!("invalid constraint: {r}"));
    let mut groups = Vec::new();
    for group in input.split("||") {
        let mut clauses = Vec::new();
        let toks: Vec<&str> = group
            .split([',', ' ', '\t'])
            .filter(|t| !t.is_empty())
            .collect();
        let mut pending: Option<Op> = None;
        for t in toks {
            const OPS: [(&str, Op); 7] = [
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("=", Op::Eq),
                ("<", Op::Lt),
                (">", Op::Gt),
            ];
            let (op, rest) = match OPS.iter().find(|(o, _)| t.starts_with(o)) {
                Some((o, op)) => (Some(*op), &t[o.len()..]),
                None => (None, t),
            };
            if rest.is_empty() {
                if pending.is_some() || op.is_none() {
                    return Err(err("operator without a version"));
                }
                pending = op;
                continue;
            }
            let op = match (pending.take(), op) {
                (Some(_), Some(_)) => return Err(err("two operators")),
                (Some(p), None) | (None, Some(p)) => p,
                (None, None) => Op::Eq,
            };
            if rest.starts_with(['<', '>', '=', '!', '~', '^']) {
                return Err(err("unknown operator"));
            }
            crate::validate(scheme, rest)?;
            clauses.push((op, rest.to_string()));
        }
        if pending.is_some() {
            return Err(err("operator without a version"));
        }
        groups.push(clauses);
    }
    Ok(groups)
}

/// Compare in a generic clause. PEP 440: a bound without a local label compares
/// with the version's public part (PEP 440's rule), so `6.4+cgr.1 <= 6.4`.
fn clause_cmp(scheme: Scheme, v: &str, bound: &str) -> Result<Ordering, VersionError> {
    if scheme == Scheme::Pep440 {
        let b = pep440::Version::parse(bound)?;
        let mut x = pep440::Version::parse(v)?;
        if b.local.is_none() {
            x = x.public();
        }
        return Ok(x.cmp(&b));
    }
    compare(scheme, v, bound)
}

impl Constraint {
    /// Parse `input` in `syntax`.
    pub fn parse(syntax: Syntax, input: &str) -> Result<Constraint, VersionError> {
        let inner = match syntax {
            Syntax::Npm => Inner::Npm(semver::Range::parse(input)?),
            Syntax::Cargo => Inner::Cargo(::semver::VersionReq::parse(input).map_err(|e| {
                VersionError::new(
                    Scheme::Semver,
                    input,
                    format!("invalid cargo requirement: {e}"),
                )
            })?),
            Syntax::Pep440 => Inner::Pep440(pep440::SpecifierSet::parse(input)?),
            Syntax::Gem => Inner::Gem(gem::Requirement::parse(input)?),
            Syntax::Generic(s) => Inner::Generic(s, parse_generic(s, input)?),
        };
        Ok(Constraint {
            syntax,
            raw: input.to_string(),
            inner,
        })
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// The constraint as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether version `v` satisfies the constraint (an error if `v` does not parse).
    pub fn satisfies(&self, v: &str) -> Result<bool, VersionError> {
        Ok(match &self.inner {
            Inner::Npm(r) => r.satisfies(&semver::Version::parse(v)?),
            Inner::Cargo(r) => r.matches(
                &::semver::Version::parse(v.trim())
                    .map_err(|e| VersionError::new(Scheme::Semver, v, e.to_string()))?,
            ),
            Inner::Pep440(s) => s.contains(&pep440::Version::parse(v)?),
            Inner::Gem(r) => r.satisfied_by(&gem::Version::parse(v)?),
            Inner::Generic(scheme, groups) => {
                crate::validate(*scheme, v)?;
                let mut any = false;
                for g in groups {
                    let mut all = true;
                    for (op, bound) in g {
                        let o = clause_cmp(*scheme, v, bound)?;
                        let ok = match op {
                            Op::Eq => o == Ordering::Equal,
                            Op::Ne => o != Ordering::Equal,
                            Op::Lt => o == Ordering::Less,
                            Op::Le => o != Ordering::Greater,
                            Op::Gt => o == Ordering::Greater,
                            Op::Ge => o != Ordering::Less,
                        };
                        if !ok {
                            all = false;
                            break;
                        }
                    }
                    if all {
                        any = true;
                        break;
                    }
                }
                any
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic() {
        let c = Constraint::parse(Syntax::Generic(Scheme::Dpkg), "> 1.0, < 2.0 || >= 3").unwrap();
        assert!(c.satisfies("1.5").unwrap());
        assert!(!c.satisfies("2.5").unwrap());
        assert!(c.satisfies("3~rc1").is_ok_and(|b| !b));
        assert!(Constraint::parse(Syntax::Generic(Scheme::Dpkg), ">= a").is_err());
        let cargo = Constraint::parse(Syntax::Cargo, "1.2").unwrap();
        assert!(cargo.satisfies("1.9.0").unwrap());
        assert!(!cargo.satisfies("2.0.0").unwrap());
    }
}
