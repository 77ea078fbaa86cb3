//! DF059 — `RUN --security=insecure` or `RUN --network=host`.
//!
//! **What it does:** reports BuildKit `RUN` options that lift the build sandbox:
//! `--security=insecure` (a privileged build step) and `--network=host`.
//!
//! **Why is this bad?** a privileged build step runs with every capability and host
//! devices; host networking reaches the build host's local services. A malicious
//! dependency fetched in that step owns the builder.
//!
//! **Example:** `RUN --security=insecure make install`
//!
//! **Use instead:** build without the entitlement; use `--mount=type=secret` or
//! `--mount=type=ssh` for access that is really needed.
//!
//! **References:** CWE-250, Docker BuildKit entitlements.
use super::prelude::*;

pub struct This;
pub static META: RuleMeta = RuleMeta {
    code: "DF059",
    title: "RUN lifts the build sandbox (--security=insecure, --network=host)",
    severity: Severity::High,
    target: RuleTarget::Dockerfile,
    references: &["CWE-250"],
    aliases: &[],
};

impl Rule for This {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn dockerfile(&self, cx: &DfCtx<'_>, out: &mut Sink<'_>) {
        for ins in cx.df.instructions.iter().filter(|i| i.is("RUN")) {
            if ins.flag_value("security") == Some("insecure") {
                out.at(ins, "RUN --security=insecure runs this step privileged");
            }
            if ins.flag_value("network") == Some("host") {
                out.at(ins, "RUN --network=host gives this step the build host's network");
            }
        }
    }
}
