//! DF018 — `pip install` without version pins.
//!
//! **What it does:** reports `pip install pkg` where a package has no version
//! specifier (`==`, `>=`, `~=`, `@`…); requirement files, constraints, local paths,
//! archives and VCS URLs are accepted.
//!
//! **Why is this bad?** builds are not reproducible; a hijacked release lands unnoticed.
//!
//! **Example:** `RUN pip install requests`
//!
//! **Use instead:** `RUN pip install requests==2.32.3` or `-r requirements.txt`.
//!
//! **References:** hadolint DL3013.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF018",
    title: "Pin versions in pip install",
    severity: Severity::Low,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3013"],
};

/// The arguments after `install` of a pip invocation (`pip`, `pip3.12`, `python -m pip`).
pub(crate) fn pip_install(c: &Command) -> Option<&[String]> {
    let n = c.name();
    let is_pip = n == "pip" || n.starts_with("pip3") || n.starts_with("pip2");
    let is_py = n.starts_with("python");
    if is_pip {
        return super::sub_args(c, "install");
    }
    if is_py {
        let a = c.args();
        let m = a.iter().position(|w| w == "-m")?;
        if a.get(m + 1).map(String::as_str) == Some("pip") && a.get(m + 2).map(String::as_str) == Some("install") {
            return a.get(m + 3..);
        }
    }
    None
}

const TAKES_VALUE: &[&str] = &[
    "-c", "--constraint", "-e", "--editable", "-t", "--target", "--platform", "--python-version",
    "--implementation", "--abi", "--root", "--prefix", "--src", "--upgrade-strategy", "-i",
    "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "--cache-dir",
    "--progress-bar", "--log", "--proxy", "--retries", "--timeout", "--exists-action", "--cert",
    "--client-cert", "--only-binary", "--no-binary", "--report", "--config-settings", "-C",
];

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, s) in cx.runs() {
            let bad = s.commands.iter().filter_map(pip_install).any(|args| {
                if args.iter().any(|a| a == "-c" || a.starts_with("--constraint")) {
                    return false;
                }
                let mut skip = false;
                args.iter().any(|a| {
                    if skip {
                        skip = false;
                        return false;
                    }
                    if a == "-r" || a == "--requirement" {
                        skip = true;
                        return false;
                    }
                    if a.starts_with('-') {
                        skip = TAKES_VALUE.contains(&a.as_str());
                        return false;
                    }
                    // A VCS URL is pinned by `@<ref>` after the repository path.
                    if let Some(url) = a.strip_prefix("git+") {
                        let path = url.split('#').next().unwrap_or(url);
                        let last = path.rsplit('/').next().unwrap_or(path);
                        return !last.contains('@');
                    }
                    let pinned = ["==", ">=", "<=", "~=", "!=", "<", ">", "@"].iter().any(|op| a.contains(op))
                        || a.contains('/')
                        || a.starts_with('.')
                        || a.ends_with(".whl")
                        || a.ends_with(".tar.gz")
                        || a.ends_with(".zip")
                        || a.contains('$');
                    !pinned
                })
            });
            if bad {
                out.at(ins, "pin versions in pip install: use <package>==<version> or a requirements file");
            }
        }
    }
}
