//! DC007 — Service does not set a user.
//!
//! **What it does:** reports services without `user` (the image's user, often root, applies).
//!
//! **Why is this bad?** unless the image sets a non-root USER, the service runs as root.
//!
//! **Example:** `a service without user:`
//!
//! **Use instead:** `user: "10001:10001"`.
//!
//! **References:** CIS-5.x, CWE-250.
use super::prelude::*;
use crate::compose::Compose;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DC007",
    title: "Service does not set a user",
    severity: Severity::Medium,
    target: RuleTarget::Compose,
    references: &["CIS-4.1", "CWE-250"],
    aliases: &[],
};

/// What the shared check (compose DC007, live audit CC114) finds about the user.
pub enum RootUser<'a> {
    /// No user is set: the image's user applies, often root.
    Unset,
    /// The user is root.
    Root(&'a At<String>),
}

/// The shared check: does the container run as root (or leave it to the image)?
pub fn check(spec: &ContainerSpec) -> Option<RootUser<'_>> {
    match &spec.user {
        None => Some(RootUser::Unset),
        Some(u) if moat_model::container::is_root_user(&u.value) => Some(RootUser::Root(u)),
        Some(_) => None,
    }
}

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn compose(&self, c: &Compose, out: &mut Sink<'_>) {
        for s in c.specs() {
            let at = s.pos.unwrap_or_default();
            match check(s) {
                None => {}
                Some(RootUser::Root(u)) => {
                    let l = u.pos.map(|p| p.key_line).unwrap_or(at.line);
                    out.report(l, at.column, format!("service {} runs as {}", s.name, u.value));
                }
                Some(RootUser::Unset) => out.report(at.line, at.column, format!("service {} sets no user: it runs as the image user, often root", s.name)),
            }
        }
    }
}
