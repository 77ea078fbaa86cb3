//! Verifying one signature or envelope: with a public key, or keyless (certificate
//! chain to the trusted root at the time the transparency log recorded, log evidence,
//! log body about this very signature).

use crate::cosign::b64;
use crate::error::Why;
use crate::keys::{Hash, PublicKey};
use crate::tlog::{self, Entry};
use crate::trust::TrustedRoot;
use crate::x509::{Cert, verify_chain};
use sha2_11::{Digest, Sha256};

/// A public key given on the command line or in the policy.
#[derive(Debug, Clone)]
pub struct NamedKey {
    /// As the user wrote it (a path).
    pub name: String,
    pub key: PublicKey,
}

impl NamedKey {
    /// `name (sha256:…)`.
    pub fn id(&self) -> String {
        format!("{} ({})", self.name, self.key.fingerprint())
    }
}

/// What a run trusts.
#[derive(Debug, Clone, Default)]
pub struct Material {
    pub keys: Vec<NamedKey>,
    pub root: Option<TrustedRoot>,
}

/// Who made a signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedBy {
    /// Index into [`Material::keys`].
    Key(usize),
    Identity {
        issuer: String,
        /// Every SAN of the certificate (e-mail addresses, URIs).
        subjects: Vec<String>,
    },
}

/// The cryptographic parts of one signature.
#[derive(Debug, Clone)]
pub struct RawSig {
    /// What was signed: the payload, or DSSE's PAE of it.
    pub message: Vec<u8>,
    /// The payload the log entry hashes (the payload itself for both).
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    /// Leaf first; empty for a keyed signature.
    pub certs: Vec<Cert>,
    pub tlog: Vec<Entry>,
    pub dsse: bool,
}

/// Verify `sig` with `m`; the reason when it does not.
pub fn verify(sig: &RawSig, m: &Material) -> Result<(SignedBy, String), Why> {
    if let Some(leaf) = sig.certs.first() {
        return verify_keyless(sig, leaf, m);
    }
    if m.keys.is_empty() {
        return Err("a keyed signature, and no --key (or policy key) to check it with".into());
    }
    let mut last = None;
    for (i, k) in m.keys.iter().enumerate() {
        match k.key.verify(&sig.message, &sig.signature, Hash::Sha256) {
            Ok(()) => {
                let mut how = format!("verified with {}", k.id());
                if let Some(root) = &m.root
                    && !sig.tlog.is_empty()
                {
                    let leaf_key = k.key.to_spki_der();
                    let t = verify_log(sig, root, &Evidence::Key(&leaf_key))?;
                    how.push_str(&format!("; transparency log: {t}"));
                }
                return Ok((SignedBy::Key(i), how));
            }
            Err(e) => last = Some(e),
        }
    }
    let names: Vec<String> = m.keys.iter().map(|k| k.name.clone()).collect();
    Err(Why(format!(
        "does not verify with {} ({}): wrong key or tampered payload{}",
        if names.len() == 1 {
            "the key"
        } else {
            "any of the keys"
        },
        names.join(", "),
        last.map(|e| format!(" [{e}]")).unwrap_or_default()
    )))
}

enum Evidence<'a> {
    Cert(&'a Cert),
    Key(&'a [u8]),
}

fn verify_keyless(sig: &RawSig, leaf: &Cert, m: &Material) -> Result<(SignedBy, String), Why> {
    let Some(root) = &m.root else {
        return Err(
            "a keyless (certificate) signature, and no --trusted-root to check it against".into(),
        );
    };
    if sig.tlog.is_empty() {
        return Err("a keyless signature without a transparency-log entry: when it was made cannot be proven".into());
    }
    let t = verify_log(sig, root, &Evidence::Cert(leaf))?;
    let at = sig
        .tlog
        .iter()
        .map(|e| e.integrated_time)
        .min()
        .unwrap_or(0);
    verify_chain(leaf, &root.authorities, at)?;
    leaf.public_key()?
        .verify(&sig.message, &sig.signature, Hash::Sha256)
        .map_err(|e| Why(format!("certificate key: {e}")))?;
    let issuer = leaf.oidc_issuer().ok_or_else(|| {
        Why::from("the certificate names no OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8)")
    })?;
    let subjects = leaf.san_identities();
    if subjects.is_empty() {
        return Err("the certificate has no subject alternative name".into());
    }
    Ok((
        SignedBy::Identity { issuer, subjects },
        format!("certificate chains to the trusted root; transparency log: {t}"),
    ))
}

/// Every log entry verifies and one is about this signature.
fn verify_log(sig: &RawSig, root: &TrustedRoot, ev: &Evidence) -> Result<String, Why> {
    let mut done = Vec::new();
    for e in &sig.tlog {
        let how = tlog::verify(e, root)?;
        body_matches(&e.body()?, sig, ev)?;
        done.push(how);
    }
    Ok(done.join("; "))
}

/// The log body (hashedrekord, dsse or intoto) is about this payload and signature.
fn body_matches(body: &[u8], sig: &RawSig, ev: &Evidence) -> Result<(), Why> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Why(format!("log entry body is not JSON: {e}")))?;
    let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let spec = v.get("spec").cloned().unwrap_or_default();
    let payload_hash = hex::encode(Sha256::digest(&sig.payload));
    let same_sig = |s: Option<&str>| {
        s.and_then(|s| b64(s).ok())
            .is_some_and(|d| d == sig.signature)
    };
    let same_key = |s: Option<&str>| -> bool {
        let Some(pem) = s
            .and_then(|s| b64(s).ok())
            .map(|d| String::from_utf8_lossy(&d).into_owned())
        else {
            return false;
        };
        match ev {
            Evidence::Cert(c) => Cert::from_pem_all(&pem)
                .ok()
                .and_then(|v| v.into_iter().next())
                .is_some_and(|x| x.der == c.der),
            Evidence::Key(der) => PublicKey::from_pem(&pem).is_ok_and(|k| k.to_spki_der() == *der),
        }
    };
    let ok = match kind {
        "hashedrekord" if !sig.dsse => {
            spec.pointer("/data/hash/value").and_then(|x| x.as_str()) == Some(payload_hash.as_str())
                && same_sig(spec.pointer("/signature/content").and_then(|x| x.as_str()))
                && same_key(
                    spec.pointer("/signature/publicKey/content")
                        .and_then(|x| x.as_str()),
                )
        }
        "dsse" => {
            spec.pointer("/payloadHash/value").and_then(|x| x.as_str())
                == Some(payload_hash.as_str())
                && spec
                    .get("signatures")
                    .and_then(|s| s.as_array())
                    .is_some_and(|a| {
                        a.iter().any(|s| {
                            same_sig(s.get("signature").and_then(|x| x.as_str()))
                                && same_key(s.get("verifier").and_then(|x| x.as_str()))
                        })
                    })
        }
        "intoto" => {
            spec.pointer("/content/payloadHash/value")
                .and_then(|x| x.as_str())
                == Some(payload_hash.as_str())
        }
        k => {
            return Err(Why(format!(
                "log entry of kind {k:?} is not about a signature moat checks"
            )));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Why(format!(
            "the {kind} log entry is about another payload, signature or key than this one"
        )))
    }
}
