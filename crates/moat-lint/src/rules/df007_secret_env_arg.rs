//! DF007 — a secret in `ENV` or `ARG`.
//!
//! **What it does:** reports `ENV`/`ARG` whose name looks like a credential
//! (`PASSWORD`, `SECRET`, `TOKEN`, `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`…) and that
//! gives it a literal value (an `ARG` without a value is reported too: its build-time
//! value ends up in the image history).
//!
//! **Why is this bad?** `ENV` values are stored in the image config and `ARG` values in
//! its history: anyone who can pull the image reads them.
//!
//! **Example:** `ENV DB_PASSWORD=hunter2`
//!
//! **Use instead:** `RUN --mount=type=secret,id=db_password …` or runtime secrets.
//!
//! **References:** CIS Docker 4.10, CWE-798, Dockle CIS-DI-0010.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF007",
    title: "Secret in ENV or ARG",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.10", "CWE-798"],
    aliases: &["CIS-DI-0010", "SecretsUsedInArgOrEnv"],
};

/// Does this variable name look like it holds a credential?
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    const HIT: &[&str] = &[
        "PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY",
        "ACCESS_KEY", "SECRET_KEY", "CREDENTIAL", "AUTH_KEY",
    ];
    // Names that merely point at a secret (a file, a path, a username) are fine.
    const SAFE: &[&str] = &["_FILE", "_PATH", "_DIR", "_URL", "_USER", "_NAME", "_LENGTH", "_ENABLED", "_TYPE"];
    if SAFE.iter().any(|s| n.ends_with(s)) || n == "PWD" {
        return false;
    }
    n.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| HIT.iter().any(|h| !h.contains('_') && part == *h))
        || HIT.iter().filter(|h| h.contains('_')).any(|h| n.contains(h))
}

/// Does this value look like a real literal (not empty, not a variable reference)?
pub fn is_literal_value(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty() && !v.starts_with('$') && !matches!(v.to_ascii_lowercase().as_str(), "true" | "false" | "yes" | "no" | "none" | "null" | "changeme" | "\"\"" | "''")
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in &cx.df.instructions {
            let env = ins.is("ENV");
            if !env && !ins.is("ARG") {
                continue;
            }
            let words = ins.words();
            // Legacy `ENV NAME value` form.
            if env && words.len() >= 2 && !words[0].contains('=') {
                if is_secret_name(&words[0]) && is_literal_value(&words[1..].join(" ")) {
                    out.at(ins, format!("ENV {} holds a secret in the image config", words[0]));
                }
                continue;
            }
            for w in &words {
                let (name, val) = match w.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (w.as_str(), None),
                };
                if !is_secret_name(name) {
                    continue;
                }
                match (env, val) {
                    (_, Some(v)) if is_literal_value(v) => out.at(
                        ins,
                        format!("{} {name} holds a secret in the image {}", ins.keyword, if env { "config" } else { "history" }),
                    ),
                    (false, None) => out.at(
                        ins,
                        format!("ARG {name}: build arguments are recorded in the image history; use a secret mount"),
                    ),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names() {
        assert!(is_secret_name("DB_PASSWORD"));
        assert!(is_secret_name("GITHUB_TOKEN"));
        assert!(is_secret_name("AWS_SECRET_ACCESS_KEY"));
        assert!(!is_secret_name("PASSWORD_FILE"));
        assert!(!is_secret_name("GPG_KEY"));
        assert!(!is_secret_name("PYTHON_VERSION"));
    }
}
