//! `moat verify`: is an image from a trusted source, pinned, signed, attested, and
//! does it pass the policy?
//!
//! [`Plan::new`] reads the policy, keys and trusted root before any I/O (an unreadable
//! one is an error: exit 2); [`Plan::run`] verifies each source and returns the
//! [`VerifyReport`] (rendered by moat-report). What is verified and how is described
//! in `docs/verify.md`.
//!
//! Crypto: RustCrypto crates (p256, p384, ed25519-dalek, rsa, x509-cert) rather than
//! the `sigstore` crate: the formats are small, verification is offline, and the build
//! stays lean (docs/verify.md has the numbers).

#![forbid(unsafe_code)]

mod check;
pub mod cosign;
mod engine;
mod error;
mod find;
pub mod keys;
pub mod policy;
mod sources;
mod store;
mod tlog;
mod trust;
mod x509;

pub use check::NamedKey;
pub use engine::{GateFinding, GateResult, ScanRunner};
pub use error::{VerifyError, Why};
pub use moat_report::verify::VerifyReport;
pub use policy::Policy;
pub use sources::{Target, expand};
pub use trust::TrustedRoot;

use std::path::PathBuf;

/// What `moat verify` was asked.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub policy: Option<PathBuf>,
    pub keys: Vec<PathBuf>,
    pub trusted_root: Option<PathBuf>,
    pub image: moat_image::OpenOptions,
    /// "Now" for ages and certificate checks without a log time (Unix seconds).
    pub now: i64,
}

/// A validated run: policy, keys and trusted root read.
pub struct Plan {
    policy: Option<Policy>,
    material: check::Material,
    image: moat_image::OpenOptions,
    now: i64,
}

impl Plan {
    /// Read and check everything the run needs before any network access.
    pub fn new(opts: VerifyOptions) -> Result<Plan, VerifyError> {
        let policy = opts.policy.as_deref().map(Policy::load).transpose()?;
        let mut paths: Vec<PathBuf> = opts.keys.clone();
        if let Some(p) = &policy {
            for r in &p.rules {
                let signers = r
                    .signatures
                    .iter()
                    .map(|s| &s.signer)
                    .chain(r.attestations.iter().filter_map(|a| a.signer.as_ref()));
                for s in signers {
                    if let policy::Signer::Keys(k) = s {
                        paths.extend(k.iter().cloned());
                    }
                }
            }
        }
        let mut keys: Vec<NamedKey> = Vec::new();
        for p in paths {
            let name = p.display().to_string();
            if keys.iter().any(|k| k.name == name) {
                continue;
            }
            keys.push(NamedKey {
                key: keys::PublicKey::from_file(&p)?,
                name,
            });
        }
        let root_path = opts
            .trusted_root
            .clone()
            .or_else(|| policy.as_ref().and_then(|p| p.trusted_root.clone()));
        let root = root_path.as_deref().map(TrustedRoot::load).transpose()?;
        let keyless_wanted = policy.as_ref().is_some_and(|p| {
            p.rules.iter().any(|r| {
                r.signatures
                    .iter()
                    .map(|s| &s.signer)
                    .chain(r.attestations.iter().filter_map(|a| a.signer.as_ref()))
                    .any(|s| matches!(s, policy::Signer::Keyless { .. }))
            })
        });
        if keyless_wanted && root.is_none() {
            return Err(VerifyError::material(
                opts.policy
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                "the policy names keyless identities: give --trusted-root (or trusted_root: in the policy)",
            ));
        }
        if policy.is_none() && keys.is_empty() {
            return Err(VerifyError::material(
                "moat verify",
                if root.is_some() {
                    "--trusted-root alone would accept any identity its CA certified: give a \
                     --policy naming the issuer and subject, or --key"
                } else {
                    "nothing to verify against: give --policy or --key"
                },
            ));
        }
        Ok(Plan {
            policy,
            material: check::Material { keys, root },
            image: opts.image,
            now: opts.now,
        })
    }

    /// Verify every image of every source, in order.
    pub fn run(
        &self,
        sources: &[String],
        scan: Option<&dyn ScanRunner>,
    ) -> Result<VerifyReport, VerifyError> {
        let mut targets = Vec::new();
        for s in sources {
            targets.extend(expand(s)?);
        }
        let cx = engine::Ctx {
            policy: self.policy.as_ref(),
            material: &self.material,
            now: self.now,
            scan,
        };
        let mut report = VerifyReport::default();
        for t in &targets {
            report
                .images
                .push(engine::verify_target(t, &cx, &self.image)?);
        }
        report.passed = report.images.iter().all(|i| i.passed());
        Ok(report)
    }

    /// Whether a policy with a scan gate is in force (the binary then provides a scanner).
    pub fn wants_scan(&self) -> bool {
        self.policy
            .as_ref()
            .is_some_and(|p| p.rules.iter().any(|r| r.scan.is_some()))
    }
}
