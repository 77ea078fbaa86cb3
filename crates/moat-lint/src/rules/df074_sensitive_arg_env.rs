//! DF074 — Potentially sensitive data in ARG or ENV.
//!
//! **What it does:** reports an `ARG` or `ENV` whose name is a known credential variable (`AWS_SECRET_ACCESS_KEY`, `GITHUB_TOKEN`, …) or contains `password`, `secret`, `private`, `token`, `username`, `api_key` or `client_key` (any case), as hadolint does.
//!
//! **Why is this bad?** build arguments and environment values are kept in the image's history and config.
//!
//! **Example:** `ARG GITHUB_TOKEN`
//!
//! **Use instead:** `RUN --mount=type=secret,id=github_token …`
//!
//! **References:** hadolint DL3064.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF074",
    title: "Potentially sensitive data in ARG or ENV",
    severity: Severity::Medium,
    target: RuleTarget::Dockerfile,
    references: &[],
    aliases: &["DL3064"],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for (ins, _, _) in cx.effective() {
            if !(ins.is("ARG") || ins.is("ENV")) {
                continue;
            }
            let words = crate::dockerfile::split_words(&ins.args);
            let names: Vec<&str> = if ins.is("ENV") && words.len() >= 2 && !words[0].contains('=') {
                vec![words[0].as_str()]
            } else {
                words.iter().map(|w| w.split('=').next().unwrap_or(w)).collect()
            };
            if let Some(n) = names.into_iter().find(|n| sensitive(n)) {
                out.at(ins, format!("{n} may hold sensitive data: use a build secret"));
            }
        }
    }
}

const NAMES: &[&str] = &[
    "VAULT_TOKEN", "VAULT_CLIENT_KEY", "TRAVIS_SUDO", "TRAVIS_SECURE_ENV_VARS", "TRAVIS_OS_NAME",
    "STRIPE_DEVICE_NAME", "STRIPE_API_KEY", "SLACK_TOKEN", "POSTGRES_PASSWORD", "OS_USERNAME",
    "OS_PASSWORD", "OPENAI_API_KEY", "OKTA_OAUTH2_CLIENTSECRET", "OKTA_OAUTH2_CLIENTID",
    "OKTA_CLIENT_TOKEN", "OKTA_CLIENT_ORGURL", "OKTA_AUTHN_GROUPID", "NPM_TOKEN", "NPM_AUTH_TOKEN",
    "HEROKU_API_USER", "HEROKU_API_KEY", "GITHUB_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GH_TOKEN",
    "GH_ENTERPRISE_TOKEN", "FOSSA_API_KEY", "FIREBASE_TOKEN", "FIREBASE_API_TOKEN",
    "FACEBOOK_APP_SECRET", "FACEBOOK_APP_ID", "FACEBOOK_ACCESS_TOKEN", "DOCKER_USERNAME",
    "DOCKER_PASSWORD", "DOCKER_EMAIL", "DOCKERHUB_PASSWORD", "CI_DEPLOY_USER", "CI_DEPLOY_PASSWORD",
    "CIRCLE_TOKEN", "CF_USERNAME", "CF_PASSWORD", "BITTREX_API_SECRET", "BITTREX_API_KEY",
    "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "APPLICATION_KEY",
];
const PARTS: &[&str] = &["username", "secret", "private", "password", "client_key", "api_key", "token"];

fn sensitive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) || PARTS.iter().any(|p| lower.contains(p))
}
