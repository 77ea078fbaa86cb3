//! Public keys (ECDSA P-256/P-384, Ed25519, RSA PKCS#1 v1.5) read from PEM or DER
//! SubjectPublicKeyInfo, and signature verification over a message.

use crate::error::{VerifyError, Why};
use sha2_11::{Digest, Sha256, Sha384, Sha512};

/// A hash a signature was made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(msg).to_vec(),
            Hash::Sha384 => Sha384::digest(msg).to_vec(),
            Hash::Sha512 => Sha512::digest(msg).to_vec(),
        }
    }
}

/// A verifying key.
#[derive(Clone)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(rsa::PublicKey),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.algorithm())
    }
}

impl PublicKey {
    /// From DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, Why> {
        use spki::DecodePublicKey;
        let info = spki::SubjectPublicKeyInfoRef::try_from(der)
            .map_err(|e| Why(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let alg = info.algorithm.oid.to_string();
        let param = info
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
            .map(|o| o.to_string());
        match (alg.as_str(), param.as_deref()) {
            ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => {
                p256::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P256)
                    .map_err(|e| Why(format!("bad P-256 key: {e}")))
            }
            ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => {
                p384::ecdsa::VerifyingKey::from_public_key_der(der)
                    .map(PublicKey::P384)
                    .map_err(|e| Why(format!("bad P-384 key: {e}")))
            }
            ("1.2.840.10045.2.1", c) => {
                Err(format!("unsupported elliptic curve {}", c.unwrap_or("(none)")).into())
            }
            ("1.3.101.112", _) => ed25519_dalek::VerifyingKey::from_public_key_der(der)
                .map(PublicKey::Ed25519)
                .map_err(|e| Why(format!("bad Ed25519 key: {e}"))),
            ("1.2.840.113549.1.1.1", _) => rsa::PublicKey::from_public_key_der(der)
                .map(PublicKey::Rsa)
                .map_err(|e| Why(format!("bad RSA key: {e}"))),
            (o, _) => Err(format!("unsupported key algorithm {o}").into()),
        }
    }

    /// From PEM text: `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY` (PKCS#1).
    pub fn from_pem(text: &str) -> Result<PublicKey, Why> {
        let (label, der) = pem_decode(text)?;
        match label.as_str() {
            "PUBLIC KEY" => PublicKey::from_spki_der(&der),
            "RSA PUBLIC KEY" => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                rsa::PublicKey::from_pkcs1_der(&der)
                    .map(PublicKey::Rsa)
                    .map_err(|e| Why(format!("bad RSA key: {e}")))
            }
            l => Err(format!("a PEM {l:?} block is not a public key").into()),
        }
    }

    /// Read a key file (PEM); the error names the file.
    pub fn from_file(path: &std::path::Path) -> Result<PublicKey, VerifyError> {
        let what = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| VerifyError::material(&what, e))?;
        if meta.len() > 64 * 1024 {
            return Err(VerifyError::material(
                &what,
                "over 64 KiB: not a public key",
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| VerifyError::material(&what, e))?;
        PublicKey::from_pem(&text).map_err(|e| VerifyError::material(&what, e))
    }

    pub fn algorithm(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "ecdsa-p256",
            PublicKey::P384(_) => "ecdsa-p384",
            PublicKey::Ed25519(_) => "ed25519",
            PublicKey::Rsa(_) => "rsa",
        }
    }

    /// Verify `sig` over `msg`: ECDSA signatures in DER (or raw r||s), hashed with
    /// `hash`; Ed25519 over the message itself; RSA PKCS#1 v1.5 with `hash`.
    pub fn verify(&self, msg: &[u8], sig: &[u8], hash: Hash) -> Result<(), Why> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let bad = |e: &dyn std::fmt::Display| Why(format!("the signature does not verify ({e})"));
        match self {
            PublicKey::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(sig)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
                    .map_err(|e| Why(format!("malformed ECDSA signature: {e}")))?;
                let s = s.normalize_s();
                k.verify_prehash(&hash.digest(msg), &s).map_err(|e| bad(&e))
            }
            PublicKey::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(sig)
                    .or_else(|_| p384::ecdsa::Signature::from_slice(sig))
                    .map_err(|e| Why(format!("malformed ECDSA signature: {e}")))?;
                let s = s.normalize_s();
                k.verify_prehash(&hash.digest(msg), &s).map_err(|e| bad(&e))
            }
            PublicKey::Ed25519(k) => {
                let s = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|e| Why(format!("malformed Ed25519 signature: {e}")))?;
                k.verify_strict(msg, &s).map_err(|e| bad(&e))
            }
            PublicKey::Rsa(k) => {
                let s = rsa::pkcs1v15::Signature::try_from(sig)
                    .map_err(|e| Why(format!("malformed RSA signature: {e}")))?;
                let r = match hash {
                    Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k.clone())
                        .verify_prehash(&hash.digest(msg), &s),
                    Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(k.clone())
                        .verify_prehash(&hash.digest(msg), &s),
                    Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(k.clone())
                        .verify_prehash(&hash.digest(msg), &s),
                };
                r.map_err(|e| bad(&e))
            }
        }
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        use spki::EncodePublicKey;
        let r = match self {
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::P384(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
            PublicKey::Rsa(k) => k.to_public_key_der(),
        };
        r.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// `sha256:` of the DER SubjectPublicKeyInfo, the first 16 hex digits.
    pub fn fingerprint(&self) -> String {
        let h = hex::encode(Sha256::digest(self.to_spki_der()));
        format!("sha256:{}", &h[..16])
    }
}

/// The label and bytes of the first PEM block of `text`.
pub fn pem_decode(text: &str) -> Result<(String, Vec<u8>), Why> {
    pem_blocks(text)
        .into_iter()
        .next()
        .ok_or_else(|| Why::from("no PEM block (-----BEGIN ...-----)"))?
}

/// Every PEM block of `text`, in order.
pub fn pem_blocks(text: &str) -> Vec<Result<(String, Vec<u8>), Why>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        let Some(label) = l
            .trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut b64 = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            if l.trim() == end {
                closed = true;
                break;
            }
            b64.push_str(l.trim());
        }
        if !closed {
            out.push(Err(format!("PEM block {label:?} is not terminated").into()));
            break;
        }
        out.push(
            base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map(|d| (label.to_string(), d))
                .map_err(|e| format!("PEM block {label:?}: bad base64: {e}").into()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert!(
            PublicKey::from_pem("hello")
                .unwrap_err()
                .0
                .contains("no PEM block")
        );
        let e = PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            .unwrap_err();
        assert!(e.0.contains("SubjectPublicKeyInfo"), "{e}");
        let e =
            PublicKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .unwrap_err();
        assert!(e.0.contains("not a public key"), "{e}");
    }
}
