//! The rule registry: one file per rule, one static slice.
//!
//! Every rule implements [`Rule`]: it returns its static [`RuleMeta`] and checks the
//! targets it understands (a Dockerfile, a compose file, a daemon.json, an image
//! config). `moat rules` and the docs are generated from [`RULES`].

use crate::compose::Compose;
use crate::daemon::Daemon;
use crate::dockerfile::{Dockerfile, Instruction};
use crate::image_input::ImageInput;
use crate::shell::Script;
use moat_model::{ConfigFinding, RuleMeta};

mod labels;
mod pm;

mod prelude {
    pub use super::{DfCtx, Rule, Sink};
    pub use crate::dockerfile::{ImageRef, Instruction};
    pub use crate::shell::Command;
    pub use moat_model::container::{At, ContainerSpec, Namespace};
    pub use moat_model::{RuleMeta, RuleTarget, Severity};
}

/// A lint rule.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn dockerfile(&self, _cx: &DfCtx<'_>, _out: &mut Sink<'_>) {}
    fn compose(&self, _c: &Compose, _out: &mut Sink<'_>) {}
    fn daemon(&self, _d: &Daemon, _out: &mut Sink<'_>) {}
    fn image(&self, _i: &ImageInput<'_>, _out: &mut Sink<'_>) {}
}

/// Where a rule writes its findings.
pub struct Sink<'a> {
    pub path: &'a str,
    pub meta: &'static RuleMeta,
    pub findings: &'a mut Vec<ConfigFinding>,
}

impl Sink<'_> {
    /// Report a finding. Control characters of the path and message (they quote
    /// input: file names, image names, variables) are escaped for the terminal.
    pub fn report(&mut self, line: u32, column: u32, message: impl Into<String>) {
        let message = message.into();
        let message = match moat_model::escape_control(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(m) => m,
        };
        let path = moat_model::escape_control(self.path);
        self.findings
            .push(self.meta.finding(&path, line, column, message));
    }
    /// Report at an instruction's keyword.
    pub fn at(&mut self, ins: &Instruction, message: impl Into<String>) {
        self.report(ins.line, ins.column, message);
    }
}

/// What some rules need to know beyond the file: hadolint's configuration keys
/// (`trustedRegistries`, `label-schema`, `strict-labels`). Empty by default: the rules
/// that need it then report nothing, as in hadolint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleConfig {
    /// Registries `FROM` may name (`docker.io`, `*.example.com`, `*`); empty: any.
    pub trusted_registries: Vec<String>,
    /// Labels every stage must set, with the type of their value.
    pub label_schema: std::collections::BTreeMap<String, LabelType>,
    /// Labels not in the schema are reported (DL3050).
    pub strict_labels: bool,
}

/// The type of a label's value in a label schema (hadolint's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LabelType {
    Text,
    Url,
    Rfc3339,
    Spdx,
    Hash,
    Semver,
    Email,
}

impl LabelType {
    /// hadolint's spelling in `.hadolint.yaml` (`text`, `url`, `rfc3339`, `spdx`,
    /// `hash`, `semver`, `email`).
    pub fn parse(s: &str) -> Option<LabelType> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "text" => LabelType::Text,
            "url" => LabelType::Url,
            "rfc3339" => LabelType::Rfc3339,
            "spdx" => LabelType::Spdx,
            "hash" => LabelType::Hash,
            "semver" => LabelType::Semver,
            "email" => LabelType::Email,
            _ => return None,
        })
    }
}

static NO_CONFIG: RuleConfig = RuleConfig {
    trusted_registries: Vec::new(),
    label_schema: std::collections::BTreeMap::new(),
    strict_labels: false,
};

/// A Dockerfile with each `RUN`'s shell script parsed once.
pub struct DfCtx<'a> {
    pub df: &'a Dockerfile,
    /// The configuration rules read (trusted registries, label schema).
    pub config: &'a RuleConfig,
    /// Parallel to `df.instructions`: the parsed script of each `RUN`.
    pub scripts: Vec<Option<Script>>,
    /// The first stage of each (lower-cased) name.
    pub first_stage: std::collections::HashMap<String, usize>,
    /// Lower-cased base images of every stage (`FROM x` names `x`).
    pub bases: std::collections::HashSet<String>,
}

