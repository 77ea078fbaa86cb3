//! The documents of cosign and Sigstore: the simple-signing payload, DSSE envelopes and
//! in-toto statements, cosign's Rekor bundle annotation, the Sigstore bundle (v0.1–v0.3),
//! and where each is found in a registry.

use base64::Engine;
use std::collections::BTreeMap;

pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const ANN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
pub const ANN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
pub const ANN_CHAIN: &str = "dev.sigstore.cosign/chain";
pub const ANN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
pub const BUNDLE_MEDIA_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The predicate cosign (v3) uses when it signs an image as a DSSE statement.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

pub fn b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s.as_bytes()))
}

/// `{"critical": {"identity": {"docker-reference"}, "image": {"docker-manifest-digest"},
/// "type"}, "optional": {...}}`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    #[serde(default)]
    pub optional: Option<serde_json::Value>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Critical {
    #[serde(default)]
    pub identity: Option<Identity>,
    pub image: ImageClaim,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Identity {
    #[serde(default, rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct ImageClaim {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

/// A DSSE envelope.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub payload: String,
    #[serde(default)]
    pub signatures: Vec<EnvSig>,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct EnvSig {
    #[serde(default)]
    pub keyid: String,
    pub sig: String,
}

/// DSSE's pre-authentication encoding: what is really signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

/// An in-toto statement (v0.1 or v1).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub kind: String,
    #[serde(default)]
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: serde_json::Value,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Whether a subject names `digest` (`sha256:HEX`).
    pub fn names(&self, digest: &str) -> bool {
        let Some((alg, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|s| {
            s.digest
                .get(alg)
                .is_some_and(|h| h.eq_ignore_ascii_case(hex))
        })
    }

    /// The subjects' digests, for messages.
    pub fn subject_digests(&self) -> String {
        let v: Vec<String> = self
            .subject
            .iter()
            .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
            .collect();
        if v.is_empty() {
            "no subject".into()
        } else {
            v.join(", ")
        }
    }

    /// SLSA provenance: builder id (v0.2 `builder.id`, v1 `runDetails.builder.id`).
    pub fn builder_id(&self) -> Option<String> {
        let p = &self.predicate;
        p.pointer("/runDetails/builder/id")
            .or_else(|| p.pointer("/builder/id"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// SLSA provenance: materials (v0.2) or resolved dependencies (v1), `uri@alg:hex`.
    pub fn materials(&self) -> Vec<String> {
        let p = &self.predicate;
        let list = p
            .pointer("/buildDefinition/resolvedDependencies")
            .or_else(|| p.get("materials"))
            .and_then(|v| v.as_array());
        let mut out: Vec<String> = list
            .into_iter()
            .flatten()
            .map(|m| {
                let uri = m.get("uri").and_then(|u| u.as_str()).unwrap_or("?");
                let d = m
                    .get("digest")
                    .and_then(|d| d.as_object())
                    .and_then(|d| d.iter().next())
                    .map(|(a, h)| format!("@{a}:{}", h.as_str().unwrap_or("")))
                    .unwrap_or_default();
                format!("{uri}{d}")
            })
            .collect();
        out.truncate(50);
        out
    }
}

/// cosign's `dev.sigstore.cosign/bundle` annotation (a Rekor entry with its SET).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    pub payload: RekorPayload,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct RekorPayload {
    pub body: String,
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    #[serde(rename = "logID")]
    pub log_id: String,
}

/// A Sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json` and earlier).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Bundle {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    #[serde(rename = "verificationMaterial")]
    pub verification_material: VerificationMaterial,
    #[serde(default, rename = "messageSignature")]
    pub message_signature: Option<MessageSignature>,
    #[serde(default, rename = "dsseEnvelope")]
    pub dsse_envelope: Option<Envelope>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct VerificationMaterial {
    #[serde(default)]
    pub certificate: Option<RawBytes>,
    #[serde(default, rename = "x509CertificateChain")]
    pub x509_certificate_chain: Option<Chain>,
    #[serde(default, rename = "publicKey")]
    pub public_key: Option<KeyHint>,
    #[serde(default, rename = "tlogEntries")]
    pub tlog_entries: Vec<TlogEntry>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct RawBytes {
    #[serde(rename = "rawBytes")]
    pub raw_bytes: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Chain {
    #[serde(default)]
    pub certificates: Vec<RawBytes>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct KeyHint {
    #[serde(default)]
    pub hint: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct MessageSignature {
    #[serde(default, rename = "messageDigest")]
    pub message_digest: Option<MessageDigest>,
    pub signature: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct MessageDigest {
    pub algorithm: String,
    pub digest: String,
}

/// A transparency-log entry of a bundle (numbers are strings in the JSON encoding of
/// protobuf int64; both are accepted).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TlogEntry {
    #[serde(rename = "logIndex", deserialize_with = "int64")]
    pub log_index: i64,
    #[serde(rename = "logId")]
    pub log_id: LogId,
    #[serde(rename = "integratedTime", deserialize_with = "int64")]
    pub integrated_time: i64,
    #[serde(default, rename = "inclusionPromise")]
    pub inclusion_promise: Option<Promise>,
    #[serde(default, rename = "inclusionProof")]
    pub inclusion_proof: Option<InclusionProof>,
    #[serde(rename = "canonicalizedBody")]
    pub canonicalized_body: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct LogId {
    #[serde(rename = "keyId")]
    pub key_id: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Promise {
    #[serde(rename = "signedEntryTimestamp")]
    pub signed_entry_timestamp: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct InclusionProof {
    #[serde(rename = "logIndex", deserialize_with = "int64")]
    pub log_index: i64,
    #[serde(rename = "rootHash")]
    pub root_hash: String,
    #[serde(rename = "treeSize", deserialize_with = "int64")]
    pub tree_size: i64,
    #[serde(default)]
    pub hashes: Vec<String>,
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Checkpoint {
    pub envelope: String,
}

fn int64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::Deserialize;
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum N {
        I(i64),
        S(String),
    }
    match N::deserialize(d)? {
        N::I(i) => Ok(i),
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

/// The tag cosign stores signatures (`.sig`), attestations (`.att`) or the referrers
/// fallback index (no suffix) of `digest` under.
pub fn tag_for(digest: &str, suffix: &str) -> String {
    format!("{}{suffix}", digest.replacen(':', "-", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_encoding() {
        assert_eq!(
            pae("application/vnd.in-toto+json", b"hi"),
            b"DSSEv1 28 application/vnd.in-toto+json 2 hi".to_vec()
        );
    }

    #[test]
    fn cosign_tags() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            tag_for(&d, ".sig"),
            format!("sha256-{}.sig", "ab".repeat(32))
        );
    }
}
