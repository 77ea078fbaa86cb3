//! Sigstore's trusted root (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): the certificate
//! authorities (Fulcio) and the transparency logs (Rekor) an offline verification
//! trusts, each with its validity window.

use crate::cosign::b64;
use crate::error::VerifyError;
use crate::keys::PublicKey;
use crate::x509::Cert;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Each chain: issuing certificate first, root last.
    pub authorities: Vec<Vec<Cert>>,
    pub tlogs: Vec<Tlog>,
}

#[derive(Debug, Clone)]
pub struct Tlog {
    pub key: PublicKey,
    /// The log id: SHA-256 of the key's DER SubjectPublicKeyInfo.
    pub log_id: Vec<u8>,
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
}

#[derive(serde::Deserialize)]
struct Doc {
    #[serde(default)]
    tlogs: Vec<TlogDoc>,
    #[serde(default, rename = "certificateAuthorities")]
    certificate_authorities: Vec<CaDoc>,
}

#[derive(serde::Deserialize)]
struct TlogDoc {
    #[serde(rename = "publicKey")]
    public_key: KeyDoc,
    #[serde(rename = "logId")]
    log_id: LogIdDoc,
}

#[derive(serde::Deserialize)]
struct KeyDoc {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
    #[serde(default, rename = "validFor")]
    valid_for: Option<Window>,
}

#[derive(serde::Deserialize)]
struct LogIdDoc {
    #[serde(rename = "keyId")]
    key_id: String,
}

#[derive(serde::Deserialize)]
struct Window {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(serde::Deserialize)]
struct CaDoc {
    #[serde(rename = "certChain")]
    cert_chain: ChainDoc,
}

#[derive(serde::Deserialize)]
struct ChainDoc {
    certificates: Vec<RawDoc>,
}

#[derive(serde::Deserialize)]
struct RawDoc {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
}

fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

impl TrustedRoot {
    pub fn load(path: &Path) -> Result<TrustedRoot, VerifyError> {
        let what = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| VerifyError::material(&what, e))?;
        TrustedRoot::parse(&bytes).map_err(|m| VerifyError::material(&what, m))
    }

    pub fn parse(bytes: &[u8]) -> Result<TrustedRoot, crate::error::Why> {
        let doc: Doc = serde_json::from_slice(bytes)
            .map_err(|e| crate::error::Why(format!("not a Sigstore trusted root: {e}")))?;
        let mut authorities = Vec::new();
        for (i, ca) in doc.certificate_authorities.iter().enumerate() {
            let mut chain = Vec::new();
            for (j, c) in ca.cert_chain.certificates.iter().enumerate() {
                let der = b64(&c.raw_bytes).map_err(|e| {
                    crate::error::Why(format!("certificateAuthorities[{i}] certificate {j}: {e}"))
                })?;
                chain.push(Cert::from_der(&der).map_err(|e| {
                    crate::error::Why(format!("certificateAuthorities[{i}] certificate {j}: {e}"))
                })?);
            }
            authorities.push(chain);
        }
        let mut tlogs = Vec::new();
        for (i, t) in doc.tlogs.iter().enumerate() {
            let der = b64(&t.public_key.raw_bytes)
                .map_err(|e| crate::error::Why(format!("tlogs[{i}].publicKey: {e}")))?;
            let key = PublicKey::from_spki_der(&der)
                .map_err(|e| crate::error::Why(format!("tlogs[{i}].publicKey: {e}")))?;
            let log_id = b64(&t.log_id.key_id)
                .map_err(|e| crate::error::Why(format!("tlogs[{i}].logId: {e}")))?;
            let w = t.public_key.valid_for.as_ref();
            tlogs.push(Tlog {
                key,
                log_id,
                valid_from: w.and_then(|w| w.start.as_deref()).and_then(parse_time),
                valid_to: w.and_then(|w| w.end.as_deref()).and_then(parse_time),
            });
        }
        Ok(TrustedRoot { authorities, tlogs })
    }

    /// The log with this id.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&Tlog> {
        self.tlogs.iter().find(|t| t.log_id == log_id)
    }
}