impl<'a> DfCtx<'a> {
    pub fn new(df: &'a Dockerfile) -> Self {
        Self::with_config(df, &NO_CONFIG)
    }
    pub fn with_config(df: &'a Dockerfile, config: &'a RuleConfig) -> Self {
        let scripts = df
            .instructions
            .iter()
            .map(|i| {
                let r = i.onbuild.as_deref().unwrap_or(i);
                r.is("RUN").then(|| Script::parse(&r.shell_script()))
            })
            .collect();
        let mut first_stage = std::collections::HashMap::new();
        let mut bases = std::collections::HashSet::new();
        for (i, s) in df.stages.iter().enumerate() {
            if let Some(n) = &s.name {
                first_stage.entry(n.clone()).or_insert(i);
            }
            bases.insert(s.image.to_ascii_lowercase());
        }
        DfCtx {
            df,
            config,
            scripts,
            first_stage,
            bases,
        }
    }
    /// Is there a stage named `name` (lower-cased) before stage `before`?
    pub fn named_before(&self, name: &str, before: usize) -> bool {
        self.first_stage.get(name).is_some_and(|&i| i < before)
    }
    /// Every `RUN` with its script; an `ONBUILD RUN` gives its inner `RUN` (at the
    /// `ONBUILD`'s position), as hadolint lints the instruction inside `ONBUILD`.
    pub fn runs(&self) -> impl Iterator<Item = (&'a Instruction, &Script)> + '_ {
        self.df
            .instructions
            .iter()
            .zip(self.scripts.iter())
            .filter_map(|(i, s)| s.as_ref().map(|s| (i.onbuild.as_deref().unwrap_or(i), s)))
    }
    /// Every instruction, with the one inside each `ONBUILD` in place of the `ONBUILD`
    /// (`(instruction, inside ONBUILD)`), and its script when it is a `RUN`.
    pub fn effective(&self) -> impl Iterator<Item = (&'a Instruction, bool, Option<&Script>)> + '_ {
        self.df
            .instructions
            .iter()
            .zip(self.scripts.iter())
            .map(|(i, s)| match i.onbuild.as_deref() {
                Some(inner) => (inner, true, s.as_ref()),
                None => (i, false, s.as_ref()),
            })
    }
    /// Whether stage `stage` ends up in an image: the final stage, one another stage
    /// builds on (`FROM <stage>`), or no stage at all. A builder stage's files are
    /// thrown away.
    pub fn stage_ships(&self, stage: Option<usize>) -> bool {
        match stage {
            None => true,
            Some(i) => {
                i + 1 == self.df.stages.len()
                    || self
                        .df
                        .stages
                        .get(i)
                        .and_then(|s| s.name.as_ref())
                        .is_some_and(|n| self.bases.contains(n))
            }
        }
    }
    /// Instructions of the final stage.
    pub fn last_stage(&self) -> impl Iterator<Item = &'a Instruction> + '_ {
        let last = self.df.stages.len().checked_sub(1);
        self.df
            .instructions
            .iter()
            .filter(move |i| last.is_some() && i.stage == last)
    }
}

macro_rules! rules {
    ($($m:ident),* $(,)?) => {
        $(pub mod $m;)*
        /// Every rule, sorted by code.
        pub static RULES: &[&dyn Rule] = &[$(&$m::This),*];
    };
}

rules!(
    df001_last_user_root,
    df002_missing_user,
    df003_untagged_image,
    df004_latest_tag,
    df005_add_url,
    df006_add_instead_of_copy,
    df007_secret_env_arg,
    df008_copy_secret_file,
    df009_curl_pipe_shell,
    df010_sudo,
    df011_apt_pin,
    df012_apt_lists_cleanup,
    df013_apt_no_recommends,
    df014_apt_yes,
    df015_apt_not_apt_get,
    df016_apk_pin,
    df017_apk_no_cache,
    df018_pip_pin,
    df019_pip_no_cache,
    df020_npm_pin,
    df021_gem_pin,
    df022_go_install_pin,
    df023_no_healthcheck,
    df024_sensitive_port,
    df025_invalid_port,
    df026_chmod_world_writable,
    df027_package_upgrade,
    df028_update_alone,
    df029_cd_in_run,
    df030_relative_workdir,
    df031_copy_from_unknown,
    df032_copy_from_self,
    df033_duplicate_alias,
    df034_json_cmd,
    df035_multiple_cmd,
    df036_multiple_entrypoint,
    df037_multiple_healthcheck,
    df038_maintainer,
    df039_pipefail,
    df040_wget_and_curl,
    df041_pointless_command,
    df042_copy_dest_slash,
    df043_copy_relative_no_workdir,
    df044_copy_whole_fs,
    df045_from_platform,
    df046_useradd_no_log_init,
    df047_first_from,
    df048_parse_error,
    df049_yum_yes,
    df050_yum_clean,
    df051_yum_pin,
    df052_dnf_yes,
    df053_dnf_clean,
    df054_dnf_pin,
    df056_env_self_reference,
    df057_onbuild_forbidden,
    df058_non_numeric_user,
    df059_insecure_run,
    df060_zypper_non_interactive,
    df061_zypper_dist_upgrade,
    df062_zypper_clean,
    df063_zypper_pin,
    df064_shell_symlink,
    df065_consecutive_run,
    df066_yarn_cache,
    df067_wget_progress,
    df068_label_key,
    df069_copy_then_extract,
    df070_trusted_registry,
    df071_redundant_target_platform,
    df072_inline_ignore,
    df073_reserved_stage_name,
    df074_sensitive_arg_env,
    df075_label_missing,
    df076_label_superfluous,
    df077_label_url,
    df078_label_time,
    df079_label_spdx,
    df080_label_hash,
    df081_label_semver,
    df082_label_email,
    df083_label_empty,
    dc001_privileged,
    dc002_dangerous_cap_add,
    dc003_host_network,
    dc004_host_namespaces,
    dc005_sensitive_mount,
    dc006_unconfined_profile,
    dc007_no_user,
    dc008_exposed_sensitive_port,
    dc009_no_memory_limit,
    dc010_no_cpu_limit,
    dc011_no_pids_limit,
    dc012_writable_rootfs,
    dc013_no_new_privileges,
    dc014_secret_in_environment,
    dc015_unpinned_image,
    dc016_default_network_only,
    dc017_host_devices,
    dc018_compose_reference,
    dd001_icc,
    dd002_userns_remap,
    dd003_live_restore,
    dd004_no_new_privileges,
    dd005_tcp_without_tls,
    dd006_insecure_registries,
    dd007_logging,
    dd008_userland_proxy,
    dd009_iptables_disabled,
    ic001_root_user,
    ic002_no_healthcheck,
    ic003_secret_in_env,
    ic004_secret_in_history,
    ic005_setuid_files,
    ic006_sensitive_port,
);

/// The rule with this code or alias (case-insensitive).
pub fn find(code: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| {
        let m = r.meta();
        m.code.eq_ignore_ascii_case(code) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(code))
    })
}

