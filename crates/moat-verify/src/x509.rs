//! Certificates for keyless signatures: parse a DER/PEM certificate, verify a chain up to
//! a certificate authority of the trusted root at a given time, read the Fulcio identity
//! (subject alternative name and OIDC issuer extension).

use crate::error::Why;
use crate::keys::{Hash, PublicKey};
use der::{Decode, Encode};
use x509_cert::Certificate;

/// Fulcio's OIDC issuer extensions: v2 (a DER UTF8String) and v1 (raw bytes).
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

/// A parsed certificate and its DER.
#[derive(Clone, Debug)]
pub struct Cert {
    pub der: Vec<u8>,
    pub cert: Certificate,
}

impl Cert {
    pub fn from_der(der: &[u8]) -> Result<Cert, Why> {
        let cert =
            Certificate::from_der(der).map_err(|e| Why(format!("malformed certificate: {e}")))?;
        Ok(Cert {
            der: der.to_vec(),
            cert,
        })
    }

    /// Every `CERTIFICATE` block of PEM text, in order.
    pub fn from_pem_all(text: &str) -> Result<Vec<Cert>, Why> {
        let mut out = Vec::new();
        for b in crate::keys::pem_blocks(text) {
            let (label, der) = b?;
            if label == "CERTIFICATE" {
                out.push(Cert::from_der(&der)?);
            }
        }
        if out.is_empty() {
            return Err("no PEM certificate".into());
        }
        Ok(out)
    }

    pub fn public_key(&self) -> Result<PublicKey, Why> {
        let spki = self
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Why(format!("certificate key: {e}")))?;
        PublicKey::from_spki_der(&spki)
    }

    /// `(not_before, not_after)` as Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let v = self.cert.tbs_certificate().validity();
        let s = |t: x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (s(v.not_before), s(v.not_after))
    }

    pub fn subject_name(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    fn is_ca(&self) -> bool {
        self.cert
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, b)| b.ca)
    }

    /// Whether `issuer` signed this certificate (names chain and the signature verifies).
    pub fn verify_signed_by(&self, issuer: &Cert) -> Result<(), Why> {
        let tbs = self.cert.tbs_certificate();
        let (Ok(a), Ok(b)) = (
            tbs.issuer().to_der(),
            issuer.cert.tbs_certificate().subject().to_der(),
        ) else {
            return Err("unreadable certificate names".into());
        };
        if a != b {
            return Err(Why(format!(
                "issued by {:?}, not by {:?}",
                tbs.issuer().to_string(),
                issuer.subject_name()
            )));
        }
        let oid = self.cert.signature_algorithm().oid.to_string();
        let hash = match oid.as_str() {
            "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => Hash::Sha256,
            "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => Hash::Sha384,
            "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => Hash::Sha512,
            "1.3.101.112" => Hash::Sha512,
            o => {
                return Err(Why(format!(
                    "unsupported certificate signature algorithm {o}"
                )));
            }
        };
        let tbs_der = tbs.to_der().map_err(|e| Why(format!("certificate: {e}")))?;
        let sig = self
            .cert
            .signature()
            .as_bytes()
            .ok_or_else(|| Why::from("certificate signature has unused bits"))?;
        issuer
            .public_key()?
            .verify(&tbs_der, sig, hash)
            .map_err(|e| {
                Why(format!(
                    "certificate signature by {:?}: {e}",
                    issuer.subject_name()
                ))
            })
    }

    /// The subject alternative names: e-mail addresses and URIs (Fulcio's identities).
    pub fn san_identities(&self) -> Vec<String> {
        use x509_cert::ext::pkix::{SubjectAltName, name::GeneralName};
        let Ok(Some((_, san))) = self
            .cert
            .tbs_certificate()
            .get_extension::<SubjectAltName>()
        else {
            return Vec::new();
        };
        san.0
            .iter()
            .filter_map(|n| match n {
                GeneralName::Rfc822Name(s) => Some(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => Some(s.to_string()),
                GeneralName::DnsName(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// The OIDC issuer Fulcio recorded.
    pub fn oidc_issuer(&self) -> Option<String> {
        let exts = self.cert.tbs_certificate().extensions()?;
        let find = |oid: &str| exts.iter().find(|e| e.extn_id.to_string() == oid);
        if let Some(e) = find(OID_ISSUER_V2) {
            return der::asn1::Utf8StringRef::from_der(e.extn_value.as_bytes())
                .ok()
                .map(|s| s.as_str().to_string());
        }
        find(OID_ISSUER_V1).map(|e| String::from_utf8_lossy(e.extn_value.as_bytes()).into_owned())
    }

    fn has_code_signing(&self) -> bool {
        self.cert
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()
            .ok()
            .flatten()
            .is_some_and(|(_, eku)| eku.0.iter().any(|o| o.to_string() == OID_CODE_SIGNING))
    }
}

fn time_text(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

/// Verify `leaf` (a code-signing certificate) up to one of `authorities` (each a chain,
/// issuing certificate first, root last), every certificate valid at `at`. Returns the
/// root's subject.
pub fn verify_chain(leaf: &Cert, authorities: &[Vec<Cert>], at: i64) -> Result<String, Why> {
    let (nb, na) = leaf.validity();
    if at < nb || at > na {
        return Err(Why(format!(
            "the certificate was not valid at {} (valid {} to {}): expired or not yet valid",
            time_text(at),
            time_text(nb),
            time_text(na)
        )));
    }
    if !leaf.has_code_signing() {
        return Err("the certificate lacks the code-signing extended key usage".into());
    }
    let mut reasons = Vec::new();
    'ca: for chain in authorities {
        let Some(first) = chain.first() else { continue };
        if let Err(e) = leaf.verify_signed_by(first) {
            reasons.push(e.0);
            continue;
        }
        for (i, c) in chain.iter().enumerate() {
            let (nb, na) = c.validity();
            if at < nb || at > na {
                reasons.push(format!(
                    "CA {:?} was not valid at {}",
                    c.subject_name(),
                    time_text(at)
                ));
                continue 'ca;
            }
            if !c.is_ca() {
                reasons.push(format!("{:?} is not a CA certificate", c.subject_name()));
                continue 'ca;
            }
            let issuer = chain.get(i + 1).unwrap_or(c);
            if let Err(e) = c.verify_signed_by(issuer) {
                reasons.push(e.0);
                continue 'ca;
            }
        }
        return Ok(chain.last().map(|c| c.subject_name()).unwrap_or_default());
    }
    if authorities.is_empty() {
        return Err("the trusted root has no certificate authority".into());
    }
    Err(Why(format!(
        "the certificate does not chain to the trusted root: {}",
        reasons.join("; ")
    )))
}
