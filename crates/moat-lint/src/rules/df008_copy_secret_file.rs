//! DF008 — `COPY`/`ADD` of a private key or credentials file.
//!
//! **What it does:** reports copying files such as `id_rsa`, `*.pem`, `*.key`, `.env`,
//! `.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, `.aws/credentials`,
//! `.docker/config.json` into the image.
//!
//! **Why is this bad?** every layer is readable by whoever pulls the image; deleting
//! the file later does not remove it from the earlier layer.
//!
//! **Example:** `COPY id_rsa /root/.ssh/id_rsa`
//!
//! **Use instead:** `RUN --mount=type=ssh` or `--mount=type=secret`.
//!
//! **References:** CIS Docker 4.10, CWE-312, Dockle CIS-DI-0010.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF008",
    title: "Private key or credentials file copied into the image",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CIS-4.10", "CWE-312"],
    aliases: &["CIS-DI-0010"],
};

/// Does this path name a key or credentials file?
pub fn is_secret_file(path: &str) -> bool {
    let p = path.trim_end_matches('/').to_ascii_lowercase();
    let base = p.rsplit('/').next().unwrap_or(&p);
    matches!(
        base,
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | ".env" | ".npmrc" | ".pypirc" | ".netrc"
            | ".git-credentials" | "credentials.json" | ".htpasswd" | "secrets.yml" | "secrets.yaml"
    ) || base.ends_with(".pem") && !base.contains("cert") && !base.contains("ca")
        || base.ends_with(".key")
        || base.ends_with(".p12")
        || base.ends_with(".pfx")
        || p.ends_with(".aws/credentials")
        || p.ends_with(".docker/config.json")
        || p.ends_with(".ssh")
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("COPY") || i.is("ADD")) {
            if ins.flag("from").is_some() || !ins.heredocs.is_empty() {
                continue;
            }
            let w = ins.words();
            let srcs = &w[..w.len().saturating_sub(1)];
            if let Some(s) = srcs.iter().find(|s| is_secret_file(s)) {
                out.at(ins, format!("{} puts {s} into an image layer", ins.keyword));
            }
        }
    }
}