/// Metadata of every rule, sorted by code.
pub fn metas() -> Vec<&'static RuleMeta> {
    let mut v: Vec<_> = RULES.iter().map(|r| r.meta()).collect();
    v.sort_by_key(|m| m.code);
    v
}

// ---- helpers shared by Dockerfile rules ----

/// The `install` (or other subcommand) arguments of a package-manager command.
pub(crate) fn sub_args<'c>(c: &'c Command, sub: &str) -> Option<&'c [String]> {
    // The subcommand is the first positional argument.
    let args = c.args();
    let mut skip_next = false;
    for (i, a) in args.iter().enumerate() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if a.starts_with('-') {
            // Options of apt-get that take a value as the next word.
            if matches!(
                a.as_str(),
                "-o" | "-c" | "-t" | "--option" | "--config-file" | "--target-release"
            ) {
                skip_next = true;
            }
            continue;
        }
        return if a == sub { args.get(i + 1..) } else { None };
    }
    None
}

use crate::shell::Command;

/// Positional package arguments (not options, not option values handled by `takes_value`).
pub(crate) fn packages<'c>(args: &'c [String], takes_value: &[&str]) -> Vec<&'c String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a.starts_with('-') {
            if takes_value.contains(&a.as_str()) {
                skip = true;
            }
            continue;
        }
        out.push(a);
    }
    out
}

/// Does any `apt-get`/`apt` command of the script run `sub`?
pub(crate) fn apt_sub<'s>(
    s: &'s Script,
    names: &'s [&'s str],
    sub: &'s str,
) -> impl Iterator<Item = (&'s Command, &'s [String])> + 's {
    s.named(names)
        .filter_map(move |c| sub_args(c, sub).map(|a| (c, a)))
}
