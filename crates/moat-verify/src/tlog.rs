//! Transparency-log (Rekor) evidence, checked offline against the trusted root: the
//! signed entry timestamp (SET, the log's promise to include the entry) and the
//! RFC 6962 inclusion proof with its signed checkpoint; then that the entry's body is
//! about this signature.

use crate::cosign::b64;
use crate::error::Why;
use crate::keys::Hash;
use crate::trust::TrustedRoot;
use base64::Engine;
use sha2_11::{Digest, Sha256};

/// One log entry, from a cosign bundle annotation or a Sigstore bundle.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The canonicalized body, base64 as the log gave it.
    pub body_b64: String,
    pub integrated_time: i64,
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub set: Option<Vec<u8>>,
    pub proof: Option<Proof>,
}

#[derive(Debug, Clone)]
pub struct Proof {
    pub log_index: i64,
    pub root_hash: Vec<u8>,
    pub tree_size: i64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

impl Entry {
    pub fn body(&self) -> Result<Vec<u8>, Why> {
        b64(&self.body_b64).map_err(|e| Why(format!("log entry body: {e}")))
    }
}

/// Verify the entry's SET and/or inclusion proof; returns what was verified.
pub fn verify(e: &Entry, root: &TrustedRoot) -> Result<String, Why> {
    let log = root.tlog(&e.log_id).ok_or_else(|| {
        Why(format!(
            "the log entry is from log {}, which the trusted root does not know",
            hex::encode(&e.log_id)
        ))
    })?;
    if log.valid_from.is_some_and(|f| e.integrated_time < f)
        || log.valid_to.is_some_and(|t| e.integrated_time > t)
    {
        return Err("the log entry's time is outside the log key's validity".into());
    }
    let mut done = Vec::new();
    if let Some(set) = &e.set {
        // The canonical JSON of the entry (keys sorted, no spaces), as Rekor signs it.
        let canonical = format!(
            "{{\"body\":{},\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
            serde_json::Value::String(e.body_b64.clone()),
            e.integrated_time,
            hex::encode(&e.log_id),
            e.log_index
        );
        log.key
            .verify(canonical.as_bytes(), set, Hash::Sha256)
            .map_err(|w| Why(format!("signed entry timestamp: {w}")))?;
        done.push(format!("SET (log index {})", e.log_index));
    }
    if let Some(p) = &e.proof {
        let leaf = {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(e.body()?);
            h.finalize().to_vec()
        };
        let r = root_from_proof(p.log_index, p.tree_size, &leaf, &p.hashes)?;
        if r != p.root_hash {
            return Err(
                "inclusion proof: the computed root does not match the proof's root hash".into(),
            );
        }
        match &p.checkpoint {
            Some(cp) => {
                verify_checkpoint(cp, p, &log.key)?;
                done.push(format!(
                    "inclusion proof (index {} of {}, signed checkpoint)",
                    p.log_index, p.tree_size
                ));
            }
            None if e.set.is_some() => done.push("inclusion proof (no checkpoint)".into()),
            None => return Err("inclusion proof without a signed checkpoint and no SET".into()),
        }
    }
    if done.is_empty() {
        return Err(
            "the log entry has neither a signed entry timestamp nor an inclusion proof".into(),
        );
    }
    Ok(done.join(", "))
}

fn node(l: &[u8], r: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().to_vec()
}

/// RFC 9162 §2.1.3.2: the root a leaf and its audit path lead to.
pub fn root_from_proof(
    index: i64,
    size: i64,
    leaf: &[u8],
    path: &[Vec<u8>],
) -> Result<Vec<u8>, Why> {
    if index < 0 || size <= 0 || index >= size {
        return Err(Why(format!(
            "inclusion proof: index {index} outside a tree of {size}"
        )));
    }
    let (mut f, mut s) = (index as u64, (size - 1) as u64);
    let mut r = leaf.to_vec();
    for p in path {
        if s == 0 {
            return Err("inclusion proof: too many hashes".into());
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err("inclusion proof: too few hashes".into());
    }
    Ok(r)
}

/// A signed note: `ORIGIN\nSIZE\nBASE64(ROOT)\n[other lines]\n\n— NAME BASE64(HINT||SIG)\n`.
fn verify_checkpoint(text: &str, p: &Proof, key: &crate::keys::PublicKey) -> Result<(), Why> {
    let (body, sigs) = text
        .split_once("\n\n")
        .ok_or_else(|| Why::from("checkpoint: not a signed note"))?;
    let signed = format!("{body}\n");
    let mut lines = body.lines();
    let _origin = lines.next();
    let size: i64 = lines
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Why::from("checkpoint: no tree size"))?;
    let root = lines
        .next()
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
        .ok_or_else(|| Why::from("checkpoint: no root hash"))?;
    if size != p.tree_size || root != p.root_hash {
        return Err("checkpoint: tree size or root hash differ from the inclusion proof".into());
    }
    for l in sigs.lines() {
        let Some(rest) = l.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some((_, sig)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(sig) else {
            continue;
        };
        if raw.len() > 4
            && key
                .verify(signed.as_bytes(), &raw[4..], Hash::Sha256)
                .is_ok()
        {
            return Ok(());
        }
    }
    Err("checkpoint: no signature by the log's key".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(b: &[u8]) -> Vec<u8> {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(b);
        h.finalize().to_vec()
    }

    #[test]
    fn inclusion_proofs_of_a_five_leaf_tree() {
        let l: Vec<Vec<u8>> = (0..5u8).map(|i| leaf(&[i])).collect();
        let n01 = node(&l[0], &l[1]);
        let n23 = node(&l[2], &l[3]);
        let n0123 = node(&n01, &n23);
        let root = node(&n0123, &l[4]);
        assert_eq!(
            root_from_proof(2, 5, &l[2], &[l[3].clone(), n01.clone(), l[4].clone()]).unwrap(),
            root
        );
        assert_eq!(
            root_from_proof(4, 5, &l[4], std::slice::from_ref(&n0123)).unwrap(),
            root
        );
        assert_ne!(
            root_from_proof(4, 5, &l[3], std::slice::from_ref(&n0123)).unwrap(),
            root
        );
        assert!(root_from_proof(5, 5, &l[4], &[n0123]).is_err());
    }
}
